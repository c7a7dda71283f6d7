package subscriber

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

func partData(seq, i int) []byte { return fmt.Appendf(nil, "fragment-%d-part-%d", seq, i) }

// sendInit sends I and the init segment.
func sendInit(t *testing.T, peer *fakerelay.Peer, init string) {
	t.Helper()
	peer.Send(t, protocol.TypeInit)
	peer.SendBinary(t, []byte(init))
}

// sendPart sends part i of fragment seq: 200 ms, independent if i is 0.
func sendPart(t *testing.T, peer *fakerelay.Peer, seq, i int, disc bool) {
	t.Helper()
	peer.Send(t, string(protocol.AppendPart(nil, protocol.Part{
		Seq: uint64(seq), HasSeq: true, Index: uint64(i), Duration: 0.2, Independent: i == 0,
		Time: 1764000000000 + int64(seq*1000+i*200), Disc: disc,
	})))
	peer.SendBinary(t, partData(seq, i))
}

// sendPartsEnd sends the F closing fragment seq after n parts.
func sendPartsEnd(t *testing.T, peer *fakerelay.Peer, seq, n int) {
	t.Helper()
	peer.Send(t, string(protocol.AppendFragment(nil, protocol.Fragment{
		Duration: 0.2 * float64(n), Seq: uint64(seq), HasSeq: true, Time: 1764000000000 + int64(seq*1000), Parts: uint64(n),
	}, true)))
}

// describe renders what Next returned: "I:<data>", "P17.3" (with "!" for
// independent, "*" for disc), "F17/5", or "W17" for a whole fragment.
func describe(t *testing.T, f Fragment, epoch string) string {
	t.Helper()
	if f.Kind != InitSegment && (f.Epoch != epoch || !f.HasSeq) {
		t.Fatalf("%v %+v: epoch %q (seq set %v), want %q", f.Kind, f, f.Epoch, f.HasSeq, epoch)
	}
	disc := ""
	if f.Disc {
		disc = "*"
	}
	switch f.Kind {
	case InitSegment:
		return "I:" + string(f.Data)
	case FragmentPart:
		if string(f.Data) != string(partData(int(f.Seq), int(f.Part))) || f.Duration != 200*time.Millisecond ||
			!f.Time.Equal(time.UnixMilli(1764000000000+int64(f.Seq*1000+f.Part*200))) {
			t.Fatalf("part %+v: wrong data, duration or time", f)
		}
		ind := ""
		if f.Independent {
			ind = "!"
		}
		return fmt.Sprintf("P%d.%d%s%s", f.Seq, f.Part, ind, disc)
	case FragmentEnd:
		if f.Data != nil || f.Duration != time.Duration(f.Parts)*200*time.Millisecond {
			t.Fatalf("end %+v: data or duration", f)
		}
		return fmt.Sprintf("F%d/%d%s", f.Seq, f.Parts, disc)
	}
	return fmt.Sprintf("W%d%s", f.Seq, disc)
}

func expectSeq(t *testing.T, s *Subscriber, epoch string, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := describe(t, next(t, s), epoch); got != w {
			t.Fatalf("Next: %s, want %s", got, w)
		}
	}
}

func TestPartsPull(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	if !pull.Ext || !pull.Parts {
		t.Fatalf("PULL %+v, want ext and parts", pull)
	}
	sendInit(t, peer, "ftyp+moov")
	// Joined in the middle of fragment 17.
	sendPart(t, peer, 17, 3, false)
	sendPart(t, peer, 17, 4, false)
	sendPartsEnd(t, peer, 17, 5)
	sendPart(t, peer, 18, 0, false)
	expectSeq(t, s, "e1", "I:ftyp+moov", "P17.3", "P17.4", "F17/5", "P18.0!")
	// A whole fragment between fragments in parts (MPEG-TS, or a
	// publisher without parts).
	sendPartsEnd(t, peer, 18, 1)
	sendExt(t, peer, 19, false)
	expectSeq(t, s, "e1", "F18/1")
	expectExt(t, s, "e1", 19, false)
	sendPart(t, peer, 20, 0, false)
	expectSeq(t, s, "e1", "P20.0!")
}

func TestPartsNotAsked(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	start(t, relay, Options{}, relayconn.DefaultTiming())
	_, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	if pull.Parts {
		t.Fatalf("PULL %+v asks for parts", pull)
	}
}

// TestPartsResume: a viewer that had fragment 1 up to part 1 reconnects
// after fragment 0, the last that ended; the relay sends the init segment
// and fragment 1 from part 0 again, and the viewer gets only what it lacks.
func TestPartsResume(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	sendInit(t, peer, "init-a")
	for i := range 3 {
		sendPart(t, peer, 0, i, false)
	}
	sendPartsEnd(t, peer, 0, 3)
	sendPart(t, peer, 1, 0, false)
	sendPart(t, peer, 1, 1, false)
	expectSeq(t, s, "e1", "I:init-a", "P0.0!", "P0.1", "P0.2", "F0/3", "P1.0!", "P1.1")
	peer.Drop()

	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	if pull.Resume != (protocol.Resume{Epoch: "e1", After: 0}) || !pull.Parts {
		t.Fatalf("PULL %+v, want a resume after e1/0 with parts", pull)
	}
	sendInit(t, peer, "init-a") // the same: not again
	sendPartsEnd(t, peer, 0, 3) // ended already
	for i := range 3 {
		sendPart(t, peer, 1, i, false)
	}
	sendPartsEnd(t, peer, 1, 3)
	expectSeq(t, s, "e1", "P1.2", "F1/3")
	peer.Drop()

	peer, pull = acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	if pull.Resume != (protocol.Resume{Epoch: "e1", After: 1}) {
		t.Fatalf("PULL %+v, want a resume after e1/1", pull)
	}
	sendInit(t, peer, "init-b") // the encoder restarted: a new init segment
	sendPart(t, peer, 2, 0, false)
	expectSeq(t, s, "e1", "I:init-b", "P2.0!")
}

// TestPartsGaps: a fragment that never ended, skipped fragments and
// skipped parts mark the next part Disc.
func TestPartsGaps(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	sendPart(t, peer, 1, 0, false)
	sendPart(t, peer, 3, 0, false) // fragment 1 never ended
	sendPart(t, peer, 3, 2, false) // part 1 is missing
	sendPartsEnd(t, peer, 3, 3)
	sendPart(t, peer, 5, 0, false) // fragment 4 is missing
	sendPartsEnd(t, peer, 5, 1)
	sendPart(t, peer, 6, 0, true) // the relay says so itself
	expectSeq(t, s, "e1", "P1.0!", "P3.0!*", "P3.2*", "F3/3", "P5.0!*", "F5/1", "P6.0!*")
}

func TestPartsStreamRestart(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	s := start(t, relay, Options{Parts: true}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	sendPart(t, peer, 7, 0, false)
	expectSeq(t, s, "e1", "P7.0!")
	peer.Drop()
	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e2&parts=1")
	if pull.Resume.Epoch != "" {
		t.Fatalf("PULL %+v resumes without an ended fragment", pull)
	}
	sendPart(t, peer, 0, 0, false)
	expectSeq(t, s, "e2", "P0.0!*")
}

func TestPartsTooLarge(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	s := start(t, relay, Options{Parts: true, MaxFragmentSize: 20, OnError: errs.add}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
	sendPart(t, peer, 1, 0, false)
	peer.Send(t, "P:seq=1&part=1&duration=0.2")
	peer.SendBinary(t, make([]byte, 21))
	sendPart(t, peer, 1, 2, false)
	expectSeq(t, s, "e1", "P1.0!", "P1.2*")
	if err := errs.next(t); !errors.Is(err, relayconn.ErrTooLarge) || !strings.Contains(err.Error(), "part skipped") {
		t.Fatalf("OnError got %v", err)
	}
}

func TestPartsProtocolErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send func(t *testing.T, p *fakerelay.Peer)
		want string
	}{
		{"bad P", func(t *testing.T, p *fakerelay.Peer) { p.Send(t, "P:seq=1&duration=0.2") }, "bad P"},
		{"P without binary", func(t *testing.T, p *fakerelay.Peer) {
			p.Send(t, "P:seq=1&part=0&duration=0.2")
			p.Send(t, "H")
		}, "H after P"},
		{"I without binary", func(t *testing.T, p *fakerelay.Peer) {
			p.Send(t, "I")
			p.Send(t, "CLOSE")
		}, "CLOSE after I"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := fakerelay.New(t)
			errs := newErrorLog()
			start(t, relay, Options{Parts: true, OnError: errs.add}, relayconn.DefaultTiming())
			peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1")
			tc.send(t, peer)
			if err := errs.next(t); !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OnError got %v, want %q", err, tc.want)
			}
			acceptPull(t, relay, "OK:ext=1&epoch=e1&parts=1") // and it reconnects
		})
	}
}
