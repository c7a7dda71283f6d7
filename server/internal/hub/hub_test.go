package hub

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is a Sink that records what it receives. block, when set, makes
// WriteFragment wait until it is closed.
type recorder struct {
	mu    sync.Mutex
	got   []*Fragment
	discs []bool
	ended bool
	block chan struct{}
	// entered, if set, receives the seq of each write before it blocks.
	entered chan uint64
	fail    error
	event   chan struct{}
}

func newRecorder() *recorder { return &recorder{event: make(chan struct{}, 1024)} }

func (r *recorder) WriteFragment(f *Fragment, disc bool) error {
	if r.entered != nil {
		r.entered <- f.Seq
	}
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	r.got = append(r.got, f)
	r.discs = append(r.discs, disc)
	r.mu.Unlock()
	r.event <- struct{}{}
	return r.fail
}

func (r *recorder) WriteEnd() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	r.event <- struct{}{}
}

func (r *recorder) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, len(r.got))
	for i, f := range r.got {
		out[i] = f.Seq
	}
	return out
}

func (r *recorder) discList() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.discs...)
}

func (r *recorder) isEnded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

// waitFor waits until cond holds, failing the test after 5 s.
func waitFor(t *testing.T, r *recorder, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-r.event:
		case <-deadline:
			t.Fatalf("timed out; received seqs %v ended=%v", r.seqs(), r.isEnded())
		}
	}
}

func appendN(t *testing.T, p *Publication, n int, size int) []*Fragment {
	t.Helper()
	var out []*Fragment
	for i := 0; i < n; i++ {
		f, ok := p.Append(Input{Duration: 1, Data: make([]byte, size)})
		if !ok {
			t.Fatalf("append %d dropped", i)
		}
		out = append(out, f)
	}
	return out
}

func subscribe(t *testing.T, h *Hub, id string, start Start) (*Subscription, *recorder) {
	t.Helper()
	r := newRecorder()
	sub, err := h.Subscribe(id, start, r)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	sub.Start()
	t.Cleanup(sub.Close)
	return sub, r
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFanOutSharesFragments(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 100})
	pub, err := h.Publish("s", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*recorder
	for i := 0; i < 3; i++ {
		_, r := subscribe(t, h, "s", Start{MaxInitial: -1})
		recs = append(recs, r)
	}
	sent := appendN(t, pub, 20, 10)
	want := make([]uint64, 20)
	for i := range want {
		want[i] = uint64(i)
	}
	for _, r := range recs {
		waitFor(t, r, func() bool { return len(r.seqs()) == 20 })
		if !equalSeqs(r.seqs(), want) {
			t.Fatalf("got %v, want %v", r.seqs(), want)
		}
		r.mu.Lock()
		got := r.got
		r.mu.Unlock()
		for i, f := range got {
			if f != sent[i] {
				t.Fatalf("fragment %d is a copy, not the shared fragment", i)
			}
		}
	}
}

func TestStartPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		start     Start
		wantFirst uint64
		wantDisc  bool
	}{
		{"all buffered", Start{MaxInitial: -1}, 0, false},
		{"none buffered", Start{MaxInitial: 0}, 5, false},
		{"two newest", Start{MaxInitial: 2}, 3, false},
		{"more than buffered", Start{MaxInitial: 50}, 0, false},
		{"resume", Start{MaxInitial: 0, Epoch: "EPOCH", After: 1}, 2, false},
		{"resume at edge", Start{MaxInitial: -1, Epoch: "EPOCH", After: 4}, 5, false},
		{"other epoch", Start{MaxInitial: 1, Epoch: "other", After: 1}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(Config{RingLength: 10})
			pub, _ := h.Publish("s", PublishOptions{})
			appendN(t, pub, 5, 1)
			start := tt.start
			if start.Epoch == "EPOCH" {
				start.Epoch = pub.Epoch()
			}
			_, r := subscribe(t, h, "s", start)
			appendN(t, pub, 1, 1) // seq 5
			waitFor(t, r, func() bool { s := r.seqs(); return len(s) > 0 && s[len(s)-1] == 5 })
			if got := r.seqs()[0]; got != tt.wantFirst {
				t.Fatalf("first seq %d, want %d (all %v)", got, tt.wantFirst, r.seqs())
			}
			if d := r.discList(); d[0] != tt.wantDisc {
				t.Fatalf("first disc %v, want %v", d[0], tt.wantDisc)
			}
			for i, s := range r.seqs() {
				if s != tt.wantFirst+uint64(i) {
					t.Fatalf("gap or duplicate: %v", r.seqs())
				}
			}
		})
	}
}

func TestResumeAfterEvictionMarksDiscontinuity(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 3})
	pub, _ := h.Publish("s", PublishOptions{})
	appendN(t, pub, 10, 1) // ring holds 7, 8, 9
	_, r := subscribe(t, h, "s", Start{MaxInitial: -1, Epoch: pub.Epoch(), After: 2})
	waitFor(t, r, func() bool { return len(r.seqs()) == 3 })
	if d := r.discList(); !equalSeqs(r.seqs(), []uint64{7, 8, 9}) || !d[0] || d[1] {
		t.Fatalf("got %v discs %v", r.seqs(), r.discs)
	}
}

func TestSlowSubscriberSkipsAheadWithoutBlockingOthers(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 4})
	pub, _ := h.Publish("s", PublishOptions{})
	slow := newRecorder()
	slow.block = make(chan struct{})
	slow.entered = make(chan uint64, 32)
	// slow blocks in its first write (seq 0) until released.
	sub, err := h.Subscribe("s", Start{MaxInitial: -1}, slow)
	if err != nil {
		t.Fatal(err)
	}
	sub.Start()
	defer sub.Close()
	_, fast := subscribe(t, h, "s", Start{MaxInitial: -1})

	// Pace the publisher by the fast subscriber: it must get every fragment
	// while the slow one is stuck.
	for i := 0; i < 20; i++ {
		appendN(t, pub, 1, 1)
		if i == 0 {
			// Make sure the slow subscriber is stuck in seq 0 before
			// the ring moves on.
			select {
			case seq := <-slow.entered:
				if seq != 0 {
					t.Fatalf("slow subscriber started at %d", seq)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the slow subscriber was never woken")
			}
		}
		waitFor(t, fast, func() bool { return len(fast.seqs()) == i+1 })
	}

	close(slow.block)
	waitFor(t, slow, func() bool { s := slow.seqs(); return len(s) > 0 && s[len(s)-1] == 19 })
	got := slow.seqs()
	// The slow subscriber got seq 0 (in flight when it blocked), then
	// skipped to the live edge, marked.
	slow.mu.Lock()
	discs := slow.discs
	slow.mu.Unlock()
	if len(got) != 2 || got[0] != 0 || got[1] != 19 || !discs[1] {
		t.Fatalf("slow subscriber got %v discs %v", got, slow.discs)
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	t.Run("ring length", func(t *testing.T) {
		t.Parallel()
		h := New(Config{RingLength: 5})
		pub, _ := h.Publish("s", PublishOptions{})
		appendN(t, pub, 12, 100)
		if st := pub.Stream().Stats(); st.Fragments != 5 {
			t.Fatalf("kept %d fragments", st.Fragments)
		}
	})
	t.Run("stream bytes", func(t *testing.T) {
		t.Parallel()
		h := New(Config{RingLength: 100, StreamMaxBytes: 1000})
		pub, _ := h.Publish("s", PublishOptions{})
		appendN(t, pub, 50, 300)
		if st := pub.Stream().Stats(); st.Bytes > 1000 || st.Fragments < 1 {
			t.Fatalf("stream keeps %d bytes in %d fragments", st.Bytes, st.Fragments)
		}
	})
	t.Run("total bytes", func(t *testing.T) {
		t.Parallel()
		h := New(Config{RingLength: 100, TotalMaxBytes: 5000})
		for _, id := range []string{"a", "b", "c"} {
			pub, _ := h.Publish(id, PublishOptions{})
			appendN(t, pub, 30, 400)
		}
		// Each stream keeps its newest fragment: the bound may be exceeded
		// by at most one fragment per stream, and the load is shared.
		if h.TotalBytes() > 5000+3*450 {
			t.Fatalf("hub keeps %d bytes", h.TotalBytes())
		}
		for _, id := range []string{"a", "b", "c"} {
			if st := h.Stream(id).Stats(); st.Fragments < 2 {
				t.Fatalf("stream %s starved to %d fragments", id, st.Fragments)
			}
		}
	})
	t.Run("newest always kept", func(t *testing.T) {
		t.Parallel()
		h := New(Config{RingLength: 10, StreamMaxBytes: 10})
		pub, _ := h.Publish("s", PublishOptions{})
		appendN(t, pub, 3, 1000)
		if st := pub.Stream().Stats(); st.Fragments != 1 {
			t.Fatalf("kept %d fragments", st.Fragments)
		}
	})
}

func TestEndDeliversRemainingThenEnd(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10})
	pub, _ := h.Publish("s", PublishOptions{})
	_, r := subscribe(t, h, "s", Start{MaxInitial: -1})
	appendN(t, pub, 4, 1)
	pub.End()
	waitFor(t, r, r.isEnded)
	if !equalSeqs(r.seqs(), []uint64{0, 1, 2, 3}) {
		t.Fatalf("got %v", r.seqs())
	}
	if h.Stream("s") != nil {
		t.Fatal("ended stream still listed")
	}
	if _, err := h.Subscribe("s", Start{MaxInitial: -1}, newRecorder()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("subscribe to ended stream: %v", err)
	}
	if h.TotalBytes() != 0 {
		t.Fatalf("ended stream still counts %d bytes", h.TotalBytes())
	}
}

func TestPublisherGrace(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10, PublisherGrace: time.Hour})
	pub, _ := h.Publish("s", PublishOptions{})
	_, r := subscribe(t, h, "s", Start{MaxInitial: -1})
	appendN(t, pub, 3, 1)
	if _, err := h.Publish("s", PublishOptions{}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("second publisher: %v", err)
	}
	pub.Detach()
	pub2, err := h.Publish("s", PublishOptions{})
	if err != nil {
		t.Fatalf("publish within grace: %v", err)
	}
	if !pub2.Resumed() || pub2.Epoch() != pub.Epoch() || pub2.Next() != 3 {
		t.Fatalf("resumed=%v epoch %q/%q next %d", pub2.Resumed(), pub2.Epoch(), pub.Epoch(), pub2.Next())
	}
	if _, ok := pub.Append(Input{Data: []byte{1}}); ok {
		t.Fatal("detached publication could still append")
	}
	appendN(t, pub2, 2, 1)
	waitFor(t, r, func() bool { return len(r.seqs()) == 5 })
	if !equalSeqs(r.seqs(), []uint64{0, 1, 2, 3, 4}) || r.isEnded() {
		t.Fatalf("got %v ended=%v", r.seqs(), r.isEnded())
	}
}

func TestGraceExpiryEndsStream(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10, PublisherGrace: 20 * time.Millisecond})
	pub, _ := h.Publish("s", PublishOptions{})
	_, r := subscribe(t, h, "s", Start{MaxInitial: -1})
	appendN(t, pub, 1, 1)
	pub.Detach()
	waitFor(t, r, r.isEnded)
	pub2, err := h.Publish("s", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pub2.Resumed() || pub2.Epoch() == pub.Epoch() || pub2.Next() != 0 {
		t.Fatalf("after expiry: resumed=%v same epoch=%v next=%d", pub2.Resumed(), pub2.Epoch() == pub.Epoch(), pub2.Next())
	}
}

func TestPublisherSequenceNumbers(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10})
	pub, _ := h.Publish("s", PublishOptions{})
	steps := []struct {
		in       Input
		wantOK   bool
		wantSeq  uint64
		wantDisc bool
	}{
		{Input{Seq: 0, HasSeq: true}, true, 0, false},
		{Input{Seq: 1, HasSeq: true}, true, 1, false},
		{Input{Seq: 1, HasSeq: true}, false, 0, false}, // duplicate
		{Input{Seq: 5, HasSeq: true}, true, 5, true},   // gap
		{Input{}, true, 6, false},                      // relay numbers it
		{Input{Disc: true}, true, 7, true},             // publisher's marker
	}
	for i, st := range steps {
		st.in.Data = []byte{byte(i)}
		f, ok := pub.Append(st.in)
		if ok != st.wantOK {
			t.Fatalf("step %d: ok=%v", i, ok)
		}
		if ok && (f.Seq != st.wantSeq || f.Disc != st.wantDisc) {
			t.Fatalf("step %d: seq %d disc %v", i, f.Seq, f.Disc)
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	pub, _ := h.Publish("s", PublishOptions{})
	f, _ := pub.Append(Input{Duration: 1.5, Time: 1700000000000, Data: []byte{1}})
	tests := []struct {
		ext, disc bool
		want      string
	}{
		{false, false, "F:duration=1.5"},
		{false, true, "F:duration=1.5"},
		{true, false, "F:duration=1.5&seq=0&time=1700000000000"},
		{true, true, "F:duration=1.5&seq=0&time=1700000000000&disc=1"},
	}
	for _, tt := range tests {
		if got := string(f.Header(tt.ext, tt.disc)); got != tt.want {
			t.Errorf("Header(%v, %v) = %q, want %q", tt.ext, tt.disc, got, tt.want)
		}
	}
}

func TestTakeoverByEpoch(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 10, PublisherGrace: time.Hour})
	displaced := make(chan struct{}, 1)
	old, _ := h.Publish("s", PublishOptions{OnDisplaced: func() { displaced <- struct{}{} }})
	appendN(t, old, 2, 1)
	if _, err := h.Publish("s", PublishOptions{Epoch: "not-it"}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("wrong epoch: %v", err)
	}
	select {
	case <-displaced:
		t.Fatal("a refused publisher displaced the live one")
	default:
	}
	pub, err := h.Publish("s", PublishOptions{Epoch: old.Epoch()})
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	select {
	case <-displaced:
	case <-time.After(time.Second):
		t.Fatal("the old publication was not told")
	}
	if !pub.Resumed() || pub.Next() != 2 {
		t.Fatalf("resumed=%v next=%d", pub.Resumed(), pub.Next())
	}
	if _, ok := old.Append(Input{Data: []byte{1}}); ok {
		t.Fatal("the displaced publication could still append")
	}
	old.Detach() // the old connection's late clean-up must not end the stream
	if _, ok := pub.Append(Input{Data: []byte{1}}); !ok {
		t.Fatal("the new publication cannot append")
	}
}
