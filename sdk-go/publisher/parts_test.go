package publisher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

const testInit = "ftyp+moov"

func part(frag, i int) Part {
	return Part{
		Duration:    200 * time.Millisecond,
		Data:        fmt.Appendf(nil, "fragment-%d-part-%d", frag, i),
		Independent: i == 0,
	}
}

// sendParts sends parts first..last of fragment frag.
func sendParts(t *testing.T, p *Publisher, frag, first, last int) {
	t.Helper()
	for i := first; i <= last; i++ {
		if err := p.SendPart(context.Background(), part(frag, i)); err != nil {
			t.Fatalf("SendPart(%d, %d): %v", frag, i, err)
		}
	}
}

func closeFragment(t *testing.T, p *Publisher) {
	t.Helper()
	if err := p.CloseFragment(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// expectBinary reads the binary message that must follow a text message.
func expectBinary(t *testing.T, peer *fakerelay.Peer, after string) []byte {
	t.Helper()
	typ, data := peer.Read(t)
	if typ != websocket.MessageBinary {
		t.Fatalf("relay got text %q right after %s, want binary", data, after)
	}
	return data
}

func expectInit(t *testing.T, peer *fakerelay.Peer) {
	t.Helper()
	peer.Expect(t, protocol.TypeInit)
	if data := expectBinary(t, peer, "I"); string(data) != testInit {
		t.Fatalf("init segment %q, want %q", data, testInit)
	}
}

// expectParts reads parts first..last of fragment frag, numbered seq.
func expectParts(t *testing.T, peer *fakerelay.Peer, frag int, seq uint64, first, last int, disc bool) {
	t.Helper()
	for i := first; i <= last; i++ {
		m := peer.Expect(t, protocol.TypePart)
		p, err := protocol.ParsePart(m)
		if err != nil {
			t.Fatalf("relay got a bad P %q: %v", m, err)
		}
		want := part(frag, i)
		if !p.HasSeq || p.Seq != seq || p.Index != uint64(i) || p.Duration != 0.2 || p.Independent != want.Independent ||
			p.Disc != (disc && i == 0) {
			t.Fatalf("P %+v, want seq %d part %d (disc %v)", p, seq, i, disc && i == 0)
		}
		if p.Time != 0 {
			t.Fatalf("P carries time %d, want none (the relay stamps it)", p.Time)
		}
		if data := expectBinary(t, peer, "P"); string(data) != string(want.Data) {
			t.Fatalf("part %q, want %q", data, want.Data)
		}
	}
}

// expectEnd reads the F that closes fragment seq after parts parts.
func expectEnd(t *testing.T, peer *fakerelay.Peer, seq uint64, parts int) {
	t.Helper()
	f, err := protocol.ParseFragment(peer.Expect(t, protocol.TypeFragment))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Fragment{Duration: (time.Duration(parts) * 200 * time.Millisecond).Seconds(), Seq: seq, HasSeq: true, Parts: uint64(parts)}
	if f != want {
		t.Fatalf("closing F %+v, want %+v", f, want)
	}
}

func TestPartsPublish(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	p := start(t, relay, Options{Parts: true, OnError: errs.add}, relayconn.DefaultTiming())
	if err := p.SendPart(context.Background(), part(0, 0)); err == nil || !strings.Contains(err.Error(), "SendInit first") {
		t.Fatalf("SendPart before SendInit: %v", err)
	}
	peer, push := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0&parts=1")
	if !push.Ext || !push.Parts {
		t.Fatalf("PUSH %+v, want ext and parts", push)
	}
	if err := p.SendInit(context.Background(), []byte(testInit)); err != nil {
		t.Fatal(err)
	}
	sendParts(t, p, 0, 0, 1)
	expectInit(t, peer)
	// Each part goes out as soon as it is sent, before the fragment ends.
	expectParts(t, peer, 0, 0, 0, 1, false)
	sendParts(t, p, 0, 2, 4)
	expectParts(t, peer, 0, 0, 2, 4, false)
	closeFragment(t, p)
	expectEnd(t, peer, 0, 5)
	// The next fragment: no init segment again on the same connection.
	sendParts(t, p, 1, 0, 1)
	expectParts(t, peer, 1, 1, 0, 1, false)

	// Close ends the open fragment, then the stream.
	done := closeAsync(p, fakerelay.Timeout)
	expectEnd(t, peer, 1, 2)
	peer.Expect(t, protocol.TypeClose)
	peer.ExpectGone(t)
	if err := wait(t, done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, call := range []func() error{
		func() error { return p.SendInit(context.Background(), []byte("x")) },
		func() error { return p.SendPart(context.Background(), part(2, 0)) },
		func() error { return p.CloseFragment(context.Background()) },
	} {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	}
	select {
	case err := <-errs.ch:
		t.Errorf("OnError got %v", err)
	default:
	}
}

// TestPartsResendAfterReconnect: the relay lost the connection in the
// middle of a fragment; it holds part 0 of fragment 1 and says so with
// next_part. The publisher sends the init segment again, then what the
// relay lacks.
func TestPartsResendAfterReconnect(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0&parts=1")
	if err := p.SendInit(context.Background(), []byte(testInit)); err != nil {
		t.Fatal(err)
	}
	sendParts(t, p, 0, 0, 2)
	closeFragment(t, p)
	sendParts(t, p, 1, 0, 2)
	expectInit(t, peer)
	expectParts(t, peer, 0, 0, 0, 2, false)
	expectEnd(t, peer, 0, 3)
	expectParts(t, peer, 1, 1, 0, 2, false)
	peer.Drop()

	peer, push := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=1&next_part=1&parts=1")
	if push.Epoch != "e1" || !push.Parts {
		t.Fatalf("PUSH %+v, want epoch e1 and parts", push)
	}
	expectInit(t, peer)
	expectParts(t, peer, 1, 1, 1, 2, false)
	sendParts(t, p, 1, 3, 4)
	expectParts(t, peer, 1, 1, 3, 4, false)
	closeFragment(t, p)
	expectEnd(t, peer, 1, 5)
}

// TestPartsFallback: a relay that answers without parts=1 gets each
// fragment whole once it is closed, and OnError hears about it once.
func TestPartsFallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, ok, want string }{
		{"extensions without parts", "OK:ext=1&epoch=e1&next=0", "F:duration=0.6&seq=0"},
		{"base protocol", "OK", "F:duration=0.6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			p := start(t, relay, Options{Parts: true, OnError: errs.add}, relayconn.DefaultTiming())
			peer, _ := acceptPush(t, relay, tc.ok)
			if err := errs.next(t); !errors.Is(err, ErrPartsUnsupported) || !strings.Contains(err.Error(), stream) {
				t.Fatalf("OnError got %v, want ErrPartsUnsupported", err)
			}
			if err := p.SendInit(context.Background(), []byte(testInit)); err != nil {
				t.Fatal(err)
			}
			sendParts(t, p, 0, 0, 2)
			closeFragment(t, p)
			if _, text := peer.Read(t); string(text) != tc.want {
				t.Fatalf("relay got %q, want %q", text, tc.want)
			}
			want := "fragment-0-part-0fragment-0-part-1fragment-0-part-2"
			if data := expectBinary(t, peer, "F"); string(data) != want {
				t.Fatalf("fragment %q, want the parts concatenated", data)
			}
			peer.Drop()
			// Reported once per publisher, not per connection.
			acceptPush(t, relay, tc.ok)
			sendParts(t, p, 1, 0, 0)
			closeFragment(t, p)
			// The next connection of a base relay cannot say what it lost.
			select {
			case err := <-errs.ch:
				if errors.Is(err, ErrPartsUnsupported) {
					t.Fatal("ErrPartsUnsupported reported twice")
				}
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

// TestPartsThenReconnectToOldRelay: a publisher that sent parts to a relay
// with parts reconnects to one without: the open fragment goes whole.
func TestPartsThenReconnectToOldRelay(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0&parts=1")
	if err := p.SendInit(context.Background(), []byte(testInit)); err != nil {
		t.Fatal(err)
	}
	sendParts(t, p, 0, 0, 1)
	expectInit(t, peer)
	expectParts(t, peer, 0, 0, 0, 1, false)
	peer.Drop()
	peer, _ = acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	closeFragment(t, p)
	f, data := peer.ExpectFragment(t)
	if f.Seq != 0 || !f.HasSeq || f.Parts != 0 || string(data) != "fragment-0-part-0fragment-0-part-1" {
		t.Fatalf("F %+v with %q", f, data)
	}
}

func TestPartsWithWholeFragments(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0&parts=1")
	if err := p.SendInit(context.Background(), []byte(testInit)); err != nil {
		t.Fatal(err)
	}
	sendParts(t, p, 0, 0, 0)
	send(t, p, 1) // closes fragment 0
	expectInit(t, peer)
	expectParts(t, peer, 0, 0, 0, 0, false)
	expectEnd(t, peer, 0, 1)
	expect(t, peer, []int{1}, []uint64{1}, -1)
	// A disc part opens a new fragment, marked.
	sendParts(t, p, 2, 0, 0)
	if err := p.SendPart(context.Background(), Part{Duration: 200 * time.Millisecond, Data: []byte("fragment-3-part-0"), Independent: true, Disc: true}); err != nil {
		t.Fatal(err)
	}
	expectParts(t, peer, 2, 2, 0, 0, false)
	expectEnd(t, peer, 2, 1)
	expectParts(t, peer, 3, 3, 0, 0, true)
}

func TestPartsValidation(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.SendInit(context.Background(), nil); err == nil {
		t.Error("SendInit accepted an empty init segment")
	}
	if err := p.SendInit(cancelled, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("SendInit with a done ctx: %v", err)
	}
	if err := p.SendInit(context.Background(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]Part{
		"empty":             {Duration: time.Second},
		"negative duration": {Duration: -time.Second, Data: []byte{1}},
	} {
		if err := p.SendPart(context.Background(), bad); err == nil {
			t.Errorf("%s: SendPart accepted it", name)
		}
	}
	if err := p.SendPart(cancelled, part(0, 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("SendPart with a done ctx: %v", err)
	}
	if err := p.CloseFragment(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("CloseFragment with a done ctx: %v", err)
	}
	if err := p.CloseFragment(context.Background()); err != nil {
		t.Errorf("CloseFragment with none open: %v", err)
	}
}

// TestPartsCopiesData: the caller may reuse its buffers at once.
func TestPartsCopiesData(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	p := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	pending := relay.Dialed(t)
	init := []byte(testInit)
	data := []byte("fragment-0-part-0")
	if err := p.SendInit(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	if err := p.SendPart(context.Background(), Part{Duration: 200 * time.Millisecond, Data: data, Independent: true}); err != nil {
		t.Fatal(err)
	}
	copy(init, "reused!!!")
	copy(data, "reused!!!")
	peer := pending.Accept(t)
	peer.Expect(t, protocol.TypePush)
	peer.Send(t, "OK:ext=1&epoch=e1&next=0&parts=1")
	expectInit(t, peer)
	expectParts(t, peer, 0, 0, 0, 0, false)
}
