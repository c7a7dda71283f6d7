;; foreignimport: imports from a module that is neither hlsrelay nor WASI.
(module
  (import "env" "abort" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "hlsrelay_abi_version") (result i32) (i32.const 1))
  (func (export "hlsrelay_authorize") (result i32) (i32.const 0)))
