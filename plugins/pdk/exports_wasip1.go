//go:build wasip1

package pdk

import (
	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"
)

//lint:ignore U1000 exported to the host (staticcheck does not know go:wasmexport)
//go:wasmexport hlsrelay_abi_version
func abiVersion() int32 { return abi.Version }

//lint:ignore U1000 exported to the host (staticcheck does not know go:wasmexport)
//go:wasmexport hlsrelay_init
func initInstance() int32 {
	if initHandler == nil {
		return 0
	}
	return hostcall.Run("init", initHandler)
}
