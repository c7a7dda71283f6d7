package feed

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/mpegts"
)

func ffmpegOrSkip(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (apt-get install ffmpeg); this test needs real ffmpeg output")
	}
}

func TestLiveInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		realtime bool
		want     []string
	}{
		{"-f lavfi -i testsrc2", true, []string{"-f", "lavfi", "-re", "-i", "testsrc2"}},
		{"-f lavfi -i testsrc2 -f lavfi -i sine", true, []string{"-f", "lavfi", "-re", "-i", "testsrc2", "-f", "lavfi", "-re", "-i", "sine"}},
		{"-re -i x.mp4", true, []string{"-re", "-i", "x.mp4"}},
		{"-i rtmp://h/app", false, []string{"-i", "rtmp://h/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := LiveInput(tt.in, tt.realtime); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFFmpegArgs(t *testing.T) {
	t.Parallel()
	f := &FFmpeg{Input: FileInput("in.mp4", true), SegmentDuration: 2 * time.Second}
	args := strings.Join(f.Args("/w"), " ")
	for _, want := range []string{
		"-re -stream_loop -1 -i in.mp4",
		"-force_key_frames expr:gte(t,n_forced*2)",
		"-f hls -hls_time 2",
		"-hls_segment_filename /w/seg%06d.ts /w/live.m3u8",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if got := strings.Join(EncodeArgs(time.Second, "", true), " "); got != "-c copy" {
		t.Errorf("copy args %q", got)
	}
}

// TestFFmpegLive runs real ffmpeg on a 3 s generated source in real time and
// checks that segments are handed over while ffmpeg runs, complete, with
// their playlist durations and capture times.
func TestFFmpegLive(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	f := &FFmpeg{
		Input:  LiveInput("-f lavfi -i testsrc2=size=320x180:rate=30:duration=3 -f lavfi -i sine=duration=3", true),
		Encode: append(EncodeArgs(time.Second, "300k", false), "-preset", "ultrafast"),
	}
	start := time.Now()
	var got []received
	err := f.Run(ctx, func(_ context.Context, s Segment) error {
		got = append(got, received{seg: s, at: time.Now()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d segments, want 3", len(got))
	}
	for _, g := range got {
		s := g.seg
		if err := mpegts.CheckFraming(s.Data); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if s.Duration < 900*time.Millisecond || s.Duration > 1100*time.Millisecond {
			t.Errorf("%s: duration %v", s.Name, s.Duration)
		}
		if s.Disc {
			t.Errorf("%s: unexpected discontinuity", s.Name)
		}
		if !s.Time.Before(g.at) || s.Time.Before(start.Add(-time.Second)) {
			t.Errorf("%s: capture time %v is not shortly before its hand-over %v", s.Name, s.Time, g.at)
		}
	}
	// Live, not at the end: with -re, ffmpeg finishes a segment about every
	// second, and each must be handed over as it appears.
	if gap := got[2].at.Sub(got[0].at); gap < 1200*time.Millisecond {
		t.Errorf("segments handed over within %v of each other; they should arrive live, about 1 s apart", gap)
	}
}

func TestFFmpegCancel(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	f := &FFmpeg{
		Input:  LiveInput("-f lavfi -i testsrc2=size=160x90:rate=30", true), // endless
		Encode: append(EncodeArgs(time.Second, "200k", false), "-preset", "ultrafast"),
	}
	var n atomic.Int32
	start := time.Now()
	err := f.Run(ctx, func(context.Context, Segment) error {
		if n.Add(1) == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %v", d)
	}
}

func TestFFmpegFailure(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	f := &FFmpeg{Input: FileInput("/nonexistent/video.mp4", false)}
	err := f.Run(t.Context(), func(context.Context, Segment) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "ffmpeg failed") || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("err = %v, want ffmpeg's complaint about the missing file", err)
	}
	missing := &FFmpeg{Path: "/nonexistent/ffmpeg", Input: FileInput("x", false)}
	if err := missing.Run(t.Context(), nil); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("missing binary: err = %v, want ErrNoFFmpeg", err)
	}
}
