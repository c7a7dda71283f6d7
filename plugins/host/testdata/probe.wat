;; probe: exercises every host import and every runtime fault, chosen by the
;; request's token. Its first byte is the command, the rest the argument. An
;; empty token allows (authorize) or routes local then registry (route).
;;
;; Answers are denials whose code says what happened and whose reason
;; carries the value: "FOUND" + value, "ABSENT", "UNAVAILABLE", "DENIED".
;;
;; authorize commands:
;;   F<d>    field_get(d)              H<name> header_get     Q<name> query_get
;;   R<key>  registry_lookup           T       time_now_ms (decimal)
;;   V<d>    signature_verify(alg d, query k, m, s) -> SIG_1, SIG_0, SIG_M2, SIG_M4
;;   D<code> deny with code, reason from query "reason"
;;   W       deny then allow (last wins)  N  no decision   C  allow, cache 60 s
;;   c       deny, cache 1 s           l<msg> log at info, allow
;;   M       log 200 lines, allow      w  write to WASI stdout, allow
;;   I       READY if _initialize ran  a  route_local during authorize
;;   L loop forever  U unreachable  G grow memory until it fails, then trap
;;   X return 7   E proc_exit(3)   O field_get into an out-of-range buffer
;;   o deny with an out-of-range reason   S spin for 20 ms then allow
;; route commands:
;;   u<url> route_upstream   n 100 sources   r<code> reject   x return 1
;;   A decision_allow during route   L loop forever
(module
  (import "hlsrelay" "field_get" (func $field_get (param i32 i32 i32) (result i32)))
  (import "hlsrelay" "header_get" (func $header_get (param i32 i32 i32 i32) (result i32)))
  (import "hlsrelay" "query_get" (func $query_get (param i32 i32 i32 i32) (result i32)))
  (import "hlsrelay" "decision_allow" (func $allow))
  (import "hlsrelay" "decision_deny" (func $deny (param i32 i32 i32 i32)))
  (import "hlsrelay" "decision_cache" (func $cache (param i64)))
  (import "hlsrelay" "route_local" (func $route_local))
  (import "hlsrelay" "route_registry" (func $route_registry))
  (import "hlsrelay" "route_upstream" (func $route_upstream (param i32 i32)))
  (import "hlsrelay" "route_reject" (func $route_reject (param i32 i32 i32 i32)))
  (import "hlsrelay" "time_now_ms" (func $now (result i64)))
  (import "hlsrelay" "signature_verify" (func $verify (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "hlsrelay" "registry_lookup" (func $lookup (param i32 i32 i32 i32) (result i32)))
  (import "hlsrelay" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "FOUND")
  (data (i32.const 8) "ABSENT")
  (data (i32.const 16) "UNAVAILABLE")
  (data (i32.const 32) "DENIED")
  (data (i32.const 40) "TIME")
  (data (i32.const 48) "SIG_1")
  (data (i32.const 56) "SIG_0")
  (data (i32.const 64) "SIG_M2")
  (data (i32.const 72) "SIG_M4")
  (data (i32.const 80) "SIG_X")
  (data (i32.const 96) "kmsreason")
  (data (i32.const 112) "spam")
  (data (i32.const 120) "hello\nworld\n")
  (data (i32.const 136) "no")
  (data (i32.const 144) "READY")
  (data (i32.const 152) "NOTREADY")
  (data (i32.const 168) "ws://up.example:8080/ws")
  ;; 256: iovec, 264: nwritten, 1024: decimal scratch, 4096: token (cap 4096),
  ;; 8192: values (cap 8192), 16384: key, 20480: message, 24576: signature
  (global $tn (mut i32) (i32.const 0))
  (global $ready (mut i32) (i32.const 0))

  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "_initialize") (global.set $ready (i32.const 1)))

  (func $cmd (result i32)
    (global.set $tn (call $field_get (i32.const 3) (i32.const 4096) (i32.const 4096)))
    (if (i32.gt_s (global.get $tn) (i32.const 4096)) (then unreachable))
    (if (i32.le_s (global.get $tn) (i32.const 0)) (then (return (i32.const 0))))
    (i32.load8_u (i32.const 4096)))

  ;; answer reports a look-up result n (a length, or -1, -2, -3) of a value
  ;; copied to 8192.
  (func $answer (param $n i32)
    (if (i32.ge_s (local.get $n) (i32.const 0))
      (then (call $deny (i32.const 0) (i32.const 5) (i32.const 8192)
                        (select (local.get $n) (i32.const 8192) (i32.le_s (local.get $n) (i32.const 8192))))
            (return)))
    (if (i32.eq (local.get $n) (i32.const -1))
      (then (call $deny (i32.const 8) (i32.const 6) (i32.const 0) (i32.const 0)) (return)))
    (if (i32.eq (local.get $n) (i32.const -2))
      (then (call $deny (i32.const 16) (i32.const 11) (i32.const 0) (i32.const 0)) (return)))
    (call $deny (i32.const 32) (i32.const 6) (i32.const 0) (i32.const 0)))

  ;; query fetches query parameter (name at p, 1 byte) into buf, cap c.
  (func $query (param $p i32) (param $l i32) (param $buf i32) (param $c i32) (result i32)
    (local $n i32)
    (local.set $n (call $query_get (local.get $p) (local.get $l) (local.get $buf) (local.get $c)))
    (select (local.get $n) (i32.const 0) (i32.ge_s (local.get $n) (i32.const 0))))

  (func $decimal (param $v i64) (result i32) ;; writes v backwards ending at 1056, returns length
    (local $p i32)
    (local.set $p (i32.const 1056))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (i32.sub (i32.const 1056) (local.get $p)))

  (func $spin (param $ms i64)
    (local $end i64)
    (local.set $end (i64.add (call $now) (local.get $ms)))
    (loop $wait (br_if $wait (i64.lt_s (call $now) (local.get $end)))))

  (func (export "hlsrelay_authorize") (result i32)
    (local $c i32) (local $n i32) (local $i i32) (local $r i32)
    (local.set $c (call $cmd))
    (if (i32.eqz (local.get $c)) (then (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 70)) ;; F
      (then (call $answer (call $field_get (i32.sub (i32.load8_u (i32.const 4097)) (i32.const 48))
                                           (i32.const 8192) (i32.const 8192)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 72)) ;; H
      (then (call $answer (call $header_get (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1))
                                            (i32.const 8192) (i32.const 8192)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 81)) ;; Q
      (then (call $answer (call $query_get (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1))
                                           (i32.const 8192) (i32.const 8192)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 82)) ;; R
      (then (call $answer (call $lookup (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1))
                                        (i32.const 8192) (i32.const 8192)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 84)) ;; T
      (then (local.set $n (call $decimal (call $now)))
            (call $deny (i32.const 40) (i32.const 4) (i32.sub (i32.const 1056) (local.get $n)) (local.get $n))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 86)) ;; V
      (then (local.set $r (call $verify (i32.sub (i32.load8_u (i32.const 4097)) (i32.const 48))
              (i32.const 16384) (call $query (i32.const 96) (i32.const 1) (i32.const 16384) (i32.const 4096))
              (i32.const 20480) (call $query (i32.const 97) (i32.const 1) (i32.const 20480) (i32.const 4096))
              (i32.const 24576) (call $query (i32.const 98) (i32.const 1) (i32.const 24576) (i32.const 1024))))
            (local.set $n (i32.const 80))
            (if (i32.eq (local.get $r) (i32.const 1)) (then (local.set $n (i32.const 48))))
            (if (i32.eq (local.get $r) (i32.const 0)) (then (local.set $n (i32.const 56))))
            (if (i32.eq (local.get $r) (i32.const -2)) (then (local.set $n (i32.const 64))))
            (if (i32.eq (local.get $r) (i32.const -4)) (then (local.set $n (i32.const 72))))
            (call $deny (local.get $n) (select (i32.const 5) (i32.const 6) (i32.lt_u (local.get $n) (i32.const 64)))
                        (i32.const 0) (i32.const 0))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 68)) ;; D
      (then (call $deny (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1))
                        (i32.const 8192) (call $query (i32.const 99) (i32.const 6) (i32.const 8192) (i32.const 8192)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 87)) ;; W
      (then (call $deny (i32.const 32) (i32.const 6) (i32.const 0) (i32.const 0)) (call $allow)
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 78)) (then (return (i32.const 0)))) ;; N
    (if (i32.eq (local.get $c) (i32.const 67)) ;; C
      (then (call $allow) (call $cache (i64.const 60000)) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 99)) ;; c
      (then (call $deny (i32.const 32) (i32.const 6) (i32.const 0) (i32.const 0)) (call $cache (i64.const 1000))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 108)) ;; l
      (then (call $log (i32.const 1) (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1)))
            (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 77)) ;; M
      (then (loop $more
              (call $log (i32.const 0) (i32.const 112) (i32.const 4))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 200))))
            (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 119)) ;; w
      (then (i32.store (i32.const 256) (i32.const 120))
            (i32.store (i32.const 260) (i32.const 12))
            (drop (call $fd_write (i32.const 1) (i32.const 256) (i32.const 1) (i32.const 264)))
            (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 73)) ;; I
      (then (if (global.get $ready)
              (then (call $deny (i32.const 144) (i32.const 5) (i32.const 0) (i32.const 0)))
              (else (call $deny (i32.const 152) (i32.const 8) (i32.const 0) (i32.const 0))))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 97)) ;; a
      (then (call $route_local) (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 76)) ;; L
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $c) (i32.const 85)) (then unreachable)) ;; U
    (if (i32.eq (local.get $c) (i32.const 71)) ;; G
      (then (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
            unreachable))
    (if (i32.eq (local.get $c) (i32.const 88)) (then (return (i32.const 7)))) ;; X
    (if (i32.eq (local.get $c) (i32.const 69)) (then (call $proc_exit (i32.const 3)))) ;; E
    (if (i32.eq (local.get $c) (i32.const 79)) ;; O
      (then (drop (call $field_get (i32.const 2) (i32.const 0xfffffff0) (i32.const 64)))
            (call $allow) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 111)) ;; o
      (then (call $deny (i32.const 32) (i32.const 6) (i32.const 65000) (i32.const 1000))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 83)) ;; S
      (then (call $spin (i64.const 20)) (call $allow) (return (i32.const 0))))
    (call $allow)
    (i32.const 0))

  (func (export "hlsrelay_route") (result i32)
    (local $c i32) (local $i i32)
    (local.set $c (call $cmd))
    (if (i32.eqz (local.get $c))
      (then (call $route_local) (call $route_registry) (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 117)) ;; u
      (then (call $route_local)
            (call $route_upstream (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1)))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 110)) ;; n
      (then (loop $more
              (call $route_upstream (i32.const 168) (i32.const 23))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 100))))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 114)) ;; r
      (then (call $route_local)
            (call $route_reject (i32.const 4097) (i32.sub (global.get $tn) (i32.const 1)) (i32.const 136) (i32.const 2))
            (return (i32.const 0))))
    (if (i32.eq (local.get $c) (i32.const 120)) (then (return (i32.const 1)))) ;; x
    (if (i32.eq (local.get $c) (i32.const 65)) (then (call $allow) (return (i32.const 0)))) ;; A
    (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever)))) ;; L
    (call $route_local)
    (i32.const 0)))
