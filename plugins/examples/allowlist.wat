;; allowlist: an hlsrelay authorisation plugin written by hand in the
;; WebAssembly text format, from docs/plugins.md alone (ABI version 1).
;;
;; Its configuration is a list of stream-id prefixes, one per line. A PULL of
;; a stream whose id starts with one of them is allowed; any other PULL is
;; denied with AUTH_ERROR; every PUSH is denied. Prefixes are compared byte
;; for byte: end one with "/" to allow a "directory" ("room1/" allows
;; "room1/cam" but not "room10/cam"). Spaces, tabs and a "\r" around a line
;; are ignored, as are empty lines and lines starting with "#".
;;
;; Each decision is logged at debug, and may be cached by the relay for a
;; minute: it depends only on the action, the stream and the configuration.
;;
;; Build: wat2wasm allowlist.wat -o allowlist.wasm

(module
  ;; The host imports this plugin uses (module "hlsrelay").
  (import "hlsrelay" "field_get" (func $field_get (param i32 i32 i32) (result i32)))
  (import "hlsrelay" "decision_allow" (func $decision_allow))
  (import "hlsrelay" "decision_deny" (func $decision_deny (param i32 i32 i32 i32)))
  (import "hlsrelay" "decision_cache" (func $decision_cache (param i64)))
  (import "hlsrelay" "log" (func $log (param i32 i32 i32)))

  ;; Memory: 2 pages (128 KiB), laid out as
  ;;      16     action (16 bytes)
  ;;    1024     constant strings (the data segments below)
  ;;    4096     stream id (4096 bytes)
  ;;    8192     log line being built (at most 64 + 4096 bytes)
  ;;   65536     configuration (at most 65536 bytes)
  (memory (export "memory") 2)

  (global $action i32 (i32.const 16))
  (global $stream i32 (i32.const 4096))
  (global $stream_cap i32 (i32.const 4096))
  (global $line i32 (i32.const 8192))
  (global $config i32 (i32.const 65536))
  (global $config_cap i32 (i32.const 65536))
  ;; Length of the configuration, set by hlsrelay_init.
  (global $config_len (mut i32) (i32.const 0))

  ;; Field ids and log level, from docs/plugins.md.
  (global $FIELD_ACTION i32 (i32.const 1))
  (global $FIELD_STREAM i32 (i32.const 2))
  (global $FIELD_CONFIG i32 (i32.const 6))
  (global $LOG_DEBUG i32 (i32.const 0))
  (global $LOG_ERROR i32 (i32.const 3))

  ;; Constant strings: address and length of each.
  (data (i32.const 1024) "AUTH_ERROR")                                    ;; 10
  (data (i32.const 1040) "publishing is not allowed on this node")        ;; 38
  (data (i32.const 1088) "stream is not under an allowed prefix")         ;; 37
  (data (i32.const 1136) "unknown action")                                ;; 14
  (data (i32.const 1152) "allowlist: allow PULL ")                        ;; 22
  (data (i32.const 1184) "allowlist: deny PULL ")                         ;; 21
  (data (i32.const 1216) "allowlist: deny PUSH ")                         ;; 21
  (data (i32.const 1248) "allowlist: deny ")                              ;; 16
  (data (i32.const 1280) "allowlist: the configuration is longer than 64 KiB") ;; 50

  ;; The ABI marker: this module follows version 1.
  (func (export "hlsrelay_abi_version") (result i32)
    (i32.const 1))

  ;; Called once per instance: copy the configuration into memory.
  (func (export "hlsrelay_init") (result i32)
    (local $n i32)
    (local.set $n
      (call $field_get (global.get $FIELD_CONFIG) (global.get $config) (global.get $config_cap)))
    ;; -1: no configuration, so no prefix: every PULL is denied.
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (return (i32.const 0))))
    ;; Longer than the buffer: nothing was copied; refuse the plugin.
    (if (i32.gt_s (local.get $n) (global.get $config_cap))
      (then
        (call $log (global.get $LOG_ERROR) (i32.const 1280) (i32.const 50))
        (return (i32.const 1))))
    (global.set $config_len (local.get $n))
    (i32.const 0))

  ;; Called for each PUSH and PULL: decide, and return 0.
  (func (export "hlsrelay_authorize") (result i32)
    (local $action_len i32)
    (local $stream_len i32)
    (local $word i32)
    (local.set $action_len
      (call $field_get (global.get $FIELD_ACTION) (global.get $action) (i32.const 16)))
    (local.set $stream_len
      (call $field_get (global.get $FIELD_STREAM) (global.get $stream) (global.get $stream_cap)))
    ;; A stream id longer than the buffer (it cannot be: at most 255
    ;; characters) or absent is logged as empty and denied below.
    (if (i32.or (i32.lt_s (local.get $stream_len) (i32.const 0))
                (i32.gt_s (local.get $stream_len) (global.get $stream_cap)))
      (then (local.set $stream_len (i32.const -1))))

    ;; The action is "PUSH" or "PULL": compare its 4 bytes as one
    ;; little-endian i32 ("PUSH" = 0x48535550, "PULL" = 0x4c4c5550).
    (local.set $word (i32.load (global.get $action)))
    (if (i32.ne (local.get $action_len) (i32.const 4))
      (then (local.set $word (i32.const 0))))

    (if (i32.eq (local.get $word) (i32.const 0x48535550)) ;; PUSH
      (then
        (call $decision_deny (i32.const 1024) (i32.const 10) (i32.const 1040) (i32.const 38))
        (call $decision_cache (i64.const 60000))
        (call $log_decision (i32.const 1216) (i32.const 21) (local.get $stream_len))
        (return (i32.const 0))))

    (if (i32.ne (local.get $word) (i32.const 0x4c4c5550)) ;; not PULL either
      (then
        (call $decision_deny (i32.const 1024) (i32.const 10) (i32.const 1136) (i32.const 14))
        (call $log_decision (i32.const 1248) (i32.const 16) (local.get $stream_len))
        (return (i32.const 0))))

    ;; (A negative length never reaches $allowed: "if" evaluates it only
    ;; when the stream was read.)
    (if (if (result i32) (i32.ge_s (local.get $stream_len) (i32.const 0))
          (then (call $allowed (local.get $stream_len)))
          (else (i32.const 0)))
      (then
        (call $decision_allow)
        (call $decision_cache (i64.const 60000))
        (call $log_decision (i32.const 1152) (i32.const 22) (local.get $stream_len)))
      (else
        (call $decision_deny (i32.const 1024) (i32.const 10) (i32.const 1088) (i32.const 37))
        (call $decision_cache (i64.const 60000))
        (call $log_decision (i32.const 1184) (i32.const 21) (local.get $stream_len))))
    (i32.const 0))

  ;; $allowed reports whether the stream id (stream_len bytes at $stream)
  ;; starts with one of the configured prefixes.
  (func $allowed (param $stream_len i32) (result i32)
    (local $pos i32)    ;; start of the current line
    (local $end i32)    ;; end of the configuration
    (local $eol i32)    ;; the line's "\n", or $end
    (local $first i32)  ;; the line without surrounding white space:
    (local $last i32)   ;;   bytes [$first, $last)
    (local.set $pos (global.get $config))
    (local.set $end (i32.add (global.get $config) (global.get $config_len)))
    (block $done
      (loop $next_line
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        ;; Find the end of the line.
        (local.set $eol (local.get $pos))
        (block $found
          (loop $scan
            (br_if $found (i32.ge_u (local.get $eol) (local.get $end)))
            (br_if $found (i32.eq (i32.load8_u (local.get $eol)) (i32.const 10)))
            (local.set $eol (i32.add (local.get $eol) (i32.const 1)))
            (br $scan)))
        ;; Trim spaces, tabs and "\r" at both ends.
        (local.set $first (local.get $pos))
        (local.set $last (local.get $eol))
        (block $trimmed
          (loop $trim_front
            (br_if $trimmed (i32.ge_u (local.get $first) (local.get $last)))
            (br_if $trimmed (i32.eqz (call $is_blank (i32.load8_u (local.get $first)))))
            (local.set $first (i32.add (local.get $first) (i32.const 1)))
            (br $trim_front)))
        (block $trimmed
          (loop $trim_back
            (br_if $trimmed (i32.ge_u (local.get $first) (local.get $last)))
            (br_if $trimmed (i32.eqz (call $is_blank (i32.load8_u (i32.sub (local.get $last) (i32.const 1))))))
            (local.set $last (i32.sub (local.get $last) (i32.const 1)))
            (br $trim_back)))
        ;; A non-empty line that is not a comment is a prefix.
        (if (i32.and (i32.lt_u (local.get $first) (local.get $last))
                     (i32.ne (i32.load8_u (local.get $first)) (i32.const 35))) ;; '#'
          (then
            (if (call $has_prefix (local.get $stream_len) (local.get $first)
                                  (i32.sub (local.get $last) (local.get $first)))
              (then (return (i32.const 1))))))
        (local.set $pos (i32.add (local.get $eol) (i32.const 1)))
        (br $next_line)))
    (i32.const 0))

  ;; $has_prefix reports whether the stream id starts with the n bytes at p.
  (func $has_prefix (param $stream_len i32) (param $p i32) (param $n i32) (result i32)
    (local $i i32)
    (if (i32.gt_u (local.get $n) (local.get $stream_len))
      (then (return (i32.const 0))))
    (block $differ
      (loop $compare
        (if (i32.ge_u (local.get $i) (local.get $n))
          (then (return (i32.const 1))))
        (br_if $differ
          (i32.ne (i32.load8_u (i32.add (global.get $stream) (local.get $i)))
                  (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $compare)))
    (i32.const 0))

  (func $is_blank (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32))   ;; ' '
                    (i32.eq (local.get $c) (i32.const 9)))   ;; '\t'
            (i32.eq (local.get $c) (i32.const 13))))         ;; '\r'

  ;; $log_decision logs, at debug, the n bytes at p followed by the stream
  ;; id (nothing if stream_len is negative).
  (func $log_decision (param $p i32) (param $n i32) (param $stream_len i32)
    (local $i i32)
    (if (i32.lt_s (local.get $stream_len) (i32.const 0))
      (then (local.set $stream_len (i32.const 0))))
    ;; Copy byte by byte (no bulk-memory instructions: this module is plain
    ;; WebAssembly 1.0).
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (global.get $line) (local.get $i))
                    (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $stream_len)))
        (i32.store8 (i32.add (global.get $line) (i32.add (local.get $n) (local.get $i)))
                    (i32.load8_u (i32.add (global.get $stream) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (call $log (global.get $LOG_DEBUG) (global.get $line)
               (i32.add (local.get $n) (local.get $stream_len))))
)
