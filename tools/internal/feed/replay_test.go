package feed

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

type received struct {
	seg Segment
	at  time.Time
}

type recorder struct {
	mu   sync.Mutex
	segs []received
}

func (r *recorder) sink(_ context.Context, s Segment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.segs = append(r.segs, received{seg: s, at: time.Now()})
	return nil
}

func sampleSegments() []Segment {
	var segs []Segment
	for _, s := range sample.Segments() {
		segs = append(segs, Segment{Name: s.Name, Duration: s.Duration, Data: s.Data})
	}
	return segs
}

func TestReplayPacingAndDiscontinuities(t *testing.T) {
	t.Parallel()
	segs := sampleSegments()
	const speed = 20
	var total time.Duration
	for _, s := range segs {
		total += s.Duration
	}
	rec := &recorder{}
	start := time.Now()
	r := &Replay{Segments: segs, Loops: 2, Speed: speed}
	if err := r.Run(t.Context(), rec.sink); err != nil {
		t.Fatal(err)
	}
	if got, want := len(rec.segs), 2*len(segs); got != want {
		t.Fatalf("sent %d segments, want %d", got, want)
	}
	var media time.Duration
	for i, got := range rec.segs {
		want := segs[i%len(segs)]
		if got.seg.Name != want.Name || len(got.seg.Data) != len(want.Data) || got.seg.Duration != want.Duration {
			t.Errorf("segment %d is %s (%v), want %s (%v)", i, got.seg.Name, got.seg.Duration, want.Name, want.Duration)
		}
		if wantDisc := i == len(segs); got.seg.Disc != wantDisc {
			t.Errorf("segment %d: Disc %v, want %v (only at the loop restart)", i, got.seg.Disc, wantDisc)
		}
		// Handed over at the end of its slot, stamped with its start.
		slotStart := start.Add(media / speed)
		media += got.seg.Duration
		slotEnd := start.Add(media / speed)
		if early := slotEnd.Sub(got.at); early > 5*time.Millisecond {
			t.Errorf("segment %d handed over %v before the end of its slot", i, early)
		}
		if d := got.seg.Time.Sub(slotStart); d < -10*time.Millisecond || d > 10*time.Millisecond {
			t.Errorf("segment %d stamped %v off its slot start", i, d)
		}
	}
	// No drift: the whole run takes the media duration, not more.
	elapsed := rec.segs[len(rec.segs)-1].at.Sub(start)
	if want := 2 * total / speed; elapsed < want || elapsed > want+500*time.Millisecond {
		t.Errorf("two loops took %v, want %v", elapsed, want)
	}
}

func TestReplayStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		replay  Replay
		sink    func(context.CancelFunc) Sink
		wantErr error
	}{
		{
			name:   "context cancelled",
			replay: Replay{Segments: sampleSegments(), Speed: 50},
			sink: func(cancel context.CancelFunc) Sink {
				n := 0
				return func(context.Context, Segment) error {
					if n++; n == 3 {
						cancel()
					}
					return nil
				}
			},
			wantErr: context.Canceled,
		},
		{
			name:   "sink error",
			replay: Replay{Segments: sampleSegments(), Speed: 50},
			sink: func(context.CancelFunc) Sink {
				return func(context.Context, Segment) error { return errSink }
			},
			wantErr: errSink,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := tt.replay.Run(ctx, tt.sink(cancel)); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errSink = errors.New("sink failed")

func TestReplayRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		replay Replay
	}{
		{name: "empty", replay: Replay{}},
		{name: "zero duration", replay: Replay{Segments: []Segment{{Name: "a"}}}},
		{name: "negative loops", replay: Replay{Segments: sampleSegments(), Loops: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.replay.Run(t.Context(), func(context.Context, Segment) error { return nil })
			if err == nil {
				t.Error("no error")
			}
		})
	}
}
