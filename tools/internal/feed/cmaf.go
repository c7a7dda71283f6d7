package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
)

// Chunk is one CMAF chunk (moof + mdat) ready to publish as a part.
type Chunk struct {
	// Init, when set, is the init segment that this chunk and the
	// following ones need; the first chunk of a feed always carries one.
	Init []byte
	// Data is the chunk's bytes.
	Data []byte
	// Duration and Independent (it starts with a key frame) come from
	// sdk-go/cmaf.
	Duration    time.Duration
	Independent bool
}

// ChunkSink receives chunks in order. An error stops the feed and is
// returned by it.
type ChunkSink func(ctx context.Context, c Chunk) error

// CMAFReplay sends a recorded fMP4 stream in real time, chunk by chunk,
// like a live encoder: each chunk is handed to the sink when its last frame
// would have been captured (the end of its slot on a monotonic clock, from
// the cumulative durations, so the pace does not drift). Each pass of a loop
// moves the chunks' decode times by the recording's duration per track
// (cmaf.ShiftDecodeTimes), so timestamps keep increasing and a player sees
// one continuous stream, without discontinuities.
type CMAFReplay struct {
	// Init is the recording's init segment.
	Init []byte
	// Chunks to replay, in order; every Duration must be positive.
	Chunks []cmaf.Chunk
	// TrackDurations is each track's duration in its timescale: the shift
	// per pass. Required when Loops is not 1.
	TrackDurations map[uint32]int64
	// Loops is how many times to play the chunks; 0 means forever.
	Loops int
	// Speed multiplies the pace (2: twice real time). Defaults to 1.
	Speed float64
	// MaxLag: when the sink falls behind the schedule by more than this,
	// the schedule restarts from now instead of bursting to catch up.
	// Defaults to 3 s.
	MaxLag time.Duration
	// Log receives a line per pass and per schedule reset.
	Log zerolog.Logger
}

// Run replays until the loops are done (nil), the sink fails, or ctx ends
// (ctx.Err()).
func (r *CMAFReplay) Run(ctx context.Context, sink ChunkSink) error {
	switch {
	case len(r.Init) == 0:
		return errors.New("cmaf replay: no init segment")
	case len(r.Chunks) == 0:
		return errors.New("cmaf replay: no chunks")
	case r.Loops < 0:
		return fmt.Errorf("cmaf replay: loops %d is negative", r.Loops)
	case r.Loops != 1 && len(r.TrackDurations) == 0:
		return errors.New("cmaf replay: looping needs the track durations")
	}
	for i, c := range r.Chunks {
		if c.Duration <= 0 {
			return fmt.Errorf("cmaf replay: chunk %d has duration %v", i, c.Duration)
		}
	}
	sched := newSchedule(r.Speed, r.MaxLag, r.Log)
	var offset time.Duration // media time since the start
	shift := map[uint32]int64{}
	for loop := 0; r.Loops == 0 || loop < r.Loops; loop++ {
		if loop > 0 {
			r.Log.Info().Int("loop", loop+1).Msg("replay restarts, timestamps continue")
			for id, d := range r.TrackDurations {
				shift[id] += d
			}
		}
		for i, c := range r.Chunks {
			data, err := cmaf.ShiftDecodeTimes(c.Data, maps.Clone(shift))
			if err != nil {
				return fmt.Errorf("cmaf replay: chunk %d: %w", i, err)
			}
			if err := sched.waitEnd(ctx, offset+c.Duration); err != nil {
				return err
			}
			out := Chunk{Data: data, Duration: c.Duration, Independent: c.Independent}
			if loop == 0 && i == 0 {
				out.Init = r.Init
			}
			if err := sink(ctx, out); err != nil {
				return err
			}
			offset += c.Duration
		}
	}
	return nil
}

// FFmpegCMAF runs ffmpeg writing low-latency fragmented MP4 to its standard
// output (CMAFArgs) and hands each chunk to the sink the moment ffmpeg has
// written it whole.
type FFmpegCMAF struct {
	// Path of the ffmpeg binary. Defaults to "ffmpeg" on PATH.
	Path string
	// Input is ffmpeg's input arguments; see FileInput and LiveInput.
	Input []string
	// Encode is ffmpeg's output codec arguments. Defaults to
	// EncodeArgs(FragmentDuration, "", false): a key frame every fragment.
	Encode []string
	// ChunkDuration is the length of a chunk (a part). Defaults to 200 ms.
	ChunkDuration time.Duration
	// FragmentDuration is the key frame interval that Encode's default
	// asks for. Defaults to 1 s.
	FragmentDuration time.Duration
	// Log receives ffmpeg's warnings.
	Log zerolog.Logger
}

// CMAFArgs returns the output arguments that make ffmpeg write fragmented
// MP4 to stdout in chunks of chunk: an init segment first (empty_moov,
// written once the first chunk is cut: delay_moov), then a moof+mdat chunk
// whenever chunk has passed and at every key frame (frag_keyframe), each
// chunk self-contained (default_base_moof), without the mfra index at the
// end or an edit list, flushed to the pipe at once.
func CMAFArgs(chunk time.Duration) []string {
	return []string{
		"-f", "mp4",
		"-movflags", "+empty_moov+delay_moov+default_base_moof+frag_keyframe+skip_trailer+cmaf",
		"-frag_duration", strconv.FormatInt(chunk.Microseconds(), 10),
		"-use_editlist", "0",
		"-flush_packets", "1",
		"pipe:1",
	}
}

// Args returns the full ffmpeg command line (without the binary).
func (f *FFmpegCMAF) Args() []string {
	encode := f.Encode
	if encode == nil {
		encode = EncodeArgs(durationOr(f.FragmentDuration, time.Second), "", false)
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "warning"}
	args = append(args, f.Input...)
	args = append(args, encode...)
	return append(args, CMAFArgs(durationOr(f.ChunkDuration, 200*time.Millisecond))...)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Run starts ffmpeg and feeds its chunks to sink until ffmpeg ends (nil
// after its last chunk, or an error with ffmpeg's last messages if it
// failed), the sink fails, or ctx ends (ctx.Err(); ffmpeg is interrupted).
func (f *FFmpegCMAF) Run(ctx context.Context, sink ChunkSink) error {
	if len(f.Input) == 0 {
		return errors.New("ffmpeg: no input")
	}
	bin, err := lookFFmpeg(f.Path)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cmd := exec.CommandContext(runCtx, bin, f.Args()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	tail, logged, err := startFFmpeg(cmd, f.Log)
	if err != nil {
		return err
	}

	readErr, sinkErr := feedChunks(runCtx, cmaf.NewReader(stdout, nil), sink)
	stop() // interrupt ffmpeg if it is still running
	// ffmpeg may be blocked writing to the pipe: read on until it exits,
	// and kill it if it does not stop after the interrupt.
	kill := time.AfterFunc(cmd.WaitDelay, func() { _ = cmd.Process.Kill() })
	_, _ = io.Copy(io.Discard, stdout)
	kill.Stop()
	<-logged
	exitErr := cmd.Wait()
	if errors.Is(exitErr, context.Canceled) {
		// The interrupt reached ffmpeg after it had ended (or was ours).
		exitErr = nil
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case sinkErr != nil:
		return sinkErr
	case exitErr != nil && readErr != nil:
		return fmt.Errorf("ffmpeg failed: %v (%v)\n%s", exitErr, readErr, tail.String())
	case exitErr != nil:
		return fmt.Errorf("ffmpeg failed: %v\n%s", exitErr, tail.String())
	case readErr != nil:
		return fmt.Errorf("ffmpeg output: %w", readErr)
	}
	return nil
}

// ReadCMAF reads fragmented MP4 from r (an encoder writing to a pipe) and
// hands each chunk to sink the moment it is complete, until r ends (nil),
// r or sink fails, or ctx ends (ctx.Err()). If r has a SetReadDeadline
// method (a pollable pipe, a network connection), ctx ending interrupts a
// blocked read; otherwise ReadCMAF returns when r yields its next bytes or ends
// (an encoder upstream of a shell pipe ends with Ctrl-C too).
func ReadCMAF(ctx context.Context, r io.Reader, sink ChunkSink) error {
	if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	readErr, sinkErr := feedChunks(ctx, cmaf.NewReader(r, nil), sink)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case sinkErr != nil:
		return sinkErr
	case readErr != nil:
		return fmt.Errorf("fMP4 input: %w", readErr)
	}
	return nil
}

// feedChunks reads chunks from r and hands them to sink until the stream
// ends (both nil), r fails (readErr) or sink fails (sinkErr).
func feedChunks(ctx context.Context, r *cmaf.Reader, sink ChunkSink) (readErr, sinkErr error) {
	in, err := r.Init()
	if err != nil {
		return err, nil
	}
	init := in.Data
	for {
		c, err := r.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
		if c.Init != nil {
			init = c.Init.Data
		}
		if err := sink(ctx, Chunk{Init: init, Data: c.Data, Duration: c.Duration, Independent: c.Independent}); err != nil {
			return nil, err
		}
		init = nil
	}
}
