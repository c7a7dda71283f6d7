;; badsig_route: an authorisation plugin whose optional hlsrelay_route has
;; the wrong signature (every export the ABI names is checked).
(module
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0))
  (func (export "hlsrelay_route") (result i64) (i64.const 0)))
