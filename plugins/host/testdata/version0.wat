;; version0: returns 0, not a version.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 0))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
