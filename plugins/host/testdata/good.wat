;; good: the happy-path and benchmark plugin. Allows a stream whose id
;; starts with the configuration (e.g. "public/"), denies any other with
;; FORBIDDEN, marks its decisions cacheable for 60 s, and routes local then
;; registry.
(module
  (import "hlsrelay" "field_get" (func $field_get (param i32 i32 i32) (result i32)))
  (import "hlsrelay" "decision_allow" (func $allow))
  (import "hlsrelay" "decision_deny" (func $deny (param i32 i32 i32 i32)))
  (import "hlsrelay" "decision_cache" (func $cache (param i64)))
  (import "hlsrelay" "route_local" (func $route_local))
  (import "hlsrelay" "route_registry" (func $route_registry))
  (memory (export "memory") 1)
  (data (i32.const 0) "FORBIDDEN")
  (data (i32.const 16) "stream is not public")
  ;; the prefix (configuration) lives at 1024, the stream at 2048
  (global $prefix_len (mut i32) (i32.const 0))

  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))

  ;; Reads the configuration once per instance; refuses one over 256 bytes.
  (func (export "hlsrelay_init") (result i32)
    (global.set $prefix_len (call $field_get (i32.const 6) (i32.const 1024) (i32.const 256)))
    (i32.gt_u (global.get $prefix_len) (i32.const 256)))

  (func $has_prefix (param $n i32) (result i32)
    (local $i i32)
    (if (i32.gt_u (local.get $n) (i32.const 1024)) (then (return (i32.const 0))))
    (if (i32.lt_u (local.get $n) (global.get $prefix_len)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $prefix_len)))
        (if (i32.ne (i32.load8_u (i32.add (i32.const 2048) (local.get $i)))
                    (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func (export "hlsrelay_authorize") (result i32)
    (call $cache (i64.const 60000))
    (if (call $has_prefix (call $field_get (i32.const 2) (i32.const 2048) (i32.const 1024)))
      (then (call $allow))
      (else (call $deny (i32.const 0) (i32.const 9) (i32.const 16) (i32.const 20))))
    (i32.const 0))

  (func (export "hlsrelay_route") (result i32)
    (call $route_local)
    (call $route_registry)
    (i32.const 0)))
