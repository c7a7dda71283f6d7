// Package protocol is the codec of the hlsrelay WebSocket protocol: the text
// messages (PUSH, PULL, OK, F, CLOSE, H, E) of the base protocol that existing
// HLS WebSocket CDN clients speak, and the negotiated extensions (fragment
// sequence numbers, resume, discontinuity markers, publish time).
//
// It is the one codec shared by the relay, the SDK and the tools. It does no
// I/O: callers read a WebSocket text message and hand its bytes to Parse, then
// decode the typed message they expect (ParsePush, ParsePull, ...). Binary
// messages carry fragment bytes and need no codec.
//
// See docs/protocol.md for the wire format with examples.
package protocol
