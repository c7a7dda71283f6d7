// Package hostcall declares the host imports of the hlsrelay plugin ABI and
// runs the handlers of the kit's exports. Plugins use package pdk instead.
package hostcall

import (
	"unsafe"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// Str returns the address and length of s for an import.
func Str(s string) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.StringData(s)), int32(len(s))
}

// Bytes returns the address and length of b for an import.
func Bytes(b []byte) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.SliceData(b)), int32(len(b))
}

// LogString writes msg to the relay's log at level.
func LogString(level int32, msg string) {
	p, n := Str(msg)
	Log(level, p, n)
}

// Run calls h for the export what and returns the export's result: 0 if h
// returned nil, 1 (a failed call) if it returned an error, panicked or is
// nil. The error or panic is logged at level error.
func Run(what string, h func() error) (result int32) {
	if h == nil {
		LogString(abi.LogError, what+": the plugin registered no handler")
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			msg := what + ": panic"
			switch v := r.(type) {
			case string:
				msg += ": " + v
			case error:
				msg += ": " + v.Error()
			}
			LogString(abi.LogError, msg)
			result = 1
		}
	}()
	if err := h(); err != nil {
		LogString(abi.LogError, what+": "+err.Error())
		return 1
	}
	return 0
}
