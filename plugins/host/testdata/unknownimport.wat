;; unknownimport: imports a function the host does not offer.
(module
  (import "hlsrelay" "open_socket" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
