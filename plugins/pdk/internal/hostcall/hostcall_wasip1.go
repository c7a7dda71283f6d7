//go:build wasip1

package hostcall

import "unsafe"

// The imports of module "hlsrelay", as docs/plugins.md states them.

//go:wasmimport hlsrelay field_get
func FieldGet(field int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport hlsrelay header_get
func HeaderGet(name unsafe.Pointer, nameLen int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport hlsrelay query_get
func QueryGet(name unsafe.Pointer, nameLen int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport hlsrelay decision_allow
func DecisionAllow()

//go:wasmimport hlsrelay decision_deny
func DecisionDeny(code unsafe.Pointer, codeLen int32, reason unsafe.Pointer, reasonLen int32)

//go:wasmimport hlsrelay decision_cache
func DecisionCache(ttlMs int64)

//go:wasmimport hlsrelay route_local
func RouteLocal()

//go:wasmimport hlsrelay route_registry
func RouteRegistry()

//go:wasmimport hlsrelay route_upstream
func RouteUpstream(url unsafe.Pointer, urlLen int32)

//go:wasmimport hlsrelay route_reject
func RouteReject(code unsafe.Pointer, codeLen int32, reason unsafe.Pointer, reasonLen int32)

//go:wasmimport hlsrelay time_now_ms
func TimeNowMs() int64

//go:wasmimport hlsrelay signature_verify
func SignatureVerify(alg int32, key unsafe.Pointer, keyLen int32, msg unsafe.Pointer, msgLen int32, sig unsafe.Pointer, sigLen int32) int32

//go:wasmimport hlsrelay registry_lookup
func RegistryLookup(key unsafe.Pointer, keyLen int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport hlsrelay log
func Log(level int32, msg unsafe.Pointer, msgLen int32)
