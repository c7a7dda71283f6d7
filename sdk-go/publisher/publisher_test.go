package publisher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const stream = "room1/cam/1280x720-30~2000"

// errorLog collects what OnError reports.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	ch   chan error
}

func newErrorLog() *errorLog { return &errorLog{ch: make(chan error, 100)} }

func (l *errorLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
	select {
	case l.ch <- err:
	default:
	}
}

func (l *errorLog) next(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.ch:
		return err
	case <-time.After(fakerelay.Timeout):
		t.Fatal("no error reported")
		return nil
	}
}

// start creates a publisher for the fake relay with short retry delays;
// it is closed when the test ends.
func start(t *testing.T, relay *fakerelay.Relay, opts Options, timing relayconn.Timing) *Publisher {
	t.Helper()
	if opts.URL == "" && opts.URLFunc == nil {
		opts.URL = relay.URL
	}
	if opts.Stream == "" {
		opts.Stream = stream
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 10 * time.Millisecond
	}
	p, err := newPublisher(opts, timing, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func frag(i int) Fragment {
	return Fragment{
		Duration: time.Duration(1000+i) * time.Millisecond,
		Data:     []byte(fmt.Sprintf("fragment-%d", i)),
		Time:     time.UnixMilli(1764000000000 + int64(i)*1000),
	}
}

func send(t *testing.T, p *Publisher, ids ...int) {
	t.Helper()
	for _, i := range ids {
		if err := p.Send(context.Background(), frag(i)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
}

// expect reads fragments from the relay's side and checks their data, seq
// and disc. want holds fragment ids; seqs the expected seq of each (nil: no
// seq); disc the index of the one fragment expected with disc, or -1.
func expect(t *testing.T, peer *fakerelay.Peer, want []int, seqs []uint64, disc int) {
	t.Helper()
	for n, i := range want {
		f, data := peer.ExpectFragment(t)
		w := frag(i)
		if !bytes.Equal(data, w.Data) {
			t.Fatalf("fragment %d: got %q, want %q", n, data, w.Data)
		}
		if f.Duration != w.Duration.Seconds() {
			t.Fatalf("fragment %d: duration %v, want %v", n, f.Duration, w.Duration.Seconds())
		}
		switch {
		case seqs == nil && (f.HasSeq || f.Time != 0 || f.Disc):
			t.Fatalf("fragment %d: base relay got extension parameters %+v", n, f)
		case seqs != nil && (!f.HasSeq || f.Seq != seqs[n]):
			t.Fatalf("fragment %d: seq %d (set %v), want %d", n, f.Seq, f.HasSeq, seqs[n])
		case seqs != nil && f.Time != w.Time.UnixMilli():
			t.Fatalf("fragment %d: time %d, want %d", n, f.Time, w.Time.UnixMilli())
		case seqs != nil && f.Disc != (n == disc):
			t.Fatalf("fragment %d: disc %v, want %v", n, f.Disc, n == disc)
		}
	}
}

// acceptPush accepts the next connection, reads its PUSH and answers ok.
func acceptPush(t *testing.T, relay *fakerelay.Relay, ok string) (*fakerelay.Peer, protocol.Push) {
	t.Helper()
	peer := relay.Accept(t)
	push, err := protocol.ParsePush(peer.Expect(t, protocol.TypePush))
	if err != nil {
		t.Fatal(err)
	}
	peer.Send(t, ok)
	return peer, push
}

func closeAsync(p *Publisher, timeout time.Duration) <-chan error {
	ch := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ch <- p.Close(ctx)
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

func TestNewValidation(t *testing.T) {
	t.Parallel()
	urlFunc := func(context.Context) (string, error) { return "ws://127.0.0.1/", nil }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{Stream: stream}, "set URL or URLFunc"},
		{"http URL", Options{URL: "http://relay/", Stream: stream}, "scheme must be ws or wss"},
		{"URL without host", Options{URL: "ws:///x", Stream: stream}, "no host"},
		{"no stream", Options{URL: "ws://relay/"}, "stream: malformed message: empty stream id"},
		{"stream too long", Options{URL: "ws://relay/", Stream: strings.Repeat("s", 256)}, "256 characters"},
		{"stream with newline", Options{URLFunc: urlFunc, Stream: "a\nb"}, "control character"},
		{"negative queue", Options{URL: "ws://relay/", Stream: stream, QueueLength: -1}, "must not be negative"},
		{"negative retry delay", Options{URL: "ws://relay/", Stream: stream, RetryDelay: -time.Second}, "must not be negative"},
		{"negative TTL", Options{URL: "ws://relay/", Stream: stream, TokenTTL: -time.Second}, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(tc.opts)
			if err == nil {
				_ = p.Close(context.Background())
				t.Fatalf("New accepted %+v", tc.opts)
			}
			if !strings.HasPrefix(err.Error(), "publisher: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	o := Options{URL: "ws://relay/", Stream: stream}
	if err := normalize(&o); err != nil {
		t.Fatal(err)
	}
	if o.QueueLength != 10 || o.RetryDelay != time.Second || o.MaxRetryDelay != 10*time.Second || o.TokenTTL != time.Hour {
		t.Fatalf("defaults %+v", o)
	}
	o = Options{URL: "ws://relay/", Stream: stream, RetryDelay: time.Minute}
	if err := normalize(&o); err != nil {
		t.Fatal(err)
	}
	if o.MaxRetryDelay != time.Minute {
		t.Fatalf("MaxRetryDelay %v below RetryDelay %v", o.MaxRetryDelay, o.RetryDelay)
	}
}

func TestPublishWithExtensions(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	var ready atomic.Int32
	p := start(t, relay, Options{Secret: "push-secret", OnReady: func() { ready.Add(1) }}, relayconn.DefaultTiming())

	peer, push := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	if push.Stream != stream || !push.Ext {
		t.Fatalf("PUSH %+v", push)
	}
	if err := token.Verify([]byte("push-secret"), push.Auth, token.Push, stream, time.Now()); err != nil {
		t.Fatalf("PUSH token: %v", err)
	}
	send(t, p, 0, 1, 2)
	expect(t, peer, []int{0, 1, 2}, []uint64{0, 1, 2}, -1)
	if ready.Load() != 1 {
		t.Fatalf("OnReady called %d times", ready.Load())
	}

	done := closeAsync(p, fakerelay.Timeout)
	peer.Expect(t, protocol.TypeClose)
	peer.ExpectGone(t)
	if err := wait(t, done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !p.Closed() {
		t.Fatal("Closed() is false after Close")
	}
	if err := p.Send(context.Background(), frag(3)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

func TestBaseProtocolFallback(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Token: "ready-token"}, relayconn.DefaultTiming())
	peer, push := acceptPush(t, relay, "OK")
	if push.Auth != "ready-token" {
		t.Fatalf("auth %q, want the ready token", push.Auth)
	}
	send(t, p, 0)
	// The exact text a base relay expects.
	if _, text := peer.Read(t); string(text) != "F:duration=1" {
		t.Fatalf("got %q, want F:duration=1", text)
	}
	peer.Read(t)
	send(t, p, 1, 2)
	expect(t, peer, []int{1, 2}, nil, -1)
}

func TestNoAuth(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	start(t, relay, Options{}, relayconn.DefaultTiming())
	peer := relay.Accept(t)
	m := peer.Expect(t, protocol.TypePush)
	if v, ok := m.Params["auth"]; !ok || v[0] != "" {
		t.Fatalf("PUSH %q, want an empty auth parameter", m)
	}
}

func TestQueueWhileDisconnected(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{QueueLength: 3}, relayconn.DefaultTiming())
	pending := relay.Dialed(t) // the publisher waits for the handshake
	send(t, p, 0, 1, 2, 3, 4)
	peer := pending.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK:ext=1&epoch=e1&next=0")
	// 0 and 1 were dropped: the first fragment sent says so.
	expect(t, peer, []int{2, 3, 4}, []uint64{0, 1, 2}, 0)
}

func TestResendAfterReconnect(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	var ready atomic.Int32
	p := start(t, relay, Options{OnError: errs.add, OnReady: func() { ready.Add(1) }}, relayconn.DefaultTiming())

	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	send(t, p, 0, 1, 2)
	expect(t, peer, []int{0, 1, 2}, []uint64{0, 1, 2}, -1)
	peer.Drop()

	// The relay got fragment 0 only: 1 and 2 come again, then new ones.
	peer, _ = acceptPush(t, relay, "OK:ext=1&epoch=e1&next=1")
	expect(t, peer, []int{1, 2}, []uint64{1, 2}, -1)
	send(t, p, 3)
	expect(t, peer, []int{3}, []uint64{3}, -1)
	if err := errs.next(t); err == nil || !strings.Contains(err.Error(), stream) {
		t.Fatalf("OnError got %v", err)
	}
	if ready.Load() != 2 {
		t.Fatalf("OnReady called %d times, want 2", ready.Load())
	}
}

func TestNewEpochAfterReconnect(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	send(t, p, 0, 1)
	expect(t, peer, []int{0, 1}, []uint64{0, 1}, -1)
	peer.Drop()

	pending := relay.Dialed(t)
	send(t, p, 2) // queued while the publisher is reconnecting
	peer = pending.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK:ext=1&epoch=e2&next=0")
	expect(t, peer, []int{2}, []uint64{0}, 0)
}

func TestFailedWriteIsRetried(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK")
	// Larger than the socket buffers: the write is still going on when
	// the connection drops.
	big := bytes.Repeat([]byte("x"), 16<<20)
	if err := p.Send(context.Background(), Fragment{Duration: time.Second, Data: big}); err != nil {
		t.Fatal(err)
	}
	peer.Expect(t, protocol.TypeFragment)
	peer.Drop()
	// A base relay cannot say what it has: the fragment whose write failed
	// is sent again, in full.
	peer, _ = acceptPush(t, relay, "OK")
	if _, data := peer.ExpectFragment(t); !bytes.Equal(data, big) {
		t.Fatalf("got %d bytes, want the %d of the failed write", len(data), len(big))
	}
}

func TestCloseFlushesQueue(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	pending := relay.Dialed(t)
	send(t, p, 0, 1, 2)
	done := closeAsync(p, fakerelay.Timeout)
	for !p.Closed() {
		time.Sleep(time.Millisecond)
	}
	if err := p.Send(context.Background(), frag(3)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send during Close: %v, want ErrClosed", err)
	}
	peer := pending.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK")
	expect(t, peer, []int{0, 1, 2}, nil, -1)
	peer.Expect(t, protocol.TypeClose)
	peer.ExpectGone(t)
	if err := wait(t, done); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCloseWithNothingQueued(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	relay.Dialed(t) // never answered
	start := time.Now()
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v with nothing to send", d)
	}
}

func TestCloseGivesUpWithContext(t *testing.T) {
	t.Parallel()
	// A port with nothing listening: every attempt fails at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + l.Addr().String() + "/"
	l.Close()
	errs := newErrorLog()
	p, err := newPublisher(Options{URL: url, Stream: stream, RetryDelay: 5 * time.Millisecond, OnError: errs.add}, relayconn.DefaultTiming(), nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, p, 0, 1)
	if err := errs.next(t); !strings.Contains(err.Error(), "connect") {
		t.Fatalf("OnError got %v, want a connect error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = p.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "2 fragments not sent") {
		t.Fatalf("Close: %v, want a deadline error naming 2 fragments", err)
	}
}

func TestRelayErrorsAreRetried(t *testing.T) {
	t.Parallel()
	for _, code := range []string{protocol.CodeAuth, protocol.CodeProtocol, protocol.CodeStreamBusy, protocol.CodeUnavailable} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
			peer, _ := acceptPush(t, relay, "E:code="+code+"&message=no")
			peer.ExpectGone(t)
			perr, ok := errs.next(t).(*protocol.Error)
			if !ok || perr.Code != code || perr.Message != "no" {
				t.Fatalf("OnError got %#v, want a *protocol.Error %s", perr, code)
			}
			acceptPush(t, relay, "OK") // it tried again
		})
	}
}

func TestRelayErrorWhilePublishing(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	p := start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	send(t, p, 0)
	expect(t, peer, []int{0}, []uint64{0}, -1)
	peer.Send(t, "E:code=UNAVAILABLE&message=shutting%20down")
	peer.Drop()
	var perr *protocol.Error
	if err := errs.next(t); !errors.As(err, &perr) || perr.Code != protocol.CodeUnavailable {
		t.Fatalf("OnError got %v", err)
	}
	peer, _ = acceptPush(t, relay, "OK:ext=1&epoch=e1&next=1")
	send(t, p, 1)
	expect(t, peer, []int{1}, []uint64{1}, -1)
}

func TestUnexpectedMessagesFromRelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send func(t *testing.T, p *fakerelay.Peer)
		want string
	}{
		{"binary", func(t *testing.T, p *fakerelay.Peer) { p.SendBinary(t, []byte{1}) }, "binary message"},
		{"F", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "F:duration=1") }, "unexpected F"},
		{"CLOSE", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "CLOSE") }, "CLOSE"},
		{"malformed", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "O K") }, "malformed"},
		{"close frame", func(t *testing.T, p *fakerelay.Peer) { p.CloseNormal() }, "status 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
			peer, _ := acceptPush(t, relay, "OK")
			peer.Send(t, "FUTURE:x=1") // unknown types are ignored
			tc.send(t, peer)
			if err := errs.next(t); !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OnError got %v, want %q", err, tc.want)
			}
			acceptPush(t, relay, "OK") // and it reconnects
		})
	}
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	timing := relayconn.DefaultTiming()
	timing.Heartbeat = 300 * time.Millisecond
	p := start(t, relay, Options{}, timing)
	peer, _ := acceptPush(t, relay, "OK")
	begin := time.Now()
	peer.Expect(t, protocol.TypeHeartbeat)
	if d := time.Since(begin); d < 250*time.Millisecond {
		t.Fatalf("heartbeat after %v, want about %v", d, timing.Heartbeat)
	}
	// Fragments count as activity: none is due while they flow.
	for i := 0; i < 6; i++ {
		send(t, p, i)
		if typ, text := peer.Read(t); string(text) == protocol.TypeHeartbeat {
			t.Fatalf("heartbeat (%v) while fragments flow", typ)
		}
		peer.Read(t)
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSilentRelayIsDead(t *testing.T) {
	t.Parallel()
	timing := relayconn.DefaultTiming()
	timing.Idle = 400 * time.Millisecond

	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		errs := newErrorLog()
		start(t, relay, Options{OnError: errs.add}, timing)
		acceptPush(t, relay, "OK")
		if err := errs.next(t); !errors.Is(err, relayconn.ErrIdle) {
			t.Fatalf("OnError got %v, want ErrIdle", err)
		}
		acceptPush(t, relay, "OK")
	})
	t.Run("heartbeats", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		start(t, relay, Options{}, timing)
		peer, _ := acceptPush(t, relay, "OK")
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					peer.Send(t, "H")
				}
			}
		}()
		relay.NoDial(t, 3*timing.Idle)
		close(stop)
		<-done
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	delays := make(chan time.Duration, 10)
	p, err := newPublisher(Options{URL: relay.URL, Stream: stream, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 40 * time.Millisecond},
		relayconn.DefaultTiming(), func(d time.Duration) { delays <- d })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	check := func(want time.Duration) {
		t.Helper()
		if d := wait(t, delays); d < want || d > want+want/4 {
			t.Fatalf("retry after %v, want %v plus at most a quarter", d, want)
		}
	}
	for _, want := range []time.Duration{10, 20, 40, 40} {
		relay.Dialed(t).Refuse(http.StatusServiceUnavailable)
		check(want * time.Millisecond)
	}
	// An accepted connection starts the delays over.
	peer, _ := acceptPush(t, relay, "OK")
	peer.Drop()
	check(10 * time.Millisecond)
	relay.Dialed(t).Refuse(http.StatusServiceUnavailable)
	check(20 * time.Millisecond)
	acceptPush(t, relay, "OK")
}

func TestURLFunc(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	var calls atomic.Int32
	errs := newErrorLog()
	start(t, relay, Options{
		URLFunc: func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				return "", errors.New("registry down")
			}
			return relay.URL, nil
		},
		OnError: errs.add,
	}, relayconn.DefaultTiming())
	acceptPush(t, relay, "OK")
	if err := errs.next(t); !strings.Contains(err.Error(), "relay URL: registry down") {
		t.Fatalf("OnError got %v", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("URLFunc called %d times, want 2", calls.Load())
	}
}

func TestSendValidation(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		f    Fragment
	}{
		{"empty", context.Background(), Fragment{Duration: time.Second}},
		{"negative duration", context.Background(), Fragment{Duration: -time.Second, Data: []byte{1}}},
		{"cancelled", cancelled, Fragment{Duration: time.Second, Data: []byte{1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := p.Send(tc.ctx, tc.f); err == nil {
				t.Fatal("Send accepted it")
			}
		})
	}
}

func TestSendCopiesDataAndStampsTime(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{}, relayconn.DefaultTiming())
	pending := relay.Dialed(t)
	buf := []byte("original")
	before := time.Now()
	if err := p.Send(context.Background(), Fragment{Duration: time.Second, Data: buf}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "reused!!")
	peer := pending.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK:ext=1&epoch=e&next=0")
	f, data := peer.ExpectFragment(t)
	if string(data) != "original" {
		t.Fatalf("relay got %q", data)
	}
	if f.Time < before.UnixMilli() || f.Time > time.Now().UnixMilli() {
		t.Fatalf("time %d not the time of Send", f.Time)
	}
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	timing := relayconn.DefaultTiming()
	timing.Heartbeat = time.Millisecond // heartbeats race with fragments
	p := start(t, relay, Options{QueueLength: 100}, timing)
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e&next=0")
	const senders, each = 4, 20
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := p.Send(context.Background(), frag(s*each+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	seen := map[string]bool{}
	for n := 0; n < senders*each; n++ {
		f, data := peer.ExpectFragment(t)
		if f.Seq != uint64(n) || f.Disc {
			t.Fatalf("fragment %d: seq %d disc %v", n, f.Seq, f.Disc)
		}
		seen[string(data)] = true
	}
	wg.Wait()
	if len(seen) != senders*each {
		t.Fatalf("%d distinct fragments, want %d", len(seen), senders*each)
	}
}
