// Package pdk is the Go kit for hlsrelay policy plugins: WebAssembly modules
// that follow docs/plugins.md (ABI version 1), built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o plugin.wasm
//
// A plugin is a main package that registers handlers from init functions.
// Importing pdk exports the ABI marker (hlsrelay_abi_version) and
// hlsrelay_init (which runs the handler of HandleInit, if any); importing
// pdk/authorize or pdk/route exports hlsrelay_authorize or hlsrelay_route,
// which run the handler given to their Handle. A complete plugin:
//
//	package main
//
//	import (
//		"strings"
//
//		"github.com/hlsrelay/hlsrelay/plugins/abi"
//		"github.com/hlsrelay/hlsrelay/plugins/pdk"
//		"github.com/hlsrelay/hlsrelay/plugins/pdk/authorize"
//	)
//
//	func init() {
//		authorize.Handle(func() error {
//			action, _ := pdk.Field(abi.FieldAction)
//			stream, _ := pdk.Field(abi.FieldStream)
//			if string(action) == "PULL" && strings.HasPrefix(string(stream), "public/") {
//				pdk.Allow()
//				pdk.Cache(60_000) // depends on action and stream only
//				return nil
//			}
//			pdk.Deny(pdk.CodeAuthError, "only public streams can be watched here")
//			return nil
//		})
//	}
//
//	func main() {}
//
// The request is read through Field, Header and Query, which copy from the
// host into buffers the kit reuses; a handler decides with Allow, Deny and
// Cache (authorisation) or RouteLocal, RouteRegistry, RouteUpstream and
// RouteReject (routing), and may use NowMs, VerifySignature, RegistryLookup
// and Log. Outside a wasip1 build these functions panic: the package
// compiles everywhere so that its pure helpers can be tested with go test.
//
// The helpers are the parsing a policy needs, written to stay small and
// fast inside WebAssembly (no reflection, no encoding/json, no fmt):
// AppendBase64URL for JWS segments, JSONScanner for flat JSON objects such
// as JWT headers and claims, and ParseConfig for a configuration in URL-query
// form. A plugin built with them is about 2 MB and answers in microseconds;
// one built on encoding/json is several times larger and slower.
//
// A plugin that prefers its own exports can skip pdk/authorize and
// pdk/route and write them itself:
//
//	//go:wasmexport hlsrelay_authorize
//	func authorize() int32 { ...; return 0 }
package pdk
