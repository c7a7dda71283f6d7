;; badsig_init: hlsrelay_init returns nothing.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_init"))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
