package mpegts

import (
	"errors"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

func TestCheckFraming(t *testing.T) {
	t.Parallel()
	good := make([]byte, 2*PacketSize)
	good[0], good[PacketSize] = syncByte, syncByte
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{name: "two packets", data: good, ok: true},
		{name: "empty", data: nil},
		{name: "partial packet", data: good[:PacketSize+1]},
		{name: "lost sync", data: append(append([]byte{}, good[:PacketSize]...), make([]byte, PacketSize)...)},
		{name: "sample segment", data: sample.Segments()[0].Data, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckFraming(tt.data)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotTS) {
				t.Errorf("%v does not wrap ErrNotTS", err)
			}
		})
	}
}

// TestReadTimingSample measures the embedded sample, whose playlist says
// every segment lasts 1 s at 30 fps.
func TestReadTimingSample(t *testing.T) {
	t.Parallel()
	segs := sample.Segments()
	var prev Timing
	for i, s := range segs {
		tm, err := ReadTiming(s.Data)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if tm.FrameTicks != ptsHz/30 {
			t.Errorf("%s: frame step %d ticks, want %d (30 fps video)", s.Name, tm.FrameTicks, ptsHz/30)
		}
		if d := tm.Duration(); absDiff(d, s.Duration) > 2*time.Millisecond {
			t.Errorf("%s: duration %v from PTS, playlist says %v", s.Name, d, s.Duration)
		}
		if i > 0 {
			if d := tm.Since(prev); absDiff(d, segs[i-1].Duration) > 2*time.Millisecond {
				t.Errorf("%s: %v after the previous segment, want %v", s.Name, d, segs[i-1].Duration)
			}
		}
		prev = tm
	}
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

func TestUnwrapDelta(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to int64
		want     int64
	}{
		{name: "forward", from: 1000, to: 4000, want: 3000},
		{name: "backward", from: 4000, to: 1000, want: -3000},
		{name: "across the wrap", from: ptsWrap - 1500, to: 1500, want: 3000},
		{name: "back across the wrap", from: 1500, to: ptsWrap - 1500, want: -3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := unwrapDelta(tt.from, tt.to); got != tt.want {
				t.Errorf("unwrapDelta(%d, %d) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestTimingOfBFrames(t *testing.T) {
	t.Parallel()
	// Presentation order differs from decode order with B-frames; across
	// the 33-bit wrap too.
	base := int64(ptsWrap - 3000)
	pts := []int64{base, base + 9000, base + 3000, base + 6000, (base + 12000) % ptsWrap}
	tm := timingOf(0x100, pts)
	if tm.Span != 12000 || tm.FrameTicks != 3000 {
		t.Errorf("span %d step %d, want 12000 3000", tm.Span, tm.FrameTicks)
	}
	if got, want := tm.Duration(), 15000*time.Second/ptsHz; got != want {
		t.Errorf("duration %v, want %v", got, want)
	}
}

func TestReadTimingNotTS(t *testing.T) {
	t.Parallel()
	blank := make([]byte, 3*PacketSize)
	for off := 0; off < len(blank); off += PacketSize {
		blank[off] = syncByte
	}
	if _, err := ReadTiming(blank); !errors.Is(err, ErrNotTS) {
		t.Errorf("packets without PES: err = %v, want ErrNotTS", err)
	}
}
