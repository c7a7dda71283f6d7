package hub

import (
	"testing"
	"time"
)

// TestCloseAndDrain: both end the stream after every subscriber got the
// fragments due to it, a blocked one included; only Drain reports
// Draining, and the publisher can append nothing afterwards.
func TestCloseAndDrain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		end      func(*Stream)
		draining bool
	}{
		{"close", (*Stream).Close, false},
		{"drain", (*Stream).Drain, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := New(Config{RingLength: 10, PublisherGrace: time.Hour})
			pub, _ := h.Publish("s", PublishOptions{})
			_, fast := subscribe(t, h, "s", Start{MaxInitial: -1})
			slow := newRecorder()
			slow.block = make(chan struct{})
			slow.entered = make(chan uint64, 16)
			sub, err := h.Subscribe("s", Start{MaxInitial: -1}, slow)
			if err != nil {
				t.Fatal(err)
			}
			sub.Start()
			t.Cleanup(sub.Close)
			appendN(t, pub, 3, 10)
			<-slow.entered // the slow viewer is stuck in its first write

			s := h.Stream("s")
			tc.end(s)
			if _, ok := pub.Append(Input{Duration: 1, Data: []byte("late")}); ok {
				t.Fatal("the publisher appended to an ended stream")
			}
			waitFor(t, fast, fast.isEnded)
			close(slow.block)
			waitFor(t, slow, slow.isEnded)
			for _, r := range []*recorder{fast, slow} {
				if !equalSeqs(r.seqs(), []uint64{0, 1, 2}) {
					t.Fatalf("got %v before the end, want 0 1 2", r.seqs())
				}
			}
			if s.Draining() != tc.draining {
				t.Fatalf("Draining() = %v, want %v", s.Draining(), tc.draining)
			}
			if h.Stream("s") != nil {
				t.Fatal("the ended stream is still listed")
			}
			if sub.Stream() != s {
				t.Fatal("Subscription.Stream is not the stream subscribed to")
			}
		})
	}
}

// TestDrainAfterEndKeepsEnd: a stream that its publisher ended stays ended,
// not draining.
func TestDrainAfterEndKeepsEnd(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10})
	pub, _ := h.Publish("s", PublishOptions{})
	s := pub.Stream()
	pub.End()
	s.Drain()
	if s.Draining() {
		t.Fatal("a stream its publisher ended reports Draining after Drain")
	}
}
