;; badsig_version: the marker returns i64.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i64) (i64.const 1))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
