package relayconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var push = []byte("PUSH:stream=s&auth=&ext=1")

type dialResult struct {
	conn *Conn
	ok   protocol.OK
	err  error
}

func dialAsync(ctx context.Context, url string, timing Timing) <-chan dialResult {
	ch := make(chan dialResult, 1)
	go func() {
		c, ok, err := Dial(ctx, url, push, timing)
		ch <- dialResult{c, ok, err}
	}()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(fakerelay.Timeout):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

// connect dials the fake relay and answers OK.
func connect(t *testing.T, timing Timing) (*Conn, *fakerelay.Peer) {
	t.Helper()
	relay := fakerelay.New(t)
	ch := dialAsync(context.Background(), relay.URL, timing)
	peer := relay.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK")
	r := wait(t, ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(r.conn.Close)
	return r.conn, peer
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  func(t *testing.T, p *fakerelay.Peer)
		wantOK  protocol.OK
		wantErr string // "" means success
		code    string // the *protocol.Error code, if any
	}{
		{name: "base OK", answer: func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "OK") }},
		{name: "ext OK after heartbeats", answer: func(t *testing.T, p *fakerelay.Peer) {
			p.Send(t, "H")
			p.Send(t, "h")
			p.Send(t, "ok:ext=1&epoch=e1&next=3")
		}, wantOK: protocol.OK{Ext: true, Epoch: "e1", Next: 3, HasNext: true}},
		{name: "E", answer: func(t *testing.T, p *fakerelay.Peer) {
			p.Send(t, "E:code=AUTH_ERROR&message=invalid%20token")
		}, wantErr: "relay error AUTH_ERROR: invalid token", code: protocol.CodeAuth},
		{name: "binary before OK", answer: func(t *testing.T, p *fakerelay.Peer) { p.SendBinary(t, []byte{1}) },
			wantErr: "binary message before OK"},
		{name: "F before OK", answer: func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "F:duration=1") },
			wantErr: "relay answered F instead of OK"},
		{name: "CLOSE before OK", answer: func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "CLOSE") },
			wantErr: "CLOSE instead of OK"},
		{name: "malformed", answer: func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "O K") },
			wantErr: "malformed"},
		{name: "bad OK", answer: func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "OK:ext=1&next=x") },
			wantErr: "relay answered: malformed"},
		{name: "closed", answer: func(t *testing.T, p *fakerelay.Peer) { p.CloseNormal() },
			wantErr: "relay closed the connection (status 1000)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			ch := dialAsync(context.Background(), relay.URL, DefaultTiming())
			peer := relay.Accept(t)
			if got, err := protocol.ParsePush(peer.Expect(t, protocol.TypePush)); err != nil || got != (protocol.Push{Stream: "s", Ext: true}) {
				t.Fatalf("first message %+v, %v, want %q", got, err, push)
			}
			tc.answer(t, peer)
			r := wait(t, ch)
			if tc.wantErr == "" {
				if r.err != nil {
					t.Fatal(r.err)
				}
				r.conn.Close()
				if r.ok != tc.wantOK {
					t.Fatalf("OK %+v, want %+v", r.ok, tc.wantOK)
				}
				return
			}
			if r.err == nil {
				r.conn.Close()
				t.Fatalf("Dial succeeded, want error %q", tc.wantErr)
			}
			if !strings.Contains(r.err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want it to contain %q", r.err, tc.wantErr)
			}
			var perr *protocol.Error
			if got := errors.As(r.err, &perr); got != (tc.code != "") || got && perr.Code != tc.code {
				t.Fatalf("error %#v, want a *protocol.Error with code %q", r.err, tc.code)
			}
		})
	}
}

func TestDialFailures(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		ch := dialAsync(context.Background(), relay.URL, DefaultTiming())
		relay.Dialed(t).Refuse(http.StatusServiceUnavailable)
		if r := wait(t, ch); r.err == nil || !strings.HasPrefix(r.err.Error(), "connect: ") {
			t.Fatalf("error %v, want a connect error", r.err)
		}
	})
	t.Run("refused by a limit", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(protocol.ErrorHeader, protocol.CodeRateLimited)
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		_, _, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), push, DefaultTiming())
		var perr *protocol.Error
		if !errors.As(err, &perr) || perr.Code != protocol.CodeRateLimited || !strings.Contains(perr.Message, "429") {
			t.Fatalf("error %v, want a RATE_LIMITED protocol error", err)
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		t.Parallel()
		if _, _, err := Dial(context.Background(), "http://example.invalid/", push, DefaultTiming()); err == nil {
			t.Fatal("Dial accepted an http URL")
		}
	})
	t.Run("cancelled while waiting for OK", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		ch := dialAsync(ctx, relay.URL, DefaultTiming())
		relay.Accept(t).Expect(t, protocol.TypePush)
		cancel()
		if r := wait(t, ch); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", r.err)
		}
	})
	t.Run("no OK within the idle time", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		timing := DefaultTiming()
		timing.Idle = 100 * time.Millisecond
		ch := dialAsync(context.Background(), relay.URL, timing)
		relay.Accept(t).Expect(t, protocol.TypePush)
		if r := wait(t, ch); !errors.Is(r.err, ErrIdle) {
			t.Fatalf("error %v, want ErrIdle", r.err)
		}
	})
	t.Run("dial timeout", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		timing := DefaultTiming()
		timing.Dial = 100 * time.Millisecond
		ch := dialAsync(context.Background(), relay.URL, timing)
		relay.Dialed(t) // never answered
		if r := wait(t, ch); r.err == nil || !strings.Contains(r.err.Error(), "connect") {
			t.Fatalf("error %v, want a connect error", r.err)
		}
	})
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"ws://127.0.0.1:8080/", true},
		{"wss://relay.example.com/live", true},
		{"http://relay.example.com/", false},
		{"relay.example.com", false},
		{"ws:///path", false},
		{"ws://a b/", false},
		{"", false},
	}
	for _, tc := range tests {
		if err := CheckURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	timing := DefaultTiming()
	timing.Heartbeat = 300 * time.Millisecond
	c, peer := connect(t, timing)

	start := time.Now()
	peer.Expect(t, protocol.TypeHeartbeat)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("first heartbeat after %v, want about %v", d, timing.Heartbeat)
	}
	// While the client keeps sending, no heartbeat is due.
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 10; i++ {
			if err := c.WriteText(fmt.Appendf(nil, "X:i=%d", i)); err != nil {
				done <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- nil
	}()
	for i := 0; i < 10; i++ {
		_, b := peer.Read(t)
		if want := fmt.Sprintf("X:i=%d", i); string(b) != want {
			t.Fatalf("got %q, want %q (a heartbeat while the client was sending?)", b, want)
		}
	}
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	peer.Expect(t, protocol.TypeHeartbeat)
}

func TestIdle(t *testing.T) {
	t.Parallel()
	timing := DefaultTiming()
	timing.Idle = 150 * time.Millisecond

	t.Run("silence", func(t *testing.T) {
		t.Parallel()
		c, _ := connect(t, timing)
		start := time.Now()
		_, err := c.Read(100)
		if !errors.Is(err, ErrIdle) {
			t.Fatalf("Read error %v, want ErrIdle", err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("idle after %v, want about %v", d, timing.Idle)
		}
		if err := c.WriteText([]byte(protocol.TypeHeartbeat)); !errors.Is(err, ErrIdle) {
			t.Fatalf("write after idle: %v, want ErrIdle", err)
		}
	})
	t.Run("heartbeats keep it alive", func(t *testing.T) {
		t.Parallel()
		timing := timing
		timing.Idle = 400 * time.Millisecond // a margin for slow test machines
		c, peer := connect(t, timing)
		go func() {
			for i := 0; i < 8; i++ {
				time.Sleep(50 * time.Millisecond)
				peer.Send(t, "H")
			}
		}()
		for i := 0; i < 8; i++ {
			m, err := c.Read(100)
			if err != nil || m.Text.Type != protocol.TypeHeartbeat {
				t.Fatalf("read %d: %+v, %v", i, m, err)
			}
		}
	})
	t.Run("a slow message is not silence", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, timing)
		go func() {
			w, err := peerWriter(peer)
			if err != nil {
				return
			}
			// 5 frames, 80 ms apart: 320 ms > Idle. Frames larger than the
			// writer's buffer go out as they are written.
			for i := 0; i < 5; i++ {
				_, _ = w.Write(bytes.Repeat([]byte{byte(i)}, 16<<10))
				time.Sleep(80 * time.Millisecond)
			}
			_ = w.Close()
		}()
		m, err := c.Read(1 << 20)
		if err != nil || !m.Binary || len(m.Data) != 5*16<<10 {
			t.Fatalf("Read: %d bytes, %v", len(m.Data), err)
		}
	})
	t.Run("not counted between reads", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, timing)
		peer.Send(t, "H")
		time.Sleep(2 * timing.Idle) // a consumer that does not read for a while
		peer.Send(t, "H")
		for i := 0; i < 2; i++ {
			if _, err := c.Read(100); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
	})
}

// peerWriter opens a message writer on the fake relay's side; each Write
// becomes one WebSocket frame.
func peerWriter(p *fakerelay.Peer) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	return p.Writer(context.Background(), websocket.MessageBinary)
}

func TestLostConnectionIsNotEOF(t *testing.T) {
	t.Parallel()
	c, peer := connect(t, DefaultTiming())
	peer.Drop()
	_, err := c.Read(10)
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("Read error %v, want a lost connection that does not wrap io.EOF", err)
	}
}

func TestReadLimits(t *testing.T) {
	t.Parallel()
	t.Run("binary over the limit is skipped", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, DefaultTiming())
		peer.SendBinary(t, make([]byte, 11))
		peer.SendBinary(t, make([]byte, 10))
		m, err := c.Read(10)
		if !errors.Is(err, ErrTooLarge) || !m.Binary || m.Data != nil {
			t.Fatalf("Read: %+v, %v, want ErrTooLarge", m, err)
		}
		if !strings.Contains(err.Error(), "11 bytes") {
			t.Fatalf("error %q does not give the size", err)
		}
		m, err = c.Read(10)
		if err != nil || len(m.Data) != 10 {
			t.Fatalf("next Read: %d bytes, %v", len(m.Data), err)
		}
	})
	t.Run("text over 16 KiB", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, DefaultTiming())
		peer.Send(t, "X:a="+strings.Repeat("x", MaxTextSize))
		if _, err := c.Read(10); err == nil || !strings.Contains(err.Error(), "over 16384 bytes") {
			t.Fatalf("Read error %v, want a size error", err)
		}
	})
	t.Run("text of 16 KiB", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, DefaultTiming())
		peer.Send(t, "X:a="+strings.Repeat("x", MaxTextSize-4))
		if m, err := c.Read(10); err != nil || len(m.Text.Get("a")) != MaxTextSize-4 {
			t.Fatalf("Read: %v", err)
		}
	})
	t.Run("malformed text", func(t *testing.T) {
		t.Parallel()
		c, peer := connect(t, DefaultTiming())
		peer.Send(t, "F:duration=%zz")
		if _, err := c.Read(10); !errors.Is(err, protocol.ErrMalformed) {
			t.Fatalf("Read error %v, want ErrMalformed", err)
		}
	})
}

func TestWriteFragmentKeepsPairsTogether(t *testing.T) {
	t.Parallel()
	timing := DefaultTiming()
	timing.Heartbeat = time.Millisecond // heartbeats race with the fragments
	c, peer := connect(t, timing)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := w*each + i
				header := protocol.AppendFragment(nil, protocol.Fragment{Duration: 1, Seq: uint64(id), HasSeq: true}, true)
				if err := c.WriteFragment(header, bytes.Repeat([]byte{byte(id)}, 1000+id)); err != nil {
					t.Errorf("write %d: %v", id, err)
					return
				}
			}
		}()
	}
	seen := map[uint64]bool{}
	for len(seen) < writers*each {
		f, data := peer.ExpectFragment(t)
		if len(data) != 1000+int(f.Seq) || data[0] != byte(f.Seq) {
			t.Fatalf("fragment %d carries the bytes of another", f.Seq)
		}
		seen[f.Seq] = true
	}
	wg.Wait()
}

func TestCloseGracefully(t *testing.T) {
	t.Parallel()
	c, peer := connect(t, DefaultTiming())
	if err := c.WriteText([]byte("CLOSE")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.CloseGracefully(context.Background()) }()
	peer.Expect(t, protocol.TypeClose)
	peer.ExpectGone(t)
	if err := wait(t, done); err != nil {
		t.Fatalf("CloseGracefully: %v", err)
	}
	c.Close() // idempotent
	if err := c.WriteText([]byte(protocol.TypeHeartbeat)); err == nil {
		t.Fatal("write after close succeeded")
	}
}

func TestCloseGracefullyBoundedByContext(t *testing.T) {
	t.Parallel()
	c, _ := connect(t, DefaultTiming()) // the relay never reads, so never answers the close
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.CloseGracefully(ctx)
	if time.Since(start) > 3*time.Second {
		t.Fatalf("CloseGracefully took %v", time.Since(start))
	}
	if err == nil {
		t.Fatal("CloseGracefully succeeded without the relay's answer")
	}
}
