//go:build wasip1

package route

import "github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"

//go:wasmexport hlsrelay_route
func route() int32 { return hostcall.Run("route", handler) }
