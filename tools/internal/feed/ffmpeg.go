package feed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/tools/internal/mpegts"
	"github.com/hlsrelay/hlsrelay/tools/internal/playlist"
)

// FFmpeg runs ffmpeg with its HLS muxer writing segments of
// SegmentDuration into a work directory, and hands each segment to the
// sink as soon as ffmpeg lists it in the playlist (the way the existing
// project's tester publishes a file).
type FFmpeg struct {
	// Path of the ffmpeg binary. Defaults to "ffmpeg" on PATH.
	Path string
	// Input is ffmpeg's input arguments, e.g.
	// {"-re", "-stream_loop", "-1", "-i", "video.mp4"}; see FileInput.
	Input []string
	// Encode is ffmpeg's output codec arguments. Defaults to
	// EncodeArgs(SegmentDuration, "").
	Encode []string
	// SegmentDuration is the HLS muxer's -hls_time. Defaults to 1 s.
	SegmentDuration time.Duration
	// Dir is the work directory. Defaults to a new temporary directory,
	// removed when Run returns.
	Dir string
	// Log receives ffmpeg's warnings and a line per segment at debug level.
	Log zerolog.Logger
}

// FileInput returns input arguments that read file in real time (-re),
// looping forever when loop is set.
func FileInput(file string, loop bool) []string {
	args := []string{"-re"}
	if loop {
		args = append(args, "-stream_loop", "-1")
	}
	return append(args, "-i", file)
}

// LiveInput turns a user's ffmpeg input arguments (e.g. "-f lavfi -i
// testsrc2") into a list, adding -re before every -i when realtime is set
// so that generated sources (lavfi) run at their real rate. Arguments are
// split on white space; quoting is not supported.
func LiveInput(args string, realtime bool) []string {
	var out []string
	for _, a := range strings.Fields(args) {
		if realtime && a == "-i" && (len(out) == 0 || out[len(out)-1] != "-re") {
			out = append(out, "-re")
		}
		out = append(out, a)
	}
	return out
}

// EncodeArgs returns output codec arguments for segments of segment
// duration: H.264 (x264, zerolatency) with a keyframe at every segment
// boundary and AAC audio, at videoBitrate (ffmpeg syntax, e.g. "2500k";
// "" means 2500k). copy passes the streams through unchanged instead (the
// input's keyframes then decide where segments are cut).
func EncodeArgs(segment time.Duration, videoBitrate string, copy bool) []string {
	if copy {
		return []string{"-c", "copy"}
	}
	if videoBitrate == "" {
		videoBitrate = "2500k"
	}
	secs := strconv.FormatFloat(segment.Seconds(), 'f', -1, 64)
	return []string{
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-b:v", videoBitrate, "-maxrate", videoBitrate, "-bufsize", videoBitrate,
		"-force_key_frames", "expr:gte(t,n_forced*" + secs + ")", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000",
	}
}

const (
	playlistName = "live.m3u8"
	// listSize is the HLS muxer's sliding window: segments older than this
	// are deleted by ffmpeg; the watcher normally reads each one within a
	// poll interval.
	listSize = 10
)

// Args returns the full ffmpeg command line (without the binary).
func (f *FFmpeg) Args(dir string) []string {
	seg := f.segmentDuration()
	encode := f.Encode
	if encode == nil {
		encode = EncodeArgs(seg, "", false)
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "warning", "-y"}
	args = append(args, f.Input...)
	args = append(args, encode...)
	return append(args,
		"-f", "hls",
		"-hls_time", strconv.FormatFloat(seg.Seconds(), 'f', -1, 64),
		"-hls_list_size", strconv.Itoa(listSize),
		"-hls_flags", "delete_segments+temp_file+independent_segments",
		"-hls_segment_type", "mpegts",
		"-hls_segment_filename", filepath.Join(dir, "seg%06d.ts"),
		filepath.Join(dir, playlistName),
	)
}

func (f *FFmpeg) segmentDuration() time.Duration {
	if f.SegmentDuration > 0 {
		return f.SegmentDuration
	}
	return time.Second
}

// Run starts ffmpeg and feeds its segments to sink until ffmpeg ends (nil
// after its last segment, or an error with ffmpeg's last messages if it
// failed), the sink fails, or ctx ends (ctx.Err(); ffmpeg is interrupted).
func (f *FFmpeg) Run(ctx context.Context, sink Sink) error {
	if len(f.Input) == 0 {
		return errors.New("ffmpeg: no input")
	}
	bin, err := lookFFmpeg(f.Path)
	if err != nil {
		return err
	}
	dir := f.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hlsrelay-publish-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cmd := exec.CommandContext(runCtx, bin, f.Args(dir)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	tail, logged, err := startFFmpeg(cmd, f.Log)
	if err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() {
		<-logged // Wait closes the pipe; read it all first
		exited <- cmd.Wait()
	}()

	var exitErr error
	done := false
	ffmpegDone := func() bool {
		if !done {
			select {
			case exitErr = <-exited:
				done = true
			default:
			}
		}
		return done
	}
	disc := false
	w := &playlist.Watcher{Path: filepath.Join(dir, playlistName), Interval: 25 * time.Millisecond}
	watchErr := w.Watch(runCtx, ffmpegDone, func(e playlist.Entry, lost uint64) error {
		noticed := time.Now()
		if lost > 0 {
			f.Log.Warn().Uint64("segments", lost).Msg("ffmpeg removed segments before they were published")
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.URI)))
		if errors.Is(err, fs.ErrNotExist) {
			f.Log.Warn().Str("segment", e.URI).Msg("segment vanished before it was read")
			disc = true
			return nil
		}
		if err != nil {
			return err
		}
		if err := mpegts.CheckFraming(data); err != nil {
			return fmt.Errorf("ffmpeg segment %s: %w", e.URI, err)
		}
		f.Log.Debug().Str("segment", e.URI).Stringer("duration", e.Duration).Int("bytes", len(data)).Msg("segment ready")
		s := Segment{
			Name:     e.URI,
			Duration: e.Duration,
			Data:     data,
			Time:     noticed.Add(-e.Duration).Round(0),
			Disc:     disc || e.Discontinuity || lost > 0,
		}
		disc = false
		return sink(runCtx, s)
	})
	if watchErr == nil && !done {
		// The playlist ended: ffmpeg is finishing on its own.
		t := time.NewTimer(10 * time.Second)
		select {
		case exitErr = <-exited:
			done = true
		case <-t.C:
		}
		t.Stop()
	}
	stop() // interrupt ffmpeg if it is still running
	if !done {
		exitErr = <-exited
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case watchErr != nil:
		return watchErr
	case exitErr != nil:
		return fmt.Errorf("ffmpeg failed: %v\n%s", exitErr, tail.String())
	}
	return nil
}

// logLines logs each line ffmpeg writes to r as a warning, and keeps the
// last ones in tail.
func logLines(log zerolog.Logger, r io.Reader, tail *lineTail) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		tail.add(line)
		log.Warn().Str("ffmpeg", line).Send()
	}
	_, _ = io.Copy(io.Discard, r)
}

// lineTail keeps the last lines of ffmpeg's output for error messages.
type lineTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *lineTail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// startFFmpeg starts cmd (ffmpeg) with its stderr logged line by line; the
// newest lines are kept in tail for an error message, and logged is closed
// once stderr is read to its end (before cmd.Wait, which closes it).
func startFFmpeg(cmd *exec.Cmd, log zerolog.Logger) (tail *lineTail, logged chan struct{}, err error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	log.Info().Str("cmd", cmd.Path+" "+strings.Join(cmd.Args[1:], " ")).Msg("starting ffmpeg")
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	tail = &lineTail{max: 20}
	logged = make(chan struct{})
	go func() {
		defer close(logged)
		logLines(log, stderr, tail)
	}()
	return tail, logged, nil
}

// lookFFmpeg finds the ffmpeg binary: path, or "ffmpeg" on the PATH.
func lookFFmpeg(path string) (string, error) {
	if path == "" {
		path = "ffmpeg"
	}
	bin, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v (install it with apt-get install ffmpeg, or give its path)", ErrNoFFmpeg, err)
	}
	return bin, nil
}
