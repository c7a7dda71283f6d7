// Package authorize makes a Go plugin an authorisation plugin: importing it
// exports hlsrelay_authorize, which runs the handler registered with Handle.
//
//	func init() {
//		authorize.Handle(func() error {
//			stream, _ := pdk.Field(abi.FieldStream)
//			...
//			pdk.Allow() // or pdk.Deny(pdk.CodeAuthError, "why")
//			return nil
//		})
//	}
package authorize

//lint:ignore U1000 read by the hlsrelay_authorize export (export_wasip1.go)
var handler func() error

// Handle registers h as the plugin's authorisation: for each PUSH or PULL it
// reads the request with pdk.Field (and pdk.Header, pdk.Query), then decides
// with pdk.Allow or pdk.Deny, optionally pdk.Cache. Returning nil without a
// decision denies with AUTH_ERROR. Returning an error, or panicking, fails
// the call: the relay denies with UNAVAILABLE and replaces the instance.
// Call it from an init function.
func Handle(h func() error) { handler = h }
