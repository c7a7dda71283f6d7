;; badsig_authorize: hlsrelay_authorize takes a parameter.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (param i32) (result i32) (i32.const 0)))
