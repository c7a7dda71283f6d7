// Package route makes a Go plugin a routing plugin: importing it exports
// hlsrelay_route, which runs the handler registered with Handle.
//
//	func init() {
//		route.Handle(func() error {
//			pdk.RouteLocal()
//			pdk.RouteRegistry()
//			return nil
//		})
//	}
package route

//lint:ignore U1000 read by the hlsrelay_route export (export_wasip1.go)
var handler func() error

// Handle registers h as the plugin's routing: for a PULL of a stream this
// node does not publish, it appends sources in order with pdk.RouteLocal,
// pdk.RouteRegistry and pdk.RouteUpstream, or refuses with pdk.RouteReject.
// No source at all means the stream is found nowhere. Returning an error, or
// panicking, fails the call: the relay falls back to its built-in order.
// Call it from an init function.
func Handle(h func() error) { handler = h }
