//go:build wasip1

package route

import "github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"

//lint:ignore U1000 exported to the host (staticcheck does not know go:wasmexport)
//go:wasmexport hlsrelay_route
func route() int32 { return hostcall.Run("route", handler) }
