//go:build wasip1

package authorize

import "github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"

//lint:ignore U1000 exported to the host (staticcheck does not know go:wasmexport)
//go:wasmexport hlsrelay_authorize
func authorize() int32 { return hostcall.Run("authorize", handler) }
