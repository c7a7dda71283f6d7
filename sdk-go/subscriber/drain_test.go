package subscriber

import (
	"testing"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// TestDrainedRelay: a relay that drains sends E:code=UNAVAILABLE and closes
// with 1001 (docs/protocol.md). That is not the end of the stream: the
// subscriber reports it, connects again with a resume, and goes on with the
// stream on the node that has it now (another instance: a discontinuity).
func TestDrainedRelay(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	errs := newErrorLog()
	s := start(t, relay, Options{OnError: errs.add}, relayconn.DefaultTiming())
	peer, _ := acceptPull(t, relay, "OK:ext=1&epoch=e1")
	sendExt(t, peer, 3, false)
	expectExt(t, s, "e1", 3, false)
	peer.Send(t, "E:code=UNAVAILABLE&message=this%20node%20is%20shutting%20down")
	peer.CloseGoingAway()
	if perr, ok := errs.next(t).(*protocol.Error); !ok || perr.Code != protocol.CodeUnavailable {
		t.Fatalf("OnError got %#v, want the UNAVAILABLE", perr)
	}

	peer, pull := acceptPull(t, relay, "OK:ext=1&epoch=e2")
	if pull.Resume != (protocol.Resume{Epoch: "e1", After: 3}) {
		t.Fatalf("PULL %+v, want a resume after e1/3", pull)
	}
	sendExt(t, peer, 0, false)
	expectExt(t, s, "e2", 0, true)
}
