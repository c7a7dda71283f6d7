package publisher

import (
	"context"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/fakerelay"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
)

// TestUnavailableIsLeftAtOnce: a relay that drains answers E:code=
// UNAVAILABLE and closes with 1001; the publisher tries again at once (to
// reach another node before the viewers do), but not twice in a row, and
// other errors keep their delay.
func TestUnavailableIsLeftAtOnce(t *testing.T) {
	t.Parallel()
	relay := fakerelay.New(t)
	delays := make(chan time.Duration, 10)
	p, err := newPublisher(Options{URL: relay.URL, Stream: stream, RetryDelay: 50 * time.Millisecond},
		relayconn.DefaultTiming(), func(d time.Duration) { delays <- d })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	peer, _ := acceptPush(t, relay, "OK:ext=1&epoch=e1&next=0")
	peer.Send(t, "E:code=UNAVAILABLE&message=this%20node%20is%20shutting%20down")
	peer.CloseGoingAway()
	if d := wait(t, delays); d != 0 {
		t.Fatalf("retry after %v following UNAVAILABLE, want at once", d)
	}
	// The next relay says the same right away: now the delay applies.
	peer, _ = acceptPush(t, relay, "E:code=UNAVAILABLE&message=again")
	peer.ExpectGone(t)
	if d := wait(t, delays); d < 50*time.Millisecond {
		t.Fatalf("second retry after %v, want the retry delay", d)
	}
	peer, _ = acceptPush(t, relay, "E:code=STREAM_BUSY&message=busy")
	peer.ExpectGone(t)
	if d := wait(t, delays); d == 0 {
		t.Fatal("STREAM_BUSY retried at once")
	}
	acceptPush(t, relay, "OK")
}
