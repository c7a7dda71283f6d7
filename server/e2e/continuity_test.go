package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/sdk-go/subscriber"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// numbered returns fragment i: its number in the first 4 bytes, then filler.
func numbered(i int) []byte {
	b := make([]byte, 2000)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

func numberOf(t *testing.T, b []byte) int {
	t.Helper()
	if len(b) != 2000 {
		t.Fatalf("fragment of %d bytes", len(b))
	}
	return int(binary.BigEndian.Uint32(b))
}

// TestPublisherReconnectIsGapless: the publisher's connection is cut in the
// middle of the stream; it reconnects within the grace period; the viewer
// stays connected and receives every fragment once, in order.
func TestPublisherReconnectIsGapless(t *testing.T) {
	t.Parallel()
	relayURL := startRelay(t, func(c *config.Config) {
		c.Limits.PublisherGrace = 10 * time.Second
		// The publisher resends in a burst after reconnecting; a ring
		// shorter than the burst would (rightly) skip the viewer ahead.
		c.Buffer.MaxFragments = 100
	})
	proxy := newCutter(t, relayURL)
	const stream = "continuity/publisher"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pub, ready := startPublisher(t, ctx, proxy.url(), stream)

	// An extension viewer, straight to the relay: it sees seq and disc.
	v := dial(t, relayURL)
	v.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: -1, Ext: true})))
	if ok := v.readText(); ok[:8] != "OK:ext=1" {
		t.Fatalf("got %q", ok)
	}

	const n = 40
	for i := 0; i < n; i++ {
		if i == n/2 {
			proxy.cut()
		}
		if err := pub.Send(ctx, publisher.Fragment{Duration: 100 * time.Millisecond, Data: numbered(i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitReady(t, ready) // the reconnect was accepted
	for i := 0; i < n; i++ {
		meta, b := v.readFragment()
		if got := numberOf(t, b); got != i || meta.Seq != uint64(i) || meta.Disc {
			t.Fatalf("fragment %d: got number %d seq %d disc %v", i, got, meta.Seq, meta.Disc)
		}
	}
}

// startPublisher starts an SDK publisher that retries fast; ready receives
// each time the relay accepts its PUSH (the first time already waited for).
func startPublisher(t *testing.T, ctx context.Context, url, stream string) (*publisher.Publisher, <-chan struct{}) {
	t.Helper()
	ready := make(chan struct{}, 10)
	pub, err := publisher.New(publisher.Options{
		URL: url, Stream: stream, Secret: pushSecret,
		RetryDelay: 50 * time.Millisecond, QueueLength: 50,
		OnReady: func() { ready <- struct{}{} },
		OnError: func(err error) { t.Logf("publisher: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(ctx) })
	waitReady(t, ready)
	return pub, ready
}

func waitReady(t *testing.T, ready <-chan struct{}) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not accept the publisher")
	}
}

// TestBasePublisherReconnectMarksDiscontinuity: a base-protocol publisher
// drops without CLOSE and pushes again within the grace period; the viewer
// stays connected; extension viewers see disc=1 on the first new fragment.
func TestBasePublisherReconnectMarksDiscontinuity(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) { c.Limits.PublisherGrace = 10 * time.Second })
	first := publish(t, url, "base/reconnect")
	base := view(t, url, "base/reconnect", -1)
	ext := dial(t, url)
	ext.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: "base/reconnect", Auth: pullToken(t, "base/reconnect"), MaxInitialFragments: -1, Ext: true})))
	ext.readText()

	first.sendFragment(1, []byte("before"))
	first.conn.CloseNow() // no CLOSE: a dropped connection
	second := publish(t, url, "base/reconnect")
	second.sendFragment(1, []byte("after"))

	for _, want := range []string{"before", "after"} {
		if _, b := base.readFragment(); string(b) != want {
			t.Fatalf("base viewer got %q, want %q", b, want)
		}
	}
	if meta, b := ext.readFragment(); string(b) != "before" || meta.Seq != 0 {
		t.Fatalf("ext viewer got %q %+v", b, meta)
	}
	if meta, b := ext.readFragment(); string(b) != "after" || meta.Seq != 1 || !meta.Disc {
		t.Fatalf("ext viewer got %q %+v, want seq 1 with disc", b, meta)
	}
}

// TestViewerResume: the viewer's connection is cut; the subscriber
// reconnects with the last sequence number and continues with no gap and no
// duplicate.
func TestViewerResume(t *testing.T) {
	t.Parallel()
	relayURL := startRelay(t, func(c *config.Config) { c.Buffer.MaxFragments = 100 })
	proxy := newCutter(t, relayURL)
	const stream = "continuity/viewer"
	pub := publish(t, relayURL, stream)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	sub, err := subscriber.New(subscriber.Options{URL: proxy.url(), Stream: stream, Secret: pullSecret, RetryDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	const n = 30
	go func() {
		for i := 0; i < n; i++ {
			pub.sendFragment(0.1, numbered(i))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var epoch string
	for i := 0; i < n; i++ {
		if i == 10 || i == 20 {
			proxy.cut()
		}
		f, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if got := numberOf(t, f.Data); got != i || f.Seq != uint64(i) || f.Disc {
			t.Fatalf("fragment %d: got number %d seq %d disc %v", i, got, f.Seq, f.Disc)
		}
		if epoch == "" {
			epoch = f.Epoch
		} else if f.Epoch != epoch {
			t.Fatalf("epoch changed from %s to %s", epoch, f.Epoch)
		}
	}
	if !bytes.Equal(numbered(0)[4:], make([]byte, 1996)) {
		t.Fatal("filler changed") // keeps numbered honest
	}
}

// TestResumeOnTheWire checks the relay's side of resume with raw messages:
// a PULL naming epoch and after continues exactly after that fragment.
func TestResumeOnTheWire(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	const stream = "resume/wire"
	pub := publish(t, url, stream)
	for i := 0; i < 6; i++ {
		pub.sendFragment(1, numbered(i))
	}
	waitBuffered(t, url, stream, 6)
	pullExt := func(resume protocol.Resume, maxInitial int) (*wire, string) {
		w := dial(t, url)
		w.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: maxInitial, Ext: true, Resume: resume})))
		msg, _ := protocol.Parse([]byte(w.readText()))
		ok, err := protocol.ParseOK(msg)
		if err != nil || !ok.Ext || ok.Epoch == "" {
			t.Fatalf("OK: %+v %v", ok, err)
		}
		return w, ok.Epoch
	}
	first, epoch := pullExt(protocol.Resume{}, 2)
	if meta, b := first.readFragment(); numberOf(t, b) != 4 || meta.Seq != 4 {
		t.Fatalf("max_initial_fragments=2 started at %d", meta.Seq)
	}
	tests := []struct {
		name      string
		resume    protocol.Resume
		maxInit   int
		wantFirst int
		wantDisc  bool
	}{
		{"continues after the last seen", protocol.Resume{Epoch: epoch, After: 2}, 0, 3, false},
		{"at the live edge waits for the next", protocol.Resume{Epoch: epoch, After: 5}, -1, 6, false},
		{"another epoch starts afresh, marked", protocol.Resume{Epoch: "other", After: 2}, 2, 5, true},
	}
	pub.sendFragment(1, numbered(6))
	for _, tt := range tests {
		w, _ := pullExt(tt.resume, tt.maxInit)
		meta, b := w.readFragment()
		if got := numberOf(t, b); got != tt.wantFirst || meta.Seq != uint64(tt.wantFirst) || meta.Disc != tt.wantDisc {
			t.Errorf("%s: first fragment %d (seq %d, disc %v), want %d (disc %v)", tt.name, got, meta.Seq, meta.Disc, tt.wantFirst, tt.wantDisc)
		}
	}
}

// TestPublisherTakesOverSilentConnection: the publisher's old connection is
// still open on the relay (the network path died silently), so a plain PUSH
// would be refused as a second publisher; the SDK names its epoch and takes
// over, and the viewer sees no gap.
func TestPublisherTakesOverSilentConnection(t *testing.T) {
	t.Parallel()
	relayURL := startRelay(t, func(c *config.Config) { c.Buffer.MaxFragments = 100 })
	proxy := newCutter(t, relayURL)
	const stream = "continuity/takeover"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, ready := startPublisher(t, ctx, proxy.url(), stream)
	v := view(t, relayURL, stream, -1)
	for i := 0; i < 20; i++ {
		if i == 10 {
			proxy.blackhole()
		}
		if err := pub.Send(ctx, publisher.Fragment{Duration: 100 * time.Millisecond, Data: numbered(i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitReady(t, ready)
	for i := 0; i < 20; i++ {
		if _, b := v.readFragment(); numberOf(t, b) != i {
			t.Fatalf("fragment %d: got %d", i, numberOf(t, b))
		}
	}
}
