;; inittrap: hlsrelay_init traps.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_init") (result i32) unreachable)
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
