// Command jwtauth is the relay's default authorisation plugin, built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared (see
// scripts/build-plugins.sh). It implements the token scheme of the HLS
// WebSocket CDN exactly as sdk-go/token.Verify does:
//
//   - a PUSH when push_allowed is false is refused ("publishing is not
//     allowed on this node");
//   - an empty secret for the action allows everything (compatibility: the
//     relay warns about it at start-up);
//   - otherwise the token must be an HS256 JWT signed with the action's
//     secret, whose exp is in the future (no leeway), whose nbf, if any, is
//     not, and whose sub is "ACTION:STREAM".
//
// An allowed token's decision may be cached by the relay until its exp.
//
// Configuration (URL-query form, %-escaped):
//
//	pull_secret=...&push_secret=...&push_allowed=true|false
package main

func main() {}
