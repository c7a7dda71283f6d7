package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// source is a scripted upstream relay: for each PULL it records the request
// and runs serve on the connection.
type source struct {
	url   string
	pulls atomic.Int32
	mu    sync.Mutex
	last  protocol.Pull
	via   string
}

func newSource(t *testing.T, serve func(ctx context.Context, c *websocket.Conn, pull protocol.Pull)) *source {
	t.Helper()
	s := &source{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, body, err := c.Read(r.Context())
		if err != nil {
			return
		}
		m, _ := protocol.Parse(body)
		pull, err := protocol.ParsePull(m)
		if err != nil {
			return
		}
		s.pulls.Add(1)
		s.mu.Lock()
		s.last, s.via = pull, r.Header.Get(ViaHeader)
		s.mu.Unlock()
		serve(r.Context(), c, pull)
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	return s
}

func send(ctx context.Context, c *websocket.Conn, text string) error {
	return c.Write(ctx, websocket.MessageText, []byte(text))
}

// streaming answers OK with an epoch and sends a fragment every interval
// until the connection ends.
func streaming(epoch string, interval time.Duration) func(context.Context, *websocket.Conn, protocol.Pull) {
	return func(ctx context.Context, c *websocket.Conn, _ protocol.Pull) {
		if send(ctx, c, "OK:ext=1&epoch="+epoch) != nil {
			return
		}
		go func() { // notice the client's close
			for {
				if _, _, err := c.Read(ctx); err != nil {
					c.CloseNow()
					return
				}
			}
		}()
		for seq := 0; ; seq++ {
			f := protocol.Fragment{Duration: 0.1, Seq: uint64(seq), HasSeq: true, Time: time.Now().UnixMilli()}
			if c.Write(ctx, websocket.MessageText, protocol.AppendFragment(nil, f, true)) != nil ||
				c.Write(ctx, websocket.MessageBinary, []byte(epoch+"-data")) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

type staticRegistry struct {
	url string
	err error
}

func (r staticRegistry) Lookup(context.Context, string) (string, bool, error) {
	return r.url, r.url != "", r.err
}

func newManager(t *testing.T, cfg Config) (*Manager, *hub.Hub) {
	t.Helper()
	h := hub.New(hub.Config{PublisherGrace: time.Second})
	cfg.Hub = h
	cfg.InstanceID = "self"
	cfg.Log = zerolog.New(zerolog.NewTestWriter(t))
	m := New(cfg)
	t.Cleanup(m.Close)
	return m, h
}

func upstreamSrc(url string) []policy.Source {
	return []policy.Source{{Kind: policy.SourceUpstream, URL: url}}
}

// waitFragments waits until the local stream holds at least n fragments.
func waitFragments(t *testing.T, s *hub.Stream, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Fragments < n {
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d fragments, want %d", s.Stats().Fragments, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConcurrentViewersShareOnePull(t *testing.T) {
	src := newSource(t, streaming("e1", 20*time.Millisecond))
	m, _ := newManager(t, Config{})
	var wg sync.WaitGroup
	streams := make([]*hub.Stream, 50)
	for i := range streams {
		wg.Go(func() {
			s, err := m.Ensure(t.Context(), Request{Stream: "s", Via: []string{"edge"}}, upstreamSrc(src.url))
			if err != nil {
				t.Errorf("Ensure: %v", err)
			}
			streams[i] = s
		})
	}
	wg.Wait()
	for _, s := range streams {
		if s != streams[0] {
			t.Fatal("viewers got different local streams")
		}
	}
	waitFragments(t, streams[0], 3)
	if got := src.pulls.Load(); got != 1 {
		t.Fatalf("upstream saw %d PULLs, want 1", got)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.via != "edge,self" {
		t.Errorf("Via = %q, want the viewer's chain and this node", src.via)
	}
	if src.last.OnlySource || !src.last.Ext {
		t.Errorf("PULL to a fixed upstream: only_source=%v ext=%v; want false, true", src.last.OnlySource, src.last.Ext)
	}
}

func TestNotFound(t *testing.T) {
	tests := []struct {
		name string
		ok   string
	}{
		{"base protocol", "OK"},
		{"extensions", "OK:ext=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, func(ctx context.Context, c *websocket.Conn, _ protocol.Pull) {
				_ = send(ctx, c, tt.ok)
				_ = send(ctx, c, "CLOSE")
			})
			m, h := newManager(t, Config{})
			_, err := m.Ensure(t.Context(), Request{Stream: "s"}, upstreamSrc(src.url))
			if !errors.Is(err, hub.ErrNotFound) {
				t.Fatalf("Ensure = %v, want hub.ErrNotFound", err)
			}
			if h.Stream("s") != nil || m.Count() != 0 {
				t.Fatal("a stream found nowhere left a local stream or pull behind")
			}
		})
	}
}

// A base-protocol upstream says nothing about the stream in its OK: the
// first fragment tells.
func TestBaseProtocolUpstream(t *testing.T) {
	src := newSource(t, func(ctx context.Context, c *websocket.Conn, _ protocol.Pull) {
		_ = send(ctx, c, "OK")
		for range 3 {
			_ = send(ctx, c, "F:duration=1.0")
			_ = c.Write(ctx, websocket.MessageBinary, []byte("ts"))
		}
		<-ctx.Done()
	})
	m, _ := newManager(t, Config{})
	s, err := m.Ensure(t.Context(), Request{Stream: "s"}, upstreamSrc(src.url))
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	waitFragments(t, s, 3)
}

func TestRegistrySource(t *testing.T) {
	src := newSource(t, streaming("e1", 20*time.Millisecond))
	regSrc := []policy.Source{{Kind: policy.SourceRegistry}}

	t.Run("pulls with only_source", func(t *testing.T) {
		m, _ := newManager(t, Config{Registry: staticRegistry{url: src.url}})
		s, err := m.Ensure(t.Context(), Request{Stream: "s"}, regSrc)
		if err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		waitFragments(t, s, 1)
		src.mu.Lock()
		defer src.mu.Unlock()
		if !src.last.OnlySource {
			t.Error("PULL to the publishing node without only_source")
		}
	})
	t.Run("names this node", func(t *testing.T) {
		m, _ := newManager(t, Config{Registry: staticRegistry{url: src.url}, SelfURL: src.url})
		if _, err := m.Ensure(t.Context(), Request{Stream: "s"}, regSrc); !errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("Ensure = %v, want hub.ErrNotFound", err)
		}
	})
	t.Run("unavailable", func(t *testing.T) {
		m, _ := newManager(t, Config{Registry: staticRegistry{err: errors.New("redis down")}})
		_, err := m.Ensure(t.Context(), Request{Stream: "s"}, regSrc)
		if err == nil || errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("Ensure = %v, want the registry's error", err)
		}
	})
}

func TestInactivityEndsPull(t *testing.T) {
	src := newSource(t, streaming("e1", 20*time.Millisecond))
	m, h := newManager(t, Config{Inactivity: 200 * time.Millisecond})
	s, err := m.Ensure(t.Context(), Request{Stream: "s"}, upstreamSrc(src.url))
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	waitFragments(t, s, 1)
	deadline := time.Now().Add(5 * time.Second)
	for m.Count() > 0 || h.Stream("s") != nil {
		if time.Now().After(deadline) {
			t.Fatal("pull without viewers still open")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The first source drops the connection; the pull finds the stream on the
// next source and the local stream continues, marked with a discontinuity.
func TestFailoverToNextSource(t *testing.T) {
	var first atomic.Bool
	dropping := newSource(t, func(ctx context.Context, c *websocket.Conn, pull protocol.Pull) {
		if first.Swap(true) {
			_ = send(ctx, c, "OK:ext=1")
			_ = send(ctx, c, "CLOSE")
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		streaming("e1", 20*time.Millisecond)(ctx, c, pull)
	})
	backup := newSource(t, streaming("e2", 20*time.Millisecond))
	m, h := newManager(t, Config{})
	sources := []policy.Source{{Kind: policy.SourceUpstream, URL: dropping.url}, {Kind: policy.SourceUpstream, URL: backup.url}}
	if _, err := m.Ensure(t.Context(), Request{Stream: "s"}, sources); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	sink := newRecorder()
	sub, err := h.Subscribe("s", hub.Start{MaxInitial: -1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub.Start()
	deadline := time.Now().Add(5 * time.Second)
	for !sink.sawDiscAfter("e1-data", "e2-data") {
		if time.Now().After(deadline) {
			t.Fatalf("no marked switch from the first source to the backup: %v", sink.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Yield lets a local publisher take over the stream without ending it.
func TestYield(t *testing.T) {
	src := newSource(t, streaming("e1", 20*time.Millisecond))
	m, h := newManager(t, Config{})
	s, err := m.Ensure(t.Context(), Request{Stream: "s"}, upstreamSrc(src.url))
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	waitFragments(t, s, 1)
	if _, err := h.Publish("s", hub.PublishOptions{}); !errors.Is(err, hub.ErrStreamBusy) {
		t.Fatalf("Publish during the pull = %v, want ErrStreamBusy", err)
	}
	if !m.Yield("s") {
		t.Fatal("Yield found no pull")
	}
	pub, err := h.Publish("s", hub.PublishOptions{})
	if err != nil {
		t.Fatalf("Publish after Yield: %v", err)
	}
	if pub.Stream() != s || !pub.Resumed() {
		t.Fatal("the local publisher did not continue the relayed stream")
	}
	if m.Count() != 0 {
		t.Fatal("pull still registered after Yield")
	}
}

// Locate tries the route's sources in order: this node's stream when the
// route lists this node and it has the stream, another node otherwise,
// unless only local streams may serve the PULL.
func TestLocate(t *testing.T) {
	src := newSource(t, streaming("e1", 20*time.Millisecond))
	m, h := newManager(t, Config{})
	local := policy.Source{Kind: policy.SourceLocal}
	remote := policy.Source{Kind: policy.SourceUpstream, URL: src.url}

	if _, err := m.Locate(t.Context(), Request{Stream: "s"}, []policy.Source{local, remote}, true); !errors.Is(err, hub.ErrNotFound) {
		t.Fatalf("Locate with onlyLocal = %v, want hub.ErrNotFound", err)
	}
	if src.pulls.Load() != 0 {
		t.Fatal("onlyLocal pulled from another node")
	}
	pub, err := h.Publish("mine", hub.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Locate(t.Context(), Request{Stream: "mine"}, []policy.Source{local, remote}, false)
	if err != nil || got != pub.Stream() {
		t.Fatalf("Locate of a local stream = %v, %v", got, err)
	}
	if src.pulls.Load() != 0 {
		t.Fatal("a stream this node has was pulled from another node")
	}
	s, err := m.Locate(t.Context(), Request{Stream: "s"}, []policy.Source{local, remote}, false)
	if err != nil {
		t.Fatalf("Locate through the upstream: %v", err)
	}
	waitFragments(t, s, 1)
	if src.pulls.Load() != 1 {
		t.Fatalf("upstream saw %d PULLs, want 1", src.pulls.Load())
	}
}
