package hub

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestSkippedFragmentsAreCounted: a subscriber stuck in a write while the
// ring moves on jumps to the newest fragment; what it jumped over is
// counted.
func TestSkippedFragmentsAreCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := New(Config{RingLength: 3, Metrics: m})
	pub, err := h.Publish("s", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	r.block = make(chan struct{})
	r.entered = make(chan uint64, 16)
	sub, err := h.Subscribe("s", Start{MaxInitial: 0}, r)
	if err != nil {
		t.Fatal(err)
	}
	sub.Start()
	t.Cleanup(sub.Close)

	appendN(t, pub, 1, 10)
	if seq := <-r.entered; seq != 0 {
		t.Fatalf("first write of seq %d", seq)
	}
	// The writer is stuck in fragment 0 while 1-6 arrive; the ring keeps
	// 4-6.
	appendN(t, pub, 6, 10)
	if got := counterValue(t, m.Skipped); got != 0 {
		t.Fatalf("skipped %v before the subscriber looked", got)
	}
	close(r.block)
	waitFor(t, r, func() bool { return len(r.seqs()) == 2 })
	if want := []uint64{0, 6}; !equalSeqs(r.seqs(), want) {
		t.Fatalf("received %v, want %v", r.seqs(), want)
	}
	if got := counterValue(t, m.Skipped); got != 5 {
		t.Errorf("skipped = %v, want 5 (fragments 1-5)", got)
	}
}

func TestAppendStampsArrival(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	pub, err := h.Publish("s", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	f, ok := pub.Append(Input{Duration: 1, Data: []byte("x"), Time: 1234})
	if !ok {
		t.Fatal("append dropped")
	}
	if f.Arrival.Before(before) || f.Arrival.After(time.Now()) {
		t.Errorf("Arrival %v is not the time of Append", f.Arrival)
	}
	if f.Time != 1234 {
		t.Errorf("Time = %d; the publisher's time must be kept", f.Time)
	}
}
