package feed

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

type receivedChunk struct {
	c  Chunk
	at time.Time
}

// reparse reads chunks as one stream (their init segments in front of
// them) and returns the chunks sdk-go/cmaf finds in it.
func reparse(t *testing.T, got []receivedChunk) []cmaf.Chunk {
	t.Helper()
	var stream bytes.Buffer
	for _, g := range got {
		stream.Write(g.c.Init)
		stream.Write(g.c.Data)
	}
	s, err := sample.ParseCMAF(stream.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s.Chunks
}

// TestCMAFReplayLoops plays the fMP4 sample twice, fast: chunks keep their
// pace, only the first carries the init segment, and the second pass
// continues the decode times of the first, per track.
func TestCMAFReplayLoops(t *testing.T) {
	t.Parallel()
	s := sample.CMAF()
	const speed = 20
	r := &CMAFReplay{Init: s.Init.Data, Chunks: s.Chunks, TrackDurations: s.TrackDurations, Loops: 2, Speed: speed}
	var got []receivedChunk
	start := time.Now()
	err := r.Run(t.Context(), func(_ context.Context, c Chunk) error {
		got = append(got, receivedChunk{c: c, at: time.Now()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*len(s.Chunks) {
		t.Fatalf("%d chunks, want %d", len(got), 2*len(s.Chunks))
	}
	var media time.Duration
	for i, g := range got {
		want := s.Chunks[i%len(s.Chunks)]
		if (g.c.Init != nil) != (i == 0) || g.c.Duration != want.Duration || g.c.Independent != want.Independent || len(g.c.Data) != len(want.Data) {
			t.Fatalf("chunk %d: init %v, %v, independent %v, %d bytes", i, g.c.Init != nil, g.c.Duration, g.c.Independent, len(g.c.Data))
		}
		media += g.c.Duration
		// Handed over at the end of its slot, not before.
		if due := start.Add(media / speed); g.at.Before(due.Add(-5 * time.Millisecond)) {
			t.Fatalf("chunk %d handed over %v before the end of its slot", i, due.Sub(g.at))
		}
	}
	next := map[uint32]uint64{}
	for i, c := range reparse(t, got) {
		for _, tf := range c.Tracks {
			if tf.DecodeTime != next[tf.TrackID] {
				t.Fatalf("chunk %d, track %d: decode time %d, want %d (continuous across loops)", i, tf.TrackID, tf.DecodeTime, next[tf.TrackID])
			}
			next[tf.TrackID] += tf.Duration
		}
	}
}

func TestCMAFReplayValidation(t *testing.T) {
	t.Parallel()
	s := sample.CMAF()
	zero := append([]cmaf.Chunk(nil), s.Chunks...)
	zero[3].Duration = 0
	tests := []struct {
		name string
		r    CMAFReplay
		want string
	}{
		{"no init", CMAFReplay{Chunks: s.Chunks, Loops: 1}, "no init segment"},
		{"no chunks", CMAFReplay{Init: s.Init.Data, Loops: 1}, "no chunks"},
		{"negative loops", CMAFReplay{Init: s.Init.Data, Chunks: s.Chunks, Loops: -1}, "negative"},
		{"loop without durations", CMAFReplay{Init: s.Init.Data, Chunks: s.Chunks}, "track durations"},
		{"zero duration", CMAFReplay{Init: s.Init.Data, Chunks: zero, Loops: 1}, "chunk 3 has duration 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.r.Run(t.Context(), func(context.Context, Chunk) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCMAFReplayStops(t *testing.T) {
	t.Parallel()
	s := sample.CMAF()
	ctx, cancel := context.WithCancel(t.Context())
	r := &CMAFReplay{Init: s.Init.Data, Chunks: s.Chunks, TrackDurations: s.TrackDurations}
	n := 0
	err := r.Run(ctx, func(context.Context, Chunk) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 2 {
		t.Errorf("err = %v after %d chunks, want context.Canceled after 2", err, n)
	}
	boom := errors.New("boom")
	err = r.Run(t.Context(), func(context.Context, Chunk) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the sink's", err)
	}
}

func TestFFmpegCMAFArgs(t *testing.T) {
	t.Parallel()
	f := &FFmpegCMAF{Input: LiveInput("-f lavfi -i testsrc2", true), ChunkDuration: 100 * time.Millisecond, FragmentDuration: 2 * time.Second}
	args := strings.Join(f.Args(), " ")
	for _, want := range []string{
		"-f lavfi -re -i testsrc2",
		"-force_key_frames expr:gte(t,n_forced*2)",
		"-f mp4 -movflags +empty_moov+delay_moov+default_base_moof+frag_keyframe+skip_trailer+cmaf -frag_duration 100000 -use_editlist 0 -flush_packets 1 pipe:1",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if def := strings.Join((&FFmpegCMAF{}).Args(), " "); !strings.Contains(def, "-frag_duration 200000") || !strings.Contains(def, "n_forced*1)") {
		t.Errorf("default args %s", def)
	}
}

// TestFFmpegCMAFLive runs real ffmpeg on a 3 s generated source in real
// time: chunks of 200 ms, a key frame every second, each handed over about
// 200 ms after the one before, as ffmpeg writes it.
func TestFFmpegCMAFLive(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	f := &FFmpegCMAF{
		Input:  LiveInput("-f lavfi -i testsrc2=size=320x180:rate=30:duration=3 -f lavfi -i sine=duration=3", true),
		Encode: append(EncodeArgs(time.Second, "300k", false), "-preset", "ultrafast"),
	}
	var got []receivedChunk
	err := f.Run(ctx, func(_ context.Context, c Chunk) error {
		got = append(got, receivedChunk{c: c, at: time.Now()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 {
		t.Fatalf("%d chunks, want 15 (3 s in 200 ms)", len(got))
	}
	for i, g := range got {
		if (g.c.Init != nil) != (i == 0) {
			t.Errorf("chunk %d: init segment %v, want it on the first chunk only", i, g.c.Init != nil)
		}
		if g.c.Duration != 200*time.Millisecond || g.c.Independent != (i%5 == 0) {
			t.Errorf("chunk %d: %v, independent %v; want 200ms, a key frame every 5 chunks", i, g.c.Duration, g.c.Independent)
		}
	}
	if n := len(reparse(t, got)); n != len(got) {
		t.Errorf("the chunks make a stream of %d chunks, want %d", n, len(got))
	}
	// Live: ffmpeg writes a chunk as soon as the next one starts, so
	// chunks arrive 200 ms apart, not in a burst. (The first one comes
	// late, after ffmpeg's start-up; the last one when ffmpeg ends; a busy
	// machine delays some.)
	for i := 2; i < len(got)-1; i++ {
		want := time.Duration(i-1) * 200 * time.Millisecond
		if d := got[i].at.Sub(got[1].at); d < want-250*time.Millisecond {
			t.Errorf("chunk %d arrived %v after chunk 1, want about %v", i, d, want)
		}
	}
}

func TestFFmpegCMAFStops(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	endless := func() *FFmpegCMAF {
		return &FFmpegCMAF{
			Input:  LiveInput("-f lavfi -i testsrc2=size=160x90:rate=30", true),
			Encode: append(EncodeArgs(time.Second, "200k", false), "-preset", "ultrafast"),
		}
	}
	runCtx, interrupt := context.WithCancel(ctx)
	var n atomic.Int32
	start := time.Now()
	err := endless().Run(runCtx, func(context.Context, Chunk) error {
		if n.Add(1) == 2 {
			interrupt()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	boom := errors.New("relay gone")
	err = endless().Run(ctx, func(context.Context, Chunk) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stopping took %v", d)
	}
}

func TestFFmpegCMAFFailure(t *testing.T) {
	t.Parallel()
	ffmpegOrSkip(t)
	f := &FFmpegCMAF{Input: FileInput("/nonexistent/video.mp4", false)}
	err := f.Run(t.Context(), func(context.Context, Chunk) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "ffmpeg failed") || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("err = %v, want ffmpeg's complaint about the missing file", err)
	}
	missing := &FFmpegCMAF{Path: "/nonexistent/ffmpeg", Input: FileInput("x", false)}
	if err := missing.Run(t.Context(), nil); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("missing binary: err = %v, want ErrNoFFmpeg", err)
	}
}
