package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

func pushMsg(stream, auth string) string {
	return string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: auth}))
}

func pullMsg(stream, auth string, maxInitial int) string {
	return string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: auth, MaxInitialFragments: maxInitial}))
}

// publish connects a base-protocol publisher and waits for OK.
func publish(t *testing.T, url, stream string) *wire {
	t.Helper()
	p := dial(t, url)
	p.sendText(pushMsg(stream, pushToken(t, stream)))
	p.expectText("OK")
	return p
}

// view connects a base-protocol viewer and waits for OK.
func view(t *testing.T, url, stream string, maxInitial int) *wire {
	t.Helper()
	v := dial(t, url)
	v.sendText(pullMsg(stream, pullToken(t, stream), maxInitial))
	v.expectText("OK")
	return v
}

func randomFragments(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, size+i)
		_, _ = rand.Read(out[i])
	}
	return out
}

func TestBytesIdenticalAndInOrder(t *testing.T) {
	t.Parallel()
	// The fragments go out in a burst; a ring shorter than the burst would
	// (rightly) skip a viewer whose goroutine has not run yet.
	url := startRelay(t, func(c *config.Config) { c.Buffer.MaxFragments = 100 })
	const stream = "room1/cam/1280x720-30~2000"
	pub := publish(t, url, stream)
	var viewers []*wire
	for i := 0; i < 3; i++ {
		viewers = append(viewers, view(t, url, stream, -1))
	}
	frags := randomFragments(12, 64<<10)
	for i, f := range frags {
		pub.sendFragment(1+float64(i)/1000, f)
	}
	for vi, v := range viewers {
		for i, want := range frags {
			meta, got := v.readFragment()
			if !bytes.Equal(got, want) {
				t.Fatalf("viewer %d fragment %d: %d bytes differ from the %d sent", vi, i, len(got), len(want))
			}
			if meta.Duration != 1+float64(i)/1000 || meta.HasSeq || meta.Time != 0 {
				t.Fatalf("viewer %d fragment %d: base client got %+v", vi, i, meta)
			}
		}
	}
}

func TestMaxInitialFragments(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	pub := publish(t, url, "s")
	frags := randomFragments(6, 100)
	for _, f := range frags {
		pub.sendFragment(1, f)
	}
	// A viewer that joins late gets the buffered fragments first.
	waitBuffered(t, url, "s", len(frags))
	tests := []struct {
		max  int
		want [][]byte
	}{
		{-1, frags},
		{2, frags[4:]},
		{0, nil},
	}
	next := randomFragments(1, 50)[0]
	var vs []*wire
	for _, tt := range tests {
		vs = append(vs, view(t, url, "s", tt.max))
	}
	pub.sendFragment(1, next)
	for i, tt := range tests {
		for j, want := range append(tt.want, next) {
			_, got := vs[i].readFragment()
			if !bytes.Equal(got, want) {
				t.Fatalf("max_initial_fragments=%d: fragment %d wrong", tt.max, j)
			}
		}
	}
}

// waitBuffered waits until a viewer joining now would receive n fragments.
func waitBuffered(t *testing.T, url, stream string, n int) {
	t.Helper()
	v := view(t, url, stream, -1)
	for i := 0; i < n; i++ {
		v.readFragment()
	}
}

func TestUnknownStreamIsOKThenClose(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	v := dial(t, url)
	v.sendText(pullMsg("nobody/publishes/this", pullToken(t, "nobody/publishes/this"), -1))
	v.expectText("OK")
	v.expectText("CLOSE")
	v.expectClosed()
}

func TestLowerCaseMessageTypes(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	p := dial(t, url)
	p.sendText("push:stream=lc&auth=" + pushToken(t, "lc"))
	p.expectText("OK")
	v := dial(t, url)
	v.sendText("pull:stream=lc&auth=" + pullToken(t, "lc"))
	v.expectText("OK")
	p.sendText("f:duration=2.5")
	p.sendBinary([]byte("abc"))
	p.sendText("h")
	meta, got := v.readFragment()
	if meta.Duration != 2.5 || string(got) != "abc" {
		t.Fatalf("got %+v %q", meta, got)
	}
	p.sendText("close")
	v.expectText("CLOSE")
}

func TestCloseReachesViewers(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	pub := publish(t, url, "s")
	v1, v2 := view(t, url, "s", -1), view(t, url, "s", -1)
	pub.sendFragment(1, []byte("last"))
	pub.sendText("CLOSE")
	for _, v := range []*wire{v1, v2} {
		_, got := v.readFragment()
		if string(got) != "last" {
			t.Fatalf("got %q", got)
		}
		v.expectText("CLOSE")
		v.expectClosed()
	}
	// The stream is gone: a new viewer gets OK + CLOSE.
	late := dial(t, url)
	late.sendText(pullMsg("s", pullToken(t, "s"), -1))
	late.expectText("OK")
	late.expectText("CLOSE")
}

func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Limits.MaxBinaryMessageSize = 1000
	})
	longID := strings.Repeat("x", 256)
	tests := []struct {
		name string
		do   func(w *wire)
		code string
	}{
		{"first message not PUSH or PULL", func(w *wire) { w.sendText("F:duration=1") }, protocol.CodeProtocol},
		{"first message binary", func(w *wire) { w.sendBinary([]byte{0x47}) }, protocol.CodeProtocol},
		{"unknown type", func(w *wire) { w.sendText("HELLO") }, protocol.CodeProtocol},
		{"malformed type", func(w *wire) { w.sendText("PU SH:stream=a") }, protocol.CodeProtocol},
		{"empty stream id", func(w *wire) { w.sendText(pullMsg("", "token", -1)) }, protocol.CodeProtocol},
		{"stream id too long", func(w *wire) { w.sendText(pullMsg(longID, "token", -1)) }, protocol.CodeProtocol},
		{"binary without F", func(w *wire) {
			w.sendText(pushMsg("v1", pushToken(t, "v1")))
			w.expectText("OK")
			w.sendBinary([]byte{1, 2, 3})
		}, protocol.CodeProtocol},
		{"oversize binary", func(w *wire) {
			w.sendText(pushMsg("v2", pushToken(t, "v2")))
			w.expectText("OK")
			w.sendText("F:duration=1")
			w.sendBinary(make([]byte, 1001))
		}, protocol.CodeMessageTooLarge},
		{"oversize text", func(w *wire) { w.sendText("PULL:stream=a&auth=" + strings.Repeat("a", 17<<10)) }, protocol.CodeMessageTooLarge},
		{"bad duration", func(w *wire) {
			w.sendText(pushMsg("v3", pushToken(t, "v3")))
			w.expectText("OK")
			w.sendText("F:duration=soon")
		}, protocol.CodeProtocol},
		{"viewer sends binary", func(w *wire) {
			w.sendText(pushMsg("v4", pushToken(t, "v4")))
			w.expectText("OK")
			v := dial(t, url)
			v.sendText(pullMsg("v4", pullToken(t, "v4"), -1))
			v.expectText("OK")
			v.sendBinary([]byte{1})
			v.expectError(protocol.CodeProtocol)
			w.sendText("F:duration=x")
		}, protocol.CodeProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := dial(t, url)
			tt.do(w)
			w.expectError(tt.code)
		})
	}
}

func TestFirstMessageTimeout(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) { c.Limits.FirstMessageTimeout = 300 * time.Millisecond })
	start := time.Now()
	w := dial(t, url)
	e := w.expectError(protocol.CodeProtocol)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout", waited)
	}
	if !strings.Contains(e.Message, "within") {
		t.Fatalf("message %q does not say what happened", e.Message)
	}
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Limits.HeartbeatInterval = 300 * time.Millisecond
		c.Limits.HeartbeatTimeout = 10 * time.Second
	})
	publish(t, url, "hb")
	v := view(t, url, "hb", -1)
	// read() skips H, so read raw.
	typ, b, err := v.conn.Read(t.Context())
	if err != nil || string(b) != "H" {
		t.Fatalf("expected H, got type %d %q err %v", typ, b, err)
	}
}

func TestSilentConnectionIsClosed(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Limits.HeartbeatInterval = time.Hour
		c.Limits.HeartbeatTimeout = 300 * time.Millisecond
	})
	publish(t, url, "quiet")
	v := view(t, url, "quiet", -1)
	v.expectClosed()
}

func TestSecondPublisherIsRefused(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	first := publish(t, url, "busy")
	v := view(t, url, "busy", -1)
	second := dial(t, url)
	second.sendText(pushMsg("busy", pushToken(t, "busy")))
	second.expectError(protocol.CodeStreamBusy)
	// The live publisher is not disturbed.
	first.sendFragment(1, []byte("still here"))
	if _, got := v.readFragment(); string(got) != "still here" {
		t.Fatalf("got %q", got)
	}
}

// TestStalledViewerDoesNotDelayOthers: a viewer that stops reading must not
// hold back the publisher or the other viewers, and is dropped once a write
// to it has waited for the write timeout.
func TestStalledViewerDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	// Long enough that the fast viewer, read by a test goroutine on a loaded
	// machine (the whole suite runs in parallel under -race), never looks
	// stalled.
	const writeTimeout = 3 * time.Second
	frag := make([]byte, 1<<20)
	// The relay's writes to the stalled viewer block only once the kernel
	// holds all it can: the viewer's receive buffer (fixed small by
	// dialSmallReceiveBuffer) and the relay's send buffer, which Linux grows
	// up to tcp_wmem's maximum. Send well beyond both, so that most
	// fragments can reach the stalled viewer only if the relay keeps it.
	n := max(32, sendBufferMax(t)/len(frag)+16)
	var node *relay.Relay
	url := startRelayWith(t, func(c *config.Config) {
		c.Limits.WriteTimeout = writeTimeout
		// The fast viewer never has to skip.
		c.Buffer.MaxFragments = n
		c.Buffer.StreamMaxBytes = max(c.Buffer.StreamMaxBytes, 2*int64(n)*int64(len(frag)))
	}, func(r interface{ ReloadPlugins(context.Context) error }) { node = r.(*relay.Relay) })
	pub := publish(t, url, "s")
	stalled := dialSmallReceiveBuffer(t, url) // reads nothing until the end
	stalled.sendText(pullMsg("s", pullToken(t, "s"), -1))
	fast := view(t, url, "s", -1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < n; i++ {
			pub.sendFragment(0.1, frag)
		}
	})
	for i := 0; i < n; i++ {
		_, got := fast.readFragment()
		if len(got) != len(frag) {
			t.Fatalf("fragment %d: %d bytes", i, len(got))
		}
	}
	wg.Wait()
	// Stay stalled for well over the write timeout. The relay's write to
	// the stalled viewer has been blocked since the buffers filled, before
	// the fast viewer got the last fragment. That can be far less than the
	// timeout ago: reading now would let the write complete, and the relay
	// would rightly keep a viewer that was slow for less than the timeout.
	time.Sleep(2 * writeTimeout)
	// The stalled viewer was dropped: what the socket buffers held, then
	// the end of the connection.
	received := 0
	var err error
	for {
		var typ websocket.MessageType
		typ, _, err = stalled.read(5 * time.Second)
		if err != nil {
			break
		}
		if typ == websocket.MessageBinary {
			received++
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the stalled viewer's connection is still open after %d of %d fragments; it should have been dropped", received, n)
	}
	if received >= n {
		t.Fatalf("the stalled viewer received all %d fragments; it should have been dropped", received)
	}
	waitMetric(t, node, `hlsrelay_viewers_dropped_total{reason="write_timeout"}`, 1)
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	publish(t, url, "s")
	tests := authCases(t, "s")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := dial(t, url)
			w.sendText(tt.action + ":stream=" + url_(tt.stream) + "&auth=" + url_(tt.token))
			e := w.expectError(protocol.CodeAuth)
			if strings.Contains(e.Message, tt.token) && tt.token != "" {
				t.Fatalf("error message echoes the token: %q", e.Message)
			}
		})
	}
}

func url_(s string) string { return url.QueryEscape(s) }
