//go:build wasip1

package authorize

import "github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"

//go:wasmexport hlsrelay_authorize
func authorize() int32 { return hostcall.Run("authorize", handler) }
