;; selftesttrap: loads and initialises, but every call traps, so the load
;; self-test refuses it.
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32) unreachable))
