package hlshttp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// The fMP4 stream of the ffmpeg test: 6 s of 320x180 test pattern at 30
// fps, H.264 with a key frame every second, cut into 200 ms chunks (six
// frames) that start a new chunk at every key frame.
const (
	ffmpegSeconds      = 6
	ffmpegChunksPerSec = 5
	ffmpegFrames       = 30 * ffmpegSeconds
)

// tool returns the path of an ffmpeg tool, or skips the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIPPED: %s is not on PATH (scripts/install-test-deps.sh installs it); this test needs real ffmpeg", name)
	}
	return path
}

// run runs a tool and returns its standard output.
func run(t *testing.T, ctx context.Context, bin string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// splitFMP4 splits a fragmented MP4 at its top-level moof boxes: the init
// segment (everything before the first moof), then each moof with the boxes
// up to the next moof (its mdat).
func splitFMP4(t *testing.T, b []byte) (init []byte, chunks [][]byte) {
	t.Helper()
	start := -1 // of the current chunk
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			t.Fatalf("%d trailing bytes", len(b)-off)
		}
		size := int(binary.BigEndian.Uint32(b[off:]))
		if size < 8 || size > len(b)-off {
			t.Fatalf("box of size %d at %d, %d bytes left", size, off, len(b)-off)
		}
		if string(b[off+4:off+8]) == "moof" {
			if start < 0 {
				init = b[:off]
			} else {
				chunks = append(chunks, b[start:off])
			}
			start = off
		}
		off += size
	}
	if start < 0 {
		t.Fatal("no moof")
	}
	return init, append(chunks, b[start:])
}

// md5Lines returns the size and hash columns of ffmpeg's framemd5 output,
// one line per packet.
func md5Lines(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		lines = append(lines, strings.TrimSpace(f[len(f)-2])+" "+strings.TrimSpace(f[len(f)-1]))
	}
	return lines
}

// TestFFmpegReadsLLHLS publishes real fMP4 from ffmpeg in parts (a chunk a
// part, five parts a fragment) and has ffprobe and ffmpeg read the LL-HLS
// playlist over HTTP, with the token in the playlist's query: ffprobe finds
// the video, and ffmpeg reads every frame of the complete segments with the
// very bytes that were published.
func TestFFmpegReadsLLHLS(t *testing.T) {
	t.Parallel()
	ffmpeg, ffprobe := tool(t, "ffmpeg"), tool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	src := run(t, ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=320x180:rate=30:duration=%d", ffmpegSeconds),
		"-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-f", "mp4", "-movflags", "empty_moov+default_base_moof+frag_keyframe", "-frag_duration", "200000", "pipe:1")
	init, chunks := splitFMP4(t, src)
	if len(chunks) != ffmpegSeconds*ffmpegChunksPerSec {
		t.Fatalf("ffmpeg wrote %d chunks, want %d (200 ms each)", len(chunks), ffmpegSeconds*ffmpegChunksPerSec)
	}
	// The frames as ffmpeg reads them from the file itself.
	file := filepath.Join(t.TempDir(), "src.mp4")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	want := md5Lines(run(t, ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", file, "-map", "0:v", "-c", "copy", "-f", "framemd5", "pipe:1"))
	if len(want) != ffmpegFrames {
		t.Fatalf("the source has %d frames, want %d", len(want), ffmpegFrames)
	}

	// Five complete fragments of five parts, and three parts of the sixth.
	f := newFixture(t, nil)
	pub := f.publish(stream)
	pub.SetInit(init)
	const complete, open = ffmpegSeconds - 1, 3
	for i, c := range chunks[:complete*ffmpegChunksPerSec+open] {
		seq, index := uint64(i/ffmpegChunksPerSec), i%ffmpegChunksPerSec
		in := hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(index), Duration: 0.2, Independent: index == 0, Data: c}
		if added, err := pub.AppendPart(in); !added || err != nil {
			t.Fatalf("part %d.%d: %v, %v", seq, index, added, err)
		}
		if index == ffmpegChunksPerSec-1 {
			closeFragment(t, pub, seq, ffmpegChunksPerSec)
		}
	}
	url := f.srv.URL + "/hls/" + stream + "/index.m3u8?token=" + pullToken(t, stream)
	p := parse(t, f.get(strings.TrimPrefix(url, f.srv.URL)))
	if len(p.Segments) != complete || p.Partial == nil || len(p.Partial.Parts) != open || p.PartTarget != 0.2 {
		t.Fatalf("playlist: %d segments, partial %+v", len(p.Segments), p.Partial)
	}

	probe := string(run(t, ctx, ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "default=noprint_wrappers=1", url))
	for _, line := range []string{"codec_name=h264", "width=320", "height=180"} {
		if !strings.Contains(probe, line+"\n") {
			t.Errorf("ffprobe found no %s:\n%s", line, probe)
		}
	}
	// All frames of the complete segments, from the first one on.
	frames := complete * 30
	got := md5Lines(run(t, ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-live_start_index", "0", "-i", url,
		"-map", "0:v", "-c", "copy", "-frames:v", fmt.Sprint(frames), "-f", "framemd5", "pipe:1"))
	if len(got) != frames {
		t.Fatalf("ffmpeg read %d frames over LL-HLS, want %d", len(got), frames)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d: size and MD5 %q over LL-HLS, %q in the file", i, got[i], want[i])
		}
	}
}
