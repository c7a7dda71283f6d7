;; noauthorize: a routing plugin; refused for authorisation.
(module
  (import "hlsrelay" "route_local" (func $local))
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_route") (result i32) (call $local) (i32.const 0)))
