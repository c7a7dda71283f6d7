;; start: a start function sets a flag that authorize checks (the host runs
;; the start function itself, under the init deadline).
(module
  (import "hlsrelay" "decision_allow" (func $allow))
  (memory (export "memory") 1)
  (global $started (mut i32) (i32.const 0))
  (func $start (global.set $started (i32.const 1)))
  (start $start)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32)
    (if (global.get $started) (then (call $allow)))
    (i32.const 0)))
