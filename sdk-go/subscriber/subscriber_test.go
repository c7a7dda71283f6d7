package subscriber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
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

func start(t *testing.T, relay *fakerelay.Relay, opts Options, timing relayconn.Timing) *Subscriber {
	t.Helper()
	if opts.URL == "" {
		opts.URL = relay.URL
	}
	if opts.Stream == "" {
		opts.Stream = stream
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 10 * time.Millisecond
	}
	s, err := newSubscriber(opts, timing)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// acceptPull accepts the next connection, reads its PULL and answers ok.
func acceptPull(t *testing.T, relay *fakerelay.Relay, ok string) (*fakerelay.Peer, protocol.Pull) {
	t.Helper()
	peer := relay.Accept(t)
	pull, err := protocol.ParsePull(peer.Expect(t, protocol.TypePull))
	if err != nil {
		t.Fatal(err)
	}
	peer.Send(t, ok)
	return peer, pull
}

func data(i int) []byte { return []byte(fmt.Sprintf("fragment-%d", i)) }

// sendExt sends fragment i with seq i (and disc if asked).
func sendExt(t *testing.T, peer *fakerelay.Peer, i int, disc bool) {
	t.Helper()
	peer.SendFragment(t, protocol.Fragment{
		Duration: 1.001, Seq: uint64(i), HasSeq: true, Time: 1764000000000 + int64(i), Disc: disc,
	}, data(i))
}

func sendBase(t *testing.T, peer *fakerelay.Peer, i int) {
	t.Helper()
	peer.Send(t, "F:duration=2")
	peer.SendBinary(t, data(i))
}

func next(t *testing.T, s *Subscriber) Fragment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fakerelay.Timeout)
	defer cancel()
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return f
}

// expectExt checks that Next returns fragment i of epoch with seq i.
func expectExt(t *testing.T, s *Subscriber, epoch string, i int, disc bool) {
	t.Helper()
	f := next(t, s)
	want := Fragment{
		Epoch: epoch, Seq: uint64(i), HasSeq: true, Duration: 1001 * time.Millisecond,
		Time: time.UnixMilli(1764000000000 + int64(i)), Disc: disc, Data: data(i),
	}
	if f.Epoch != want.Epoch || f.Seq != want.Seq || !f.HasSeq || f.Duration != want.Duration ||
		!f.Time.Equal(want.Time) || f.Disc != want.Disc || string(f.Data) != string(want.Data) {
		t.Fatalf("Next:\n got %+v\nwant %+v", f, want)
	}
}

func expectBase(t *testing.T, s *Subscriber, i int, disc bool) {
	t.Helper()
	f := next(t, s)
	if f.HasSeq || f.Epoch != "" || !f.Time.IsZero() || f.Duration != 2*time.Second || f.Disc != disc || string(f.Data) != string(data(i)) {
		t.Fatalf("Next: %+v, want fragment %d (disc %v) without extensions", f, i, disc)
	}
}

func expectEnd(t *testing.T, s *Subscriber, want error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fakerelay.Timeout)
	defer cancel()
	_, err := s.Next(ctx)
	if !errors.Is(err, want) {
		t.Fatalf("Next: %v, want %v", err, want)
	}
	return err
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{Stream: stream}, "relay URL"},
		{"wss without host", Options{URL: "wss://", Stream: stream}, "no host"},
		{"no stream", Options{URL: "ws://relay/"}, "empty stream id"},
		{"stream with DEL", Options{URL: "ws://relay/", Stream: "a\x7f"}, "control character"},
		{"negative size", Options{URL: "ws://relay/", Stream: stream, MaxFragmentSize: -1}, "must not be negative"},
		{"negative delay", Options{URL: "ws://relay/", Stream: stream, MaxRetryDelay: -1}, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tc.opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("New accepted %+v", tc.opts)
			}
			if !strings.HasPrefix(err.Error(), "subscriber: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestPullWithExtensions(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{Secret: "pull-secret"}, relayconn.DefaultTiming())
	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	want := protocol.Pull{Stream: stream, Auth: pull.Auth, MaxInitialFragments: -1, Ext: true}
	if pull != want {
		t.Fatalf("PULL %+v, want %+v", pull, want)
	}
	if err := token.Verify([]byte("pull-secret"), pull.Auth, token.Pull, stream, time.Now()); err != nil {
		t.Fatalf("PULL token: %v", err)
	}
	sendExt(t, peer, 5, false)
	sendExt(t, peer, 6, true)
	expectExt(t, s, "e1", 5, false)
	expectExt(t, s, "e1", 6, true)
}

func TestPullParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantMax int
	}{
		{"all buffered", Options{}, -1},
		{"three", Options{MaxInitialFragments: 3}, 3},
		{"none", Options{MaxInitialFragments: -1, OnlySource: true, Token: "tok"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			start(t, relay, tc.opts, relayconn.DefaultTiming())
			_, pull := acceptPull(t, relay, "OK")
			if pull.MaxInitialFragments != tc.wantMax || pull.OnlySource != tc.opts.OnlySource || pull.Auth != tc.opts.Token {
				t.Fatalf("PULL %+v, want max_initial_fragments %d, only_source %v, auth %q", pull, tc.wantMax, tc.opts.OnlySource, tc.opts.Token)
			}
		})
	}
}

func TestResume(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	s := start(t, relay, Options{MaxInitialFragments: 2, OnError: errs.add}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 5, false)
	sendExt(t, peer, 6, false)
	expectExt(t, s, "e1", 5, false)
	expectExt(t, s, "e1", 6, false)
	peer.Drop()

	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	if pull.Resume != (protocol.Resume{Epoch: "e1", After: 6}) {
		t.Fatalf("PULL %+v, want a resume after e1/6", pull)
	}
	sendExt(t, peer, 6, false) // a duplicate is dropped
	sendExt(t, peer, 7, false)
	expectExt(t, s, "e1", 7, false)
	errs.next(t)
}

func TestRestartedStream(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 8, false)
	expectExt(t, s, "e1", 8, false)
	peer.Drop()

	peer, _ = acceptPull(t, relay, "OK:ext=1&epoch=e2")
	sendExt(t, peer, 0, false) // the relay should mark it; the subscriber does anyway
	sendExt(t, peer, 1, false)
	expectExt(t, s, "e2", 0, true)
	expectExt(t, s, "e2", 1, false)
	peer.Drop()

	_, pull := acceptPull(t, relay, "OK:ext=1&epoch=e2")
	if pull.Resume != (protocol.Resume{Epoch: "e2", After: 1}) {
		t.Fatalf("PULL %+v, want a resume after e2/1", pull)
	}
}

func TestSeqGapIsDiscontinuity(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 1, false)
	sendExt(t, peer, 3, false)
	expectExt(t, s, "e1", 1, false)
	expectExt(t, s, "e1", 3, true)
}

func TestBaseProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replay   []int // what the relay sends after the reconnect
		want     int   // the first fragment Next returns then
		wantDisc bool
	}{
		{"overlap proves continuity", []int{1, 2, 3}, 3, false},
		{"overlap without the last one", []int{1, 3}, 3, true},
		{"gap", []int{4}, 4, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			s := start(t, relay, Options{}, relayconn.DefaultTiming())
			peer, _ := acceptPull(t, relay, "OK")
			for i := 0; i < 3; i++ {
				sendBase(t, peer, i)
				expectBase(t, s, i, false)
			}
			peer.Drop()
			peer, pull := acceptPull(t, relay, "OK")
			if pull.Resume != (protocol.Resume{}) || !pull.Ext {
				t.Fatalf("PULL %+v, want ext=1 and no resume from a base relay", pull)
			}
			for _, i := range tc.replay {
				sendBase(t, peer, i)
			}
			expectBase(t, s, tc.want, tc.wantDisc)
			// After the first new fragment, equal bytes are not skipped.
			sendBase(t, peer, 0)
			expectBase(t, s, 0, false)
		})
	}
}

func TestStreamEnd(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 0, false)
	peer.Send(t, "CLOSE")
	expectExt(t, s, "e1", 0, false)
	expectEnd(t, s, io.EOF)
	expectEnd(t, s, io.EOF)
	peer.ExpectGone(t)
	relay.NoDial(t, 100*time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	expectEnd(t, s, ErrClosed)
}

func TestUnknownStream(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK")
	peer.Send(t, "CLOSE")
	expectEnd(t, s, io.EOF)
}

func TestRelayErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  string
		fatal bool
	}{
		{protocol.CodeAuth, true},
		{protocol.CodeProtocol, true},
		{protocol.CodeUnavailable, false},
		{protocol.CodeMessageTooLarge, false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			s := start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
			acceptPull(t, relay, "E:code="+tc.code+"&message=no")
			if perr, ok := errs.next(t).(*protocol.Error); !ok || perr.Code != tc.code {
				t.Fatalf("OnError got %#v, want a *protocol.Error %s", perr, tc.code)
			}
			if tc.fatal {
				ctx, cancel := context.WithTimeout(context.Background(), fakerelay.Timeout)
				defer cancel()
				var perr *protocol.Error
				if _, err := s.Next(ctx); !errors.As(err, &perr) || perr.Code != tc.code {
					t.Fatalf("Next: %v, want the %s", err, tc.code)
				}
				relay.NoDial(t, 50*time.Millisecond)
				return
			}
			peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e")
			sendExt(t, peer, 0, false)
			expectExt(t, s, "e", 0, false)
		})
	}
}

func TestFatalErrorEndsNext(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e")
	peer.Send(t, "E:code=AUTH_ERROR&message=token%20expired")
	ctx, cancel := context.WithTimeout(context.Background(), fakerelay.Timeout)
	defer cancel()
	_, err := s.Next(ctx)
	perr, ok := err.(*protocol.Error)
	if !ok || perr.Code != protocol.CodeAuth || perr.Message != "token expired" {
		t.Fatalf("Next: %#v, want the AUTH_ERROR", err)
	}
	relay.NoDial(t, 100*time.Millisecond)
}

func TestFragmentTooLarge(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	s := start(t, relay, Options{MaxFragmentSize: 11, OnError: errs.add}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 0, false)
	peer.SendFragment(t, protocol.Fragment{Duration: 1, Seq: 1, HasSeq: true}, make([]byte, 12))
	sendExt(t, peer, 2, false)
	expectExt(t, s, "e1", 0, false)
	expectExt(t, s, "e1", 2, true)
	if err := errs.next(t); !errors.Is(err, relayconn.ErrTooLarge) {
		t.Fatalf("OnError got %v, want ErrTooLarge", err)
	}
	// The skipped fragment is not asked for again.
	peer.SendFragment(t, protocol.Fragment{Duration: 1, Seq: 3, HasSeq: true}, make([]byte, 12))
	peer.Drop()
	_, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	if pull.Resume.After != 3 {
		t.Fatalf("PULL %+v, want a resume after 3", pull)
	}
}

func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send func(t *testing.T, p *fakerelay.Peer)
		want string
	}{
		{"binary without F", func(t *testing.T, p *fakerelay.Peer) { p.SendBinary(t, []byte{1}) }, "without F"},
		{"F then text", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "F:duration=1"); p.Send(t, "H") }, "after F"},
		{"bad F", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "F:duration=-1") }, "bad F"},
		{"second OK", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "OK") }, "unexpected OK"},
		{"malformed", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "F:duration=%") }, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			s := start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
			peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e")
			peer.Send(t, "FUTURE:x=1") // unknown types are ignored
			sendExt(t, peer, 0, false)
			expectExt(t, s, "e", 0, false)
			tc.send(t, peer)
			if err := errs.next(t); !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OnError got %v, want %q", err, tc.want)
			}
			acceptPull(t, relay, "OK")
		})
	}
}

func TestNextContextLeavesConnection(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %v, want DeadlineExceeded", err)
	}
	sendExt(t, peer, 0, false)
	expectExt(t, s, "e", 0, false)
	relay.NoDial(t, 50*time.Millisecond)
}

func TestHeartbeatAndIdle(t *testing.T) {
	t.Parallel()
	timing := relayconn.DefaultTiming()
	timing.Heartbeat = 50 * time.Millisecond
	timing.Idle = 200 * time.Millisecond

	t.Run("heartbeats", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		start(t, relay, Options{}, timing)
		peer, _ := acceptPull(t, relay, "OK")
		for i := 0; i < 3; i++ {
			peer.Expect(t, protocol.TypeHeartbeat)
		}
	})
	t.Run("silent relay", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		errs := newErrorLog()
		start(t, relay, Options{OnError: errs.add}, timing)
		acceptPull(t, relay, "OK")
		if err := errs.next(t); !errors.Is(err, relayconn.ErrIdle) {
			t.Fatalf("OnError got %v, want ErrIdle", err)
		}
		acceptPull(t, relay, "OK")
	})
	t.Run("slow consumer is not silence", func(t *testing.T) {
		t.Parallel()
		relay := fakerelay.New(t)
		s := start(t, relay, Options{}, timing)
		peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e")
		sendExt(t, peer, 0, false)
		sendExt(t, peer, 1, false)
		time.Sleep(3 * timing.Idle)
		expectExt(t, s, "e", 0, false)
		expectExt(t, s, "e", 1, false)
		relay.NoDial(t, 50*time.Millisecond)
	})
}

func TestCloseUnblocksNext(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	acceptPull(t, relay, "OK")
	done := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next: %v, want ErrClosed", err)
		}
	case <-time.After(fakerelay.Timeout):
		t.Fatal("Next still blocked after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseWhileConnecting(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{}, relayconn.DefaultTiming())
	relay.Dialed(t) // never answered
	begin := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want time.Duration
	}{
		{0, 0},
		{1, time.Second},
		{2.002, 2002 * time.Millisecond},
		{0.0000000004, 0},
		{1e300, math.MaxInt64},
	}
	for _, tc := range tests {
		if got := seconds(tc.in); got != tc.want {
			t.Errorf("seconds(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
