// Command route is the relay's default routing plugin, built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared (see
// scripts/build-plugins.sh). For a PULL of a stream this node does not
// publish, it lists the sources of the HLS WebSocket CDN's order: this node,
// then the node the publish registry names (if enabled), then a fixed
// upstream relay (if set). A PULL with only_source=true is served from this
// node only.
//
// Configuration (URL-query form, %-escaped):
//
//	local=true|false&registry=true|false&upstream=ws://host:port/path
//
// local defaults to true, registry to false, upstream to none (empty).
package main

func main() {}
