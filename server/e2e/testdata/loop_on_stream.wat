;; A deliberately faulty authorisation plugin for the relay's fault tests:
;; it loops forever when the stream id is "loop", and allows everything else.
(module
  (import "hlsrelay" "field_get" (func $field_get (param i32 i32 i32) (result i32)))
  (import "hlsrelay" "decision_allow" (func $allow))
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32)
    (local $len i32)
    ;; stream id (field 2) into offset 0, up to 256 bytes
    (local.set $len (call $field_get (i32.const 2) (i32.const 0) (i32.const 256)))
    (if (i32.and
          (i32.eq (local.get $len) (i32.const 4))
          (i32.eq (i32.load (i32.const 0)) (i32.const 0x706f6f6c))) ;; "loop" little-endian
      (then (loop $forever (br $forever))))
    (call $allow)
    (i32.const 0)))
