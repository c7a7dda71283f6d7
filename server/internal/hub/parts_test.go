package hub

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// partRecorder is a PartSink that records every write as a short string:
// "I1" (init gen 1), "P3.0" (part 0 of fragment 3, "P3.0d" with disc),
// "F3" (closing F of fragment 3), "W3" (fragment 3 whole).
type partRecorder struct {
	mu     sync.Mutex
	events []string
	ended  bool
	event  chan struct{}
}

func newPartRecorder() *partRecorder { return &partRecorder{event: make(chan struct{}, 1024)} }

func (r *partRecorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.event <- struct{}{}
}

func (r *partRecorder) WriteFragment(f *Fragment, disc bool) error {
	r.add(fmt.Sprintf("W%d", f.Seq) + map[bool]string{true: "d"}[disc])
	return nil
}

func (r *partRecorder) WriteEnd() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	r.event <- struct{}{}
}

func (r *partRecorder) WriteInit(init *Init) error {
	r.add(fmt.Sprintf("I%d", init.Gen))
	return nil
}

func (r *partRecorder) WritePart(f *Fragment, p *Part, disc bool) error {
	r.add(fmt.Sprintf("P%d.%d", f.Seq, p.Index) + map[bool]string{true: "d"}[disc || p.ownDisc(f)])
	return nil
}

func (r *partRecorder) WriteFragmentEnd(f *Fragment) error {
	r.add(fmt.Sprintf("F%d", f.Seq))
	return nil
}

func (r *partRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitEvents waits until the recorder has received want, failing otherwise.
func (r *partRecorder) waitEvents(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(r.list()) < len(want) {
		select {
		case <-r.event:
		case <-deadline:
			t.Fatalf("timed out: got %v, want %v", r.list(), want)
		}
	}
	if got := r.list(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func part(seq uint64, index int, independent bool) PartInput {
	return PartInput{Seq: seq, HasSeq: true, Index: uint64(index), Duration: 0.2, Independent: independent, Data: []byte(fmt.Sprintf("%d.%d;", seq, index))}
}

func mustPart(t *testing.T, p *Publication, in PartInput) {
	t.Helper()
	if added, err := p.AppendPart(in); !added || err != nil {
		t.Fatalf("AppendPart(%d.%d) = %v, %v", in.Seq, in.Index, added, err)
	}
}

func mustClose(t *testing.T, p *Publication, seq uint64, parts int) {
	t.Helper()
	if closed, err := p.CloseFragment(CloseInput{Seq: seq, HasSeq: true, Parts: uint64(parts), Duration: 0.2 * float64(parts)}); !closed || err != nil {
		t.Fatalf("CloseFragment(%d) = %v, %v", seq, closed, err)
	}
}

// publishParts publishes fragments 0..n-1 of 5 parts each, part 0 and 3
// independent, and leaves fragment n open with open parts.
func publishParts(t *testing.T, p *Publication, n, open int) {
	t.Helper()
	p.SetInit([]byte("init"))
	for seq := range uint64(n) {
		for i := range 5 {
			mustPart(t, p, part(seq, i, i == 0 || i == 3))
		}
		mustClose(t, p, seq, 5)
	}
	for i := range open {
		mustPart(t, p, part(uint64(n), i, i == 0 || i == 3))
	}
}

func TestPartsViewerStartsAtLatestIndependentPart(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p, _ := h.Publish("s", PublishOptions{})
	publishParts(t, p, 2, 5)
	r := newPartRecorder()
	sub, err := h.Subscribe("s", Start{Parts: true, MaxInitial: -1}, r)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub.Start()
	r.waitEvents(t, "I1", "P2.3", "P2.4")
	mustClose(t, p, 2, 5)
	mustPart(t, p, part(3, 0, true))
	r.waitEvents(t, "I1", "P2.3", "P2.4", "F2", "P3.0")
}

func TestPartsViewerGetsEachPartAtOnce(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p, _ := h.Publish("s", PublishOptions{})
	p.SetInit([]byte("init"))
	r := newPartRecorder()
	sub, _ := h.Subscribe("s", Start{Parts: true, MaxInitial: -1}, r)
	defer sub.Close()
	sub.Start()
	r.waitEvents(t, "I1")
	want := []string{"I1"}
	for i := range 3 {
		mustPart(t, p, part(0, i, i == 0))
		want = append(want, fmt.Sprintf("P0.%d", i))
		r.waitEvents(t, want...) // before the fragment closes
	}
	mustClose(t, p, 0, 3)
	r.waitEvents(t, append(want, "F0")...)
}

func TestWholeViewerGetsPartsFragmentWhenItCloses(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p, _ := h.Publish("s", PublishOptions{})
	r := newRecorder()
	sub, _ := h.Subscribe("s", Start{MaxInitial: -1}, r)
	defer sub.Close()
	sub.Start()
	publishParts(t, p, 1, 2)
	waitFor(t, r, func() bool { return len(r.seqs()) == 1 })
	time.Sleep(20 * time.Millisecond)
	if got := r.seqs(); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("whole viewer got %v before fragment 1 closed", got)
	}
	f := r.got[0]
	if f.Data != nil || !f.InParts() || f.Len() != 5*len("0.0;") || f.Duration != 1 {
		t.Fatalf("fragment 0: data %v parts %d len %d duration %v", f.Data, len(f.Parts()), f.Len(), f.Duration)
	}
	var whole strings.Builder
	for _, p := range f.Parts() {
		whole.Write(p.Data)
	}
	if whole.String() != "0.0;0.1;0.2;0.3;0.4;" {
		t.Fatalf("fragment bytes %q", whole.String())
	}
	if string(f.Header(false, false)) != "F:duration=1" || !strings.HasSuffix(string(f.CloseHeader()), "&parts=5") {
		t.Fatalf("headers %q %q", f.Header(false, false), f.CloseHeader())
	}
}

func TestPartsResendsAreDroppedAndGapsRefused(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p, _ := h.Publish("s", PublishOptions{})
	publishParts(t, p, 1, 2)
	for _, in := range []PartInput{part(0, 4, false), part(1, 0, true), part(1, 1, false)} {
		if added, err := p.AppendPart(in); added || err != nil {
			t.Fatalf("resend %d.%d: added %v err %v", in.Seq, in.Index, added, err)
		}
	}
	if closed, err := p.CloseFragment(CloseInput{Seq: 0, HasSeq: true, Parts: 5, Duration: 1}); closed || err != nil {
		t.Fatalf("resent closing F: %v %v", closed, err)
	}
	if _, err := p.AppendPart(part(1, 3, false)); !errors.Is(err, ErrPartOrder) {
		t.Fatalf("part 3 after part 1: %v", err)
	}
	if _, err := p.CloseFragment(CloseInput{Seq: 1, HasSeq: true, Parts: 5, Duration: 1}); !errors.Is(err, ErrPartOrder) {
		t.Fatalf("F with 5 parts after 2: %v", err)
	}
	if _, err := p.AppendPart(part(2, 1, false)); !errors.Is(err, ErrPartOrder) {
		t.Fatalf("part 1 of a new fragment: %v", err)
	}
	// Part 0 of a later fragment closes the open one with its parts' durations.
	mustPart(t, p, part(2, 0, true))
	if f := p.Stream().Fragment(1); f == nil || len(f.Parts()) != 2 || f.Duration < 0.39 || f.Duration > 0.41 {
		t.Fatalf("fragment 1 after part 2.0: %+v", f)
	}
}

func TestPartsViewerStartPositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start Start
		want  []string
	}{
		{"max_initial_fragments=1", Start{Parts: true, MaxInitial: 1}, []string{"I1", "P1.0", "P1.1", "P1.2", "P1.3", "P1.4", "F1", "P2.0"}},
		{"max_initial_fragments=0", Start{Parts: true, MaxInitial: 0}, []string{"I1", "P3.0"}},
		{"resume after 0", Start{Parts: true, MaxInitial: -1, Epoch: "", After: 0}, []string{"I1", "P2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := New(Config{})
			p, _ := h.Publish("s", PublishOptions{})
			publishParts(t, p, 2, 1)
			start := tc.start
			if tc.name == "resume after 0" {
				start.Epoch = p.Epoch()
				tc.want = []string{"I1", "P1.0", "P1.1", "P1.2", "P1.3", "P1.4", "F1", "P2.0"}
			}
			r := newPartRecorder()
			sub, _ := h.Subscribe("s", start, r)
			defer sub.Close()
			sub.Start()
			if tc.start.MaxInitial == 0 {
				r.waitEvents(t, "I1")
				mustClose(t, p, 2, 1)
				mustPart(t, p, part(3, 0, true))
			}
			r.waitEvents(t, tc.want...)
		})
	}
}

func TestPartsViewerOfWholeFragmentsAndNewInit(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p, _ := h.Publish("s", PublishOptions{})
	r := newPartRecorder()
	sub, _ := h.Subscribe("s", Start{Parts: true, MaxInitial: -1}, r)
	defer sub.Close()
	sub.Start()
	p.Append(Input{Duration: 1, Data: []byte("ts")})
	r.waitEvents(t, "W0")
	p.SetInit([]byte("init"))
	mustPart(t, p, PartInput{Index: 0, Duration: 0.2, Independent: true, Data: []byte("x")})
	r.waitEvents(t, "W0", "I1", "P1.0")
	p.SetInit([]byte("init2"))
	mustPart(t, p, PartInput{Index: 1, Duration: 0.2, Data: []byte("y")})
	r.waitEvents(t, "W0", "I1", "P1.0", "I2", "P1.1")
	p.End()
	deadline := time.After(5 * time.Second)
	for !func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.ended }() {
		select {
		case <-r.event:
		case <-deadline:
			t.Fatal("no end")
		}
	}
	// CLOSE mid-fragment closes it: viewers get its closing F before the end.
	if got := r.list(); !slices.Equal(got, []string{"W0", "I1", "P1.0", "I2", "P1.1", "F1"}) {
		t.Fatalf("got %v", got)
	}
}

func TestPartsAccounting(t *testing.T) {
	t.Parallel()
	h := New(Config{RingLength: 2})
	p, _ := h.Publish("s", PublishOptions{})
	publishParts(t, p, 6, 3)
	st := p.Stream()
	var want int64 = int64(len("init"))
	w := st.Window()
	for _, f := range w.Fragments {
		want += f.Size()
	}
	for _, part := range w.OpenParts {
		want += int64(part.size())
	}
	if got := st.Stats().Bytes; got != want || h.TotalBytes() != want {
		t.Fatalf("stream bytes %d, hub %d, want %d", got, h.TotalBytes(), want)
	}
	if len(w.Fragments) != 2 || w.Open == nil || len(w.OpenParts) != 3 || w.MaxPartDuration != 0.2 || w.Init == nil {
		t.Fatalf("window %+v", w)
	}
	p.End()
	if h.TotalBytes() != 0 {
		t.Fatalf("hub holds %d bytes after the end", h.TotalBytes())
	}
}

func TestOpenFragmentIsBounded(t *testing.T) {
	t.Parallel()
	h := New(Config{MaxFragmentBytes: 10})
	p, _ := h.Publish("s", PublishOptions{})
	mustPart(t, p, PartInput{Index: 0, Duration: 0.2, Data: make([]byte, 6)})
	if _, err := p.AppendPart(PartInput{Index: 1, Duration: 0.2, Data: make([]byte, 5)}); !errors.Is(err, ErrFragmentTooLarge) {
		t.Fatalf("11 bytes in parts over a 10-byte limit: %v", err)
	}
	h = New(Config{})
	p, _ = h.Publish("s", PublishOptions{})
	for i := range MaxParts {
		mustPart(t, p, PartInput{Index: uint64(i), Data: []byte{1}})
	}
	if _, err := p.AppendPart(PartInput{Index: MaxParts, Data: []byte{1}}); !errors.Is(err, ErrFragmentTooLarge) {
		t.Fatalf("part %d: %v", MaxParts, err)
	}
}
