package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// The parts extension end to end, on the wire: a publisher in parts, and
// viewers in parts, with extensions but without parts, and of the base
// protocol, on the origin and on a relay that pulls the stream from it.

func pushParts(t *testing.T, url, stream string) (*wire, protocol.OK) {
	t.Helper()
	w := dial(t, url)
	w.sendText(string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: pushToken(t, stream), Ext: true, Parts: true})))
	text := w.readText()
	msg, err := protocol.Parse([]byte(text))
	if err != nil || msg.Type != protocol.TypeOK {
		t.Fatalf("PUSH in parts answered %q", text)
	}
	ok, err := protocol.ParseOK(msg)
	if err != nil || !ok.Parts {
		t.Fatalf("PUSH in parts answered %q (%v)", text, err)
	}
	return w, ok
}

func pullParts(t *testing.T, url, stream string, maxInitial int) *wire {
	t.Helper()
	w := dial(t, url)
	w.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: maxInitial, Ext: true, Parts: true})))
	if text := w.readText(); !strings.HasPrefix(text, "OK:ext=1&epoch=") || !strings.Contains(text, "&parts=1") {
		t.Fatalf("PULL in parts answered %q", text)
	}
	return w
}

func partBytes(seq, index int) []byte {
	return []byte(fmt.Sprintf("moof+mdat %d.%d|", seq, index))
}

func (w *wire) sendInit(data []byte) {
	w.t.Helper()
	w.sendText(string(protocol.AppendInit(nil)))
	w.sendBinary(data)
}

func (w *wire) sendPart(seq, index int, independent bool) {
	w.t.Helper()
	w.sendText(string(protocol.AppendPart(nil, protocol.Part{Seq: uint64(seq), HasSeq: true, Index: uint64(index), Duration: 0.2, Independent: independent})))
	w.sendBinary(partBytes(seq, index))
}

func (w *wire) closeFragment(seq, parts int) {
	w.t.Helper()
	w.sendText(string(protocol.AppendFragment(nil, protocol.Fragment{Duration: 0.2 * float64(parts), Seq: uint64(seq), HasSeq: true, Parts: uint64(parts)}, true)))
}

// readEvent reads one delivery of a viewer in parts as a short string:
// "I:<bytes>", "P<seq>.<part>[i]" (checking the bytes), "F<seq>/<parts>".
func (w *wire) readEvent() string {
	w.t.Helper()
	text := w.readText()
	msg, err := protocol.Parse([]byte(text))
	if err != nil {
		w.t.Fatalf("parse %q: %v", text, err)
	}
	binary := func() []byte {
		typ, b, err := w.read(5 * time.Second)
		if err != nil || typ != websocket.MessageBinary {
			w.t.Fatalf("expected the binary after %q: type %d err %v", text, typ, err)
		}
		return b
	}
	switch msg.Type {
	case protocol.TypeInit:
		return "I:" + string(binary())
	case protocol.TypePart:
		p, err := protocol.ParsePart(msg)
		if err != nil || !p.HasSeq || p.Time == 0 {
			w.t.Fatalf("P message %q: %v", text, err)
		}
		if b := binary(); !bytes.Equal(b, partBytes(int(p.Seq), int(p.Index))) {
			w.t.Fatalf("part %d.%d holds %q", p.Seq, p.Index, b)
		}
		s := fmt.Sprintf("P%d.%d", p.Seq, p.Index)
		if p.Independent {
			s += "i"
		}
		return s
	case protocol.TypeFragment:
		f, err := protocol.ParseFragment(msg)
		if err != nil || f.Parts == 0 {
			w.t.Fatalf("closing F %q: %v", text, err)
		}
		return fmt.Sprintf("F%d/%d", f.Seq, f.Parts)
	}
	w.t.Fatalf("unexpected %q", text)
	return ""
}

func (w *wire) expectEvents(want ...string) {
	w.t.Helper()
	for i, e := range want {
		if got := w.readEvent(); got != e {
			w.t.Fatalf("event %d: got %s, want %s (want %v)", i, got, e, want)
		}
	}
}

func TestPartsEndToEnd(t *testing.T) {
	t.Parallel()
	url := startRelay(t, nil)
	const stream = "parts/e2e"
	pub, ok := pushParts(t, url, stream)
	if !ok.HasNext || ok.Next != 0 || ok.NextPart != 0 {
		t.Fatalf("OK %+v", ok)
	}
	pub.sendInit([]byte("ftyp+moov"))
	for i := range 5 {
		pub.sendPart(0, i, i == 0 || i == 3)
	}
	pub.closeFragment(0, 5)
	pub.sendPart(1, 0, true)
	pub.sendPart(1, 1, false)
	waitBuffered(t, url, stream, 1)
	time.Sleep(50 * time.Millisecond) // the open fragment's parts too

	// A new viewer in parts starts at the latest independent part.
	live := pullParts(t, url, stream, -1)
	live.expectEvents("I:ftyp+moov", "P1.0i", "P1.1")
	// Base viewers get the fragment whole once it is closed.
	base := view(t, url, stream, 5)
	_, whole := base.readFragment()
	if want := "moof+mdat 0.0|moof+mdat 0.1|moof+mdat 0.2|moof+mdat 0.3|moof+mdat 0.4|"; string(whole) != want {
		t.Fatalf("base viewer got %q", whole)
	}
	ext := dial(t, url)
	ext.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: 5, Ext: true})))
	if text := ext.readText(); strings.Contains(text, "parts") {
		t.Fatalf("ext viewer without parts got %q", text)
	}
	if f, _ := ext.readFragment(); f.Seq != 0 || f.Parts != 0 {
		t.Fatalf("ext viewer got %+v", f)
	}
	// A viewer asking for buffered fragments gets them from their first part.
	backlog := pullParts(t, url, stream, 1)
	backlog.expectEvents("I:ftyp+moov", "P0.0i", "P0.1", "P0.2", "P0.3i", "P0.4", "F0/5", "P1.0i", "P1.1")

	// Parts reach the viewers one by one, before their fragment closes.
	pub.sendPart(1, 2, false)
	live.expectEvents("P1.2")
	backlog.expectEvents("P1.2")
	// A resend is dropped; the closing F follows the last part.
	pub.sendPart(1, 1, false)
	pub.closeFragment(1, 3)
	live.expectEvents("F1/3")
	f, b := base.readFragment()
	if f.Duration < 0.59 || f.Duration > 0.61 || !bytes.Equal(b, append(append(partBytes(1, 0), partBytes(1, 1)...), partBytes(1, 2)...)) {
		t.Fatalf("base viewer got %+v %q", f, b)
	}
	// A new init segment reaches viewers in parts before the next part.
	pub.sendInit([]byte("ftyp+moov 2"))
	pub.sendPart(2, 0, true)
	live.expectEvents("I:ftyp+moov 2", "P2.0i")

	// A publisher reconnecting learns which part to resend.
	pub.conn.CloseNow()
	pub2, ok := pushPartsEpoch(t, url, stream, ok.Epoch)
	if ok.Next != 2 || ok.NextPart != 1 {
		t.Fatalf("reconnect OK %+v, want next=2 next_part=1", ok)
	}
	pub2.sendPart(2, 0, true) // already there: dropped
	pub2.sendPart(2, 1, false)
	live.expectEvents("P2.1")

	// A part that skips an index is refused.
	pub2.sendPart(2, 3, false)
	pub2.expectError(protocol.CodeProtocol)
}

func pushPartsEpoch(t *testing.T, url, stream, epoch string) (*wire, protocol.OK) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := dial(t, url)
		w.sendText(string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: pushToken(t, stream), Ext: true, Parts: true, Epoch: epoch})))
		text := w.readText()
		msg, _ := protocol.Parse([]byte(text))
		if ok, err := protocol.ParseOK(msg); err == nil && ok.Parts {
			return w, ok
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconnect answered %q", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPartsAcrossHops: a relay that pulls the stream from the origin
// relays it in parts, each part as it arrives.
func TestPartsAcrossHops(t *testing.T) {
	t.Parallel()
	origin := startRelay(t, nil)
	edge := startRelay(t, func(c *config.Config) {
		c.Relay.FromEnabled = true
		c.Relay.FromURL = origin
	})
	const stream = "parts/hops"
	pub, _ := pushParts(t, origin, stream)
	pub.sendInit([]byte("ftyp+moov"))
	for i := range 3 {
		pub.sendPart(0, i, i == 0)
	}
	pub.closeFragment(0, 3)
	pub.sendPart(1, 0, true)
	waitBuffered(t, origin, stream, 1)
	time.Sleep(50 * time.Millisecond)

	v := pullParts(t, edge, stream, -1)
	v.expectEvents("I:ftyp+moov", "P1.0i")
	pub.sendPart(1, 1, false)
	v.expectEvents("P1.1")
	pub.closeFragment(1, 2)
	v.expectEvents("F1/2")
	backlog := pullParts(t, edge, stream, 5)
	backlog.expectEvents("I:ftyp+moov", "P0.0i", "P0.1", "P0.2", "F0/3", "P1.0i", "P1.1", "F1/2")
}
