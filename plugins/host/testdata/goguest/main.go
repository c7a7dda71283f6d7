//go:build wasip1

// Command goguest is a Go plugin for the host's tests, built by them with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared: it checks that a real Go
// runtime (its scheduler, garbage collector and sleeping) runs under the
// host's instrumentation and deadlines. The token selects what it does:
// "" allows, "loop" spins forever, "alloc" allocates 32 MiB of garbage
// then allows, "sleep" sleeps a second then allows, "panic" panics.
package main

import (
	"time"
	"unsafe"
)

//go:wasmimport hlsrelay field_get
func fieldGet(field int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport hlsrelay decision_allow
func allow()

//go:wasmexport hlsrelay_abi_version
func version() int32 { return 1 }

var (
	buf  [256]byte
	sink []byte
)

//go:wasmexport hlsrelay_authorize
func authorize() int32 {
	n := fieldGet(3, unsafe.Pointer(&buf[0]), int32(len(buf)))
	if n < 0 || int(n) > len(buf) {
		return 1
	}
	switch string(buf[:n]) {
	case "loop":
		for {
		}
	case "alloc":
		for range 32 {
			sink = make([]byte, 1<<20)
		}
	case "sleep":
		time.Sleep(time.Second)
	case "panic":
		panic("asked to")
	}
	allow()
	return 0
}

func main() {}
