//go:build !wasip1

package hostcall

import "unsafe"

// Outside a wasip1 plugin there is no host: these stand-ins let the kit
// compile (for documentation, vet and the unit tests of its pure helpers)
// and fail loudly if called.

// noHost panics. (Through a variable, so that tools such as staticcheck do
// not conclude that code calling the kit is unreachable.)
func noHost() {
	if !hostPresent {
		panic("pdk: host imports exist only in a plugin built with GOOS=wasip1 GOARCH=wasm")
	}
}

var hostPresent = false

func FieldGet(int32, unsafe.Pointer, int32) int32                       { noHost(); return 0 }
func HeaderGet(unsafe.Pointer, int32, unsafe.Pointer, int32) int32      { noHost(); return 0 }
func QueryGet(unsafe.Pointer, int32, unsafe.Pointer, int32) int32       { noHost(); return 0 }
func DecisionAllow()                                                    { noHost() }
func DecisionDeny(unsafe.Pointer, int32, unsafe.Pointer, int32)         { noHost() }
func DecisionCache(int64)                                               { noHost() }
func RouteLocal()                                                       { noHost() }
func RouteRegistry()                                                    { noHost() }
func RouteUpstream(unsafe.Pointer, int32)                               { noHost() }
func RouteReject(unsafe.Pointer, int32, unsafe.Pointer, int32)          { noHost() }
func TimeNowMs() int64                                                  { noHost(); return 0 }
func RegistryLookup(unsafe.Pointer, int32, unsafe.Pointer, int32) int32 { noHost(); return 0 }
func Log(int32, unsafe.Pointer, int32)                                  { noHost() }
func SignatureVerify(int32, unsafe.Pointer, int32, unsafe.Pointer, int32, unsafe.Pointer, int32) int32 {
	noHost()
	return 0
}
