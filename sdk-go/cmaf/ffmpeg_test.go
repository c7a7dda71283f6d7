package cmaf

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// update rewrites testdata/av.mp4 and the fuzz seed corpus from fresh
// ffmpeg output: go test ./cmaf -run TestTestdata -update
var update = flag.Bool("update", false, "rewrite testdata/av.mp4 and testdata/fuzz from fresh ffmpeg output")

// testdataStream is testdata/av.mp4: 2 s of 160x90 test pattern at 30 fps
// (H.264 baseline, a key frame every second) and a 48 kHz tone (AAC), in
// 200 ms chunks. The arguments follow the ffmpeg options documented in
// docs/cmaf-ingest.md.
const testdataStream = "testdata/av.mp4"

func ffmpegArgs(video, audio string, extra ...string) []string {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", video}
	if audio != "" {
		args = append(args, "-f", "lavfi", "-i", audio)
	}
	args = append(args,
		"-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-b:v", "60k", "-force_key_frames", "expr:gte(t,n_forced*1)", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "24k", "-ac", "1", "-ar", "48000")
	args = append(args, extra...)
	return append(args,
		"-f", "mp4", "-movflags", "+empty_moov+delay_moov+default_base_moof+frag_keyframe+skip_trailer+cmaf",
		"-frag_duration", "200000", "-use_editlist", "0", "pipe:1")
}

// runFFmpeg runs ffmpeg with args and returns what it wrote to stdout,
// and the chunks a Reader read from the pipe while ffmpeg wrote.
func runFFmpeg(t *testing.T, args []string) ([]byte, []Chunk) {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (scripts/install-test-deps.sh installs it); this test needs real ffmpeg output")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(io.TeeReader(pipe, &stdout), nil)
	var chunks []Chunk
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("reading ffmpeg's output: %v\n%s", err, stderr.String())
		}
		chunks = append(chunks, c)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), chunks
}

// checkStream checks the layout every stream of these tests has: chunks of
// about chunk, key frames exactly every gop, decode times that follow one
// another, and bytes that add up to the stream.
func checkStream(t *testing.T, data []byte, chunk, gop time.Duration) (*Init, []Chunk) {
	t.Helper()
	in, chunks, err := readAll(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	size := len(in.Data)
	var elapsed time.Duration
	var next uint64
	video := in.Tracks[0]
	if video.Handler != "vide" {
		t.Fatalf("first track %+v, want video", video)
	}
	for i, c := range chunks {
		size += len(c.Data)
		if c.DecodeTime != next {
			t.Errorf("chunk %d: decode time %d, want %d", i, c.DecodeTime, next)
		}
		next += c.Tracks[0].Duration
		if c.Tracks[0].TrackID != video.ID || c.Tracks[0].Timescale != video.Timescale {
			t.Errorf("chunk %d: first traf %+v", i, c.Tracks[0])
		}
		keyDue := elapsed%gop == 0
		if c.Independent != keyDue {
			t.Errorf("chunk %d at %v: independent %v, want %v", i, elapsed, c.Independent, keyDue)
		}
		if last := i == len(chunks)-1; !last && c.Duration != chunk {
			t.Errorf("chunk %d at %v: duration %v, want %v", i, elapsed, c.Duration, chunk)
		}
		elapsed += c.Duration
	}
	if size != len(data) {
		t.Errorf("init and chunks hold %d bytes, the stream %d", size, len(data))
	}
	return in, chunks
}

// TestTestdata checks the committed stream, or rewrites it with -update.
func TestTestdata(t *testing.T) {
	t.Parallel()
	if *update {
		data, _ := runFFmpeg(t, ffmpegArgs("testsrc2=size=160x90:rate=30:duration=2", "sine=frequency=440:sample_rate=48000:duration=2"))
		if err := os.WriteFile(testdataStream, data, 0o644); err != nil {
			t.Fatal(err)
		}
		writeFuzzSeeds(t, data)
	}
	data, err := os.ReadFile(testdataStream)
	if err != nil {
		t.Fatal(err)
	}
	in, chunks := checkStream(t, data, 200*time.Millisecond, time.Second)
	if len(in.Tracks) != 2 || in.Tracks[1].Handler != "soun" || in.Tracks[1].Timescale != 48000 {
		t.Errorf("tracks %+v, want video then 48 kHz audio", in.Tracks)
	}
	if len(chunks) != 10 {
		t.Errorf("%d chunks, want 10 (2 s in 200 ms)", len(chunks))
	}
}

// TestFreshFFmpeg reads ffmpeg's output through a pipe as it is written,
// for several frame rates and without audio, and checks the chunks against
// those read from the whole output.
func TestFreshFFmpeg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		video, audio string
		chunk        time.Duration
		chunks       int
	}{
		{"30 fps with audio", "testsrc2=size=128x72:rate=30:duration=3", "sine=duration=3", 200 * time.Millisecond, 15},
		{"25 fps video only", "testsrc2=size=128x72:rate=25:duration=2", "", 200 * time.Millisecond, 10},
		// 24 fps: 200 ms is 4.8 frames, so chunks of 5 frames, and a short
		// one before each key frame (frag_keyframe cuts there).
		{"24 fps", "testsrc2=size=128x72:rate=24:duration=2", "sine=duration=2", 5 * time.Second / 24, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, piped := runFFmpeg(t, ffmpegArgs(tt.video, tt.audio))
			_, chunks := checkStreamAllowingShortBeforeKey(t, data, tt.chunk, time.Second)
			if len(chunks) != tt.chunks {
				t.Errorf("%d chunks, want %d", len(chunks), tt.chunks)
			}
			if len(piped) != len(chunks) {
				t.Fatalf("%d chunks read from the pipe, %d from the output", len(piped), len(chunks))
			}
			for i := range piped {
				if !bytes.Equal(piped[i].Data, chunks[i].Data) || piped[i].Duration != chunks[i].Duration {
					t.Errorf("chunk %d differs between the pipe and the output", i)
				}
			}
		})
	}
}

// checkStreamAllowingShortBeforeKey is checkStream for frame rates whose
// frames do not divide the chunk duration: a chunk before a key frame may
// be shorter.
func checkStreamAllowingShortBeforeKey(t *testing.T, data []byte, chunk, gop time.Duration) (*Init, []Chunk) {
	t.Helper()
	in, chunks, err := readAll(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var elapsed time.Duration
	for i, c := range chunks {
		wantKey := (elapsed+time.Millisecond)%gop < 2*time.Millisecond
		if c.Independent != wantKey {
			t.Errorf("chunk %d at %v: independent %v, want %v", i, elapsed, c.Independent, wantKey)
		}
		nextKey := i+1 < len(chunks) && chunks[i+1].Independent
		if c.Duration > chunk+time.Millisecond || (!nextKey && i < len(chunks)-1 && c.Duration < chunk-time.Millisecond) {
			t.Errorf("chunk %d at %v: duration %v, want %v (or shorter before a key frame)", i, elapsed, c.Duration, chunk)
		}
		elapsed += c.Duration
	}
	return in, chunks
}

// writeFuzzSeeds writes the seed corpus of the fuzz targets: prefixes of
// the stream (init and the first chunks), and the same with 64-bit sizes.
func writeFuzzSeeds(t *testing.T, data []byte) {
	t.Helper()
	in, chunks, err := readAll(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := append(append([]byte(nil), in.Data...), chunks[0].Data...)
	seeds := map[string]map[string][]byte{
		"FuzzReader": {
			"init-and-key-chunk":  prefix,
			"init-and-two-chunks": append(append([]byte(nil), prefix...), chunks[1].Data...),
			"truncated-mdat":      prefix[:len(prefix)-100],
			"init-only":           in.Data,
		},
	}
	write := func(target, name, content string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range map[string][]byte{"key-chunk": chunks[0].Data, "delta-chunk": chunks[1].Data} {
		write("FuzzShiftDecodeTimes", name, fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint32(1)\nint64(%d)\n", b, 3072*40))
	}
	for target, files := range seeds {
		for name, b := range files {
			write(target, name, fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b))
		}
	}
}
