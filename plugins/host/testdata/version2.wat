;; version2: asks for ABI version 2, which this host does not support.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 2))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
