package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// TestMalformedAndOversizeFrames sends what a broken or hostile client
// might, each on its own connection: the relay answers with the protocol's
// error where the protocol has one, closes the connection, never allocates
// what a frame header claims, and keeps serving everyone else.
func TestMalformedAndOversizeFrames(t *testing.T) {
	// A frame header may announce more than will ever come: such a
	// connection ends at the first-message deadline, shortened here.
	relay := startRelay(t, map[string]string{"MAX_BINARY_MESSAGE_SIZE": "1048576", "FIRST_MESSAGE_TIMEOUT_SECONDS": "2"})
	addr := strings.TrimSuffix(strings.TrimPrefix(relay.URL(), "ws://"), "/")
	before := rssMiB(t, relay)
	push := func(stream string) string {
		return string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: sign(t, pushSecret, token.Push, stream)}))
	}
	cases := []struct {
		name     string
		send     func(r *rawConn)
		wantCode string // the E message's code, "" if the close alone is the answer
	}{
		{"unmasked client frame", func(r *rawConn) { r.frame(true, 0, 0x1, []byte("PULL"), 4, true) }, ""},
		{"reserved opcode", func(r *rawConn) { r.frame(true, 0, 0x3, []byte("x"), 1, false) }, ""},
		{"RSV bit without extension", func(r *rawConn) { r.frame(true, 4, 0x1, []byte("PULL"), 4, false) }, ""},
		{"control frame over 125 bytes", func(r *rawConn) { r.frame(true, 0, 0x9, make([]byte, 200), 200, false) }, ""},
		{"length header of 2^62 bytes", func(r *rawConn) { r.frame(true, 0, 0x2, nil, 1<<62, false) }, protocol.CodeProtocol},
		{"invalid UTF-8 text", func(r *rawConn) { r.text("PU\xffSH:stream=a") }, protocol.CodeProtocol},
		{"20 KiB text message", func(r *rawConn) { r.text("PULL:stream=" + strings.Repeat("a", 20<<10)) }, protocol.CodeMessageTooLarge},
		{"binary before PUSH", func(r *rawConn) { r.frame(true, 0, 0x2, []byte{0x47}, 1, false) }, protocol.CodeProtocol},
		{"malformed query", func(r *rawConn) { r.text("PUSH:stream=%zz") }, protocol.CodeProtocol},
		{"unknown first message", func(r *rawConn) { r.text("HELLO") }, protocol.CodeProtocol},
		{"stream id of 300 characters", func(r *rawConn) { r.text("PUSH:auth=x&stream=" + strings.Repeat("s", 300)) }, protocol.CodeProtocol},
		{"binary without F", func(r *rawConn) {
			r.text(push("frames/nof"))
			r.frame(true, 0, 0x2, []byte{0x47}, 1, false)
		}, protocol.CodeProtocol},
		{"fragment over MAX_BINARY_MESSAGE_SIZE", func(r *rawConn) {
			r.text(push("frames/big"))
			r.text("F:duration=1")
			r.frame(true, 0, 0x2, make([]byte, 2<<20), 2<<20, false)
		}, protocol.CodeMessageTooLarge},
		{"F with a bad duration", func(r *rawConn) {
			r.text(push("frames/dur"))
			r.text("F:duration=-1")
		}, protocol.CodeProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			tc.send(r)
			code, status, ended := r.outcome(10 * time.Second)
			t.Logf("E code %q, close status %d, connection ended %v", code, status, ended)
			if !ended {
				t.Fatal("the relay kept the connection open")
			}
			if code != tc.wantCode {
				t.Fatalf("E code %q, want %q", code, tc.wantCode)
			}
			if relay.Exited() {
				t.Fatal("the relay process exited")
			}
		})
	}
	healthy(t, relay.URL())
	after := rssMiB(t, relay)
	t.Logf("relay RSS %.1f MiB before, %.1f MiB after %d malformed connections", before, after, len(cases))
	if after > before+64 {
		t.Errorf("relay RSS grew by %.1f MiB", after-before)
	}
}
