//go:build wasip1

package pdk

import (
	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"
)

//go:wasmexport hlsrelay_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport hlsrelay_init
func initInstance() int32 {
	if initHandler == nil {
		return 0
	}
	return hostcall.Run("init", initHandler)
}
