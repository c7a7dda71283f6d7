package hub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func windowSeqs(w Window) []uint64 {
	out := make([]uint64, len(w.Fragments))
	for i, f := range w.Fragments {
		out[i] = f.Seq
	}
	return out
}

func TestWindowFollowsTheRing(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 3})
	pub, _ := h.Publish("s", PublishOptions{})
	s := pub.Stream()
	if w := s.Window(); len(w.Fragments) != 0 || w.Next != 0 || w.Ended || w.Epoch != s.Epoch() {
		t.Fatalf("empty stream: %+v", w)
	}
	inputs := []Input{
		{Duration: 1, Data: []byte("0")},
		{Duration: 2.5, Data: []byte("1"), Disc: true},
		{Duration: 1, Data: []byte("2")},
		{Duration: 1, Data: []byte("3"), Disc: true},
		{Duration: 0.5, Data: []byte("4")},
	}
	for _, in := range inputs {
		if _, ok := pub.Append(in); !ok {
			t.Fatal("append dropped")
		}
	}
	w := s.Window()
	if got := windowSeqs(w); !equalSeqs(got, []uint64{2, 3, 4}) {
		t.Fatalf("window %v, want [2 3 4]", got)
	}
	// Seq 1 (disc) was evicted; seq 3 (disc) is in the window.
	if w.DiscsBefore != 1 {
		t.Errorf("DiscsBefore = %d, want 1", w.DiscsBefore)
	}
	// The longest fragment left the ring; the maximum stays.
	if w.MaxDuration != 2.5 {
		t.Errorf("MaxDuration = %v, want 2.5", w.MaxDuration)
	}
	if w.Next != 5 || w.Ended {
		t.Errorf("Next %d Ended %v", w.Next, w.Ended)
	}
	if f := s.Fragment(3); f == nil || string(f.Data) != "3" {
		t.Errorf("Fragment(3) = %v", f)
	}
	for _, seq := range []uint64{1, 5, 99} {
		if f := s.Fragment(seq); f != nil {
			t.Errorf("Fragment(%d) = seq %d, want nil", seq, f.Seq)
		}
	}
}

func TestWindowAfterEnd(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 4})
	pub, _ := h.Publish("s", PublishOptions{})
	s := pub.Stream()
	appendN(t, pub, 6, 10)
	pub.End()
	if h.Stream("s") != nil {
		t.Fatal("the hub still lists the ended stream")
	}
	w := s.Window()
	if !w.Ended || !equalSeqs(windowSeqs(w), []uint64{2, 3, 4, 5}) {
		t.Fatalf("ended window: ended=%v seqs=%v", w.Ended, windowSeqs(w))
	}
	if f := s.Fragment(4); f == nil || f.Seq != 4 {
		t.Errorf("Fragment(4) after end = %v", f)
	}
	if f := s.Fragment(1); f != nil {
		t.Errorf("Fragment(1) after end = seq %d, want nil", f.Seq)
	}
	// The hub's byte count no longer includes the ended ring.
	if got := h.TotalBytes(); got != 0 {
		t.Errorf("TotalBytes = %d after the end", got)
	}
}

func TestWindowGapsAndRestart(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10})
	pub, _ := h.Publish("s", PublishOptions{})
	pub.Append(Input{Duration: 1, Data: []byte("a"), Seq: 0, HasSeq: true})
	pub.Append(Input{Duration: 1, Data: []byte("b"), Seq: 3, HasSeq: true})
	w := pub.Stream().Window()
	if !equalSeqs(windowSeqs(w), []uint64{0, 3}) || !w.Fragments[1].Disc || w.DiscsBefore != 0 {
		t.Fatalf("gap: seqs %v disc %v before %d", windowSeqs(w), w.Fragments[1].Disc, w.DiscsBefore)
	}
	first := w.Epoch
	pub.End()
	pub2, _ := h.Publish("s", PublishOptions{})
	w2 := pub2.Stream().Window()
	if w2.Epoch == first || w2.Next != 0 || w2.MaxDuration != 0 || w2.DiscsBefore != 0 {
		t.Errorf("a new instance must start afresh: %+v", w2)
	}
}

func TestWaitSeq(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	pub, _ := h.Publish("s", PublishOptions{})
	s := pub.Stream()
	ctx := t.Context()

	// Already there: no wait.
	appendN(t, pub, 1, 1)
	if err := s.WaitSeq(ctx, 0); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- s.WaitSeq(ctx, 2) }()
	appendN(t, pub, 1, 1) // seq 1: not enough
	select {
	case err := <-done:
		t.Fatalf("returned %v before seq 2 was appended", err)
	default:
	}
	appendN(t, pub, 1, 1) // seq 2
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A publisher that skips numbers satisfies a wait for a skipped one.
	go func() { done <- s.WaitSeq(ctx, 5) }()
	pub.Append(Input{Duration: 1, Data: []byte("x"), Seq: 9, HasSeq: true})
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The end releases waiters.
	go func() { done <- s.WaitSeq(ctx, 100) }()
	pub.End()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitSeqContext(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	pub, _ := h.Publish("s", PublishOptions{})
	cause := errors.New("gave up")
	ctx, cancel := context.WithTimeoutCause(t.Context(), 20*time.Millisecond, cause)
	defer cancel()
	if err := pub.Stream().WaitSeq(ctx, 0); !errors.Is(err, cause) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}

// TestWaitSeqManyWaiters: many readers wait while the publisher appends;
// every waiter is released by the append it waits for (run with -race).
func TestWaitSeqManyWaiters(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 5})
	pub, _ := h.Publish("s", PublishOptions{})
	s := pub.Stream()
	const waiters, frags = 200, 50
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for i := range waiters {
		want := uint64(i % frags)
		wg.Go(func() {
			if err := s.WaitSeq(t.Context(), want); err != nil {
				errs <- err
				return
			}
			if s.Window().Next <= want {
				errs <- errors.New("released before its fragment")
			}
		})
	}
	for range frags {
		pub.Append(Input{Duration: 1, Data: []byte("x")})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
