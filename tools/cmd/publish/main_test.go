package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func runPublish(ctx context.Context, env map[string]string, args ...string) (int, string) {
	return runPublishStdin(ctx, env, strings.NewReader(""), args...)
}

func runPublishStdin(ctx context.Context, env map[string]string, stdin io.Reader, args ...string) (int, string) {
	var errOut syncBuffer
	code := run(ctx, args, func(k string) string { return env[k] }, stdin, &errOut, false)
	return code, errOut.String()
}

func TestUsage(t *testing.T) {
	t.Parallel()
	base := []string{"-url", "ws://127.0.0.1:1/", "-stream", "s"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "help", args: []string{"-h"}, wantCode: exitOK, wantErr: `(default "2500k")`},
		{name: "negative loops", args: append(base, "-sample", "-loops", "-2"), wantCode: exitUsage, wantErr: "not a count"},
		{name: "no url", args: []string{"-stream", "s", "-sample"}, wantCode: exitUsage, wantErr: "-url is required"},
		{name: "no stream", args: []string{"-url", "ws://127.0.0.1:1/", "-sample"}, wantCode: exitUsage, wantErr: "-stream is required"},
		{name: "bad stream", args: []string{"-url", "ws://127.0.0.1:1/", "-stream", "a\x01b", "-sample"}, wantCode: exitUsage, wantErr: "control character"},
		{name: "no source", args: base, wantCode: exitUsage, wantErr: "exactly one source"},
		{name: "two sources", args: append(base, "-sample", "-dir", "x"), wantCode: exitUsage, wantErr: "exactly one source"},
		{name: "loop with sample", args: append(base, "-sample", "-loop"), wantCode: exitUsage, wantErr: "-loop applies"},
		{name: "loops with file", args: append(base, "-file", "x.mp4", "-loops", "2"), wantCode: exitUsage, wantErr: "-loops applies"},
		{name: "speed with input", args: append(base, "-input", "-i x", "-speed", "2"), wantCode: exitUsage, wantErr: "-speed applies"},
		{name: "bad log level", args: append(base, "-sample", "-log-level", "loud"), wantCode: exitUsage, wantErr: "-log-level"},
		{name: "bad url", args: []string{"-url", "http://x/", "-stream", "s", "-sample"}, wantCode: exitUsage, wantErr: "ws"},
		{name: "missing dir", args: append(base, "-dir", "/nonexistent/segments"), wantCode: exitFailed, wantErr: "cannot read the source"},
		{name: "missing file", args: append(base, "-file", "/nonexistent/video.mp4"), wantCode: exitFailed, wantErr: "cannot read the source"},
		{name: "cmaf missing file", args: append(base, "-cmaf", "-file", "/nonexistent/video.mp4"), wantCode: exitFailed, wantErr: "cannot read the source"},
		{name: "stdin without cmaf", args: append(base, "-stdin"), wantCode: exitUsage, wantErr: "add -cmaf"},
		{name: "stdin and sample", args: append(base, "-cmaf", "-stdin", "-sample"), wantCode: exitUsage, wantErr: "exactly one source"},
		{name: "cmaf with dir", args: append(base, "-cmaf", "-dir", "x"), wantCode: exitUsage, wantErr: "-cmaf applies"},
		{name: "chunk without cmaf", args: append(base, "-input", "-i x", "-chunk-duration", "100ms"), wantCode: exitUsage, wantErr: "-chunk-duration applies"},
		{name: "chunk with cmaf sample", args: append(base, "-cmaf", "-sample", "-chunk-duration", "100ms"), wantCode: exitUsage, wantErr: "-chunk-duration applies"},
		{name: "chunk longer than fragments", args: append(base, "-cmaf", "-input", "-i x", "-chunk-duration", "2s"), wantCode: exitUsage, wantErr: "longer than the fragments"},
		{name: "negative chunk", args: append(base, "-cmaf", "-input", "-i x", "-chunk-duration", "-1s"), wantCode: exitUsage, wantErr: "negative"},
		{name: "bad stamp", args: append(base, "-sample", "-stamp", "now"), wantCode: exitUsage, wantErr: "-stamp \"now\": want capture or relay"},
		{name: "loops with stdin", args: append(base, "-cmaf", "-stdin", "-loops", "2"), wantCode: exitUsage, wantErr: "do not apply to -stdin"},
		{name: "speed with stdin", args: append(base, "-cmaf", "-stdin", "-speed", "2"), wantCode: exitUsage, wantErr: "do not apply to -stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, errOut := runPublish(t.Context(), nil, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
		})
	}
}

// pushAuth makes the test relay check PUSH tokens against secret.
func pushAuth(secret string) relaytest.Options {
	return relaytest.Options{Authorize: func(action, stream, auth string) error {
		return token.Verify([]byte(secret), auth, token.Action(action), stream, time.Time{})
	}}
}

func checkFragments(t *testing.T, got []relaytest.Fragment, want []sample.Segment) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("relay received %d fragments, want %d", len(got), len(want))
	}
	for i, f := range got {
		w := want[i%len(want)]
		if !bytes.Equal(f.Data, w.Data) {
			t.Errorf("fragment %d: %d bytes differ from %s", i, len(f.Data), w.Name)
		}
		h, err := protocol.ParseFragment(f.Header)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if got := time.Duration(h.Duration * float64(time.Second)); got.Round(time.Millisecond) != w.Duration.Round(time.Millisecond) {
			t.Errorf("fragment %d: F duration %v, want %v", i, got, w.Duration)
		}
	}
}

func TestSampleLoops(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, pushAuth("push-secret"))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, map[string]string{"PUSH_SECRET": "push-secret"},
		"-url", relay.URL(), "-stream", "room1/sample", "-sample", "-loops", "2", "-speed", "20")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	segs := sample.Segments()
	checkFragments(t, relay.Fragments("room1/sample"), append(segs, segs...))
	if !relay.ClosedByPublisher("room1/sample") {
		t.Error("no CLOSE after the last loop")
	}
	for _, want := range []string{"relay accepted the PUSH", "replay restarts", "publisher closed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("log lacks %q:\n%s", want, errOut)
		}
	}
	if errs := relay.Errors(); len(errs) != 0 {
		t.Errorf("relay saw protocol errors: %v", errs)
	}
}

func TestInterruptSendsClose(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	go func() {
		_, _ = relay.WaitFragments(ctx, "room1/live", 3)
		interrupt() // what Ctrl-C does
	}()
	code, errOut := runPublish(runCtx, nil, "-url", relay.URL(), "-stream", "room1/live", "-sample", "-speed", "20")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if !relay.ClosedByPublisher("room1/live") {
		t.Errorf("no CLOSE after the interrupt; stderr:\n%s", errOut)
	}
	if !strings.Contains(errOut, "interrupted") {
		t.Errorf("log does not mention the interrupt:\n%s", errOut)
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	segs := sample.Segments()[:3]
	var m3u8 strings.Builder
	m3u8.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
	for _, s := range segs {
		if err := os.WriteFile(filepath.Join(dir, s.Name), s.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		m3u8.WriteString("#EXTINF:" + protocol.FormatDuration(s.Duration.Seconds()) + ",\n" + s.Name + "\n")
	}
	m3u8.WriteString("#EXT-X-ENDLIST\n")
	if err := os.WriteFile(filepath.Join(dir, "index.m3u8"), []byte(m3u8.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	relay := relaytest.New(t, relaytest.Options{})
	code, errOut := runPublish(t.Context(), nil, "-url", relay.URL(), "-stream", "room1/dir", "-dir", dir, "-speed", "20")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	checkFragments(t, relay.Fragments("room1/dir"), segs)
	if !relay.ClosedByPublisher("room1/dir") {
		t.Error("no CLOSE")
	}
}

// TestInputThroughFFmpeg publishes a generated live source through real
// ffmpeg: each segment must reach the relay as one fragment.
func TestInputThroughFFmpeg(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (apt-get install ffmpeg); this test needs real ffmpeg")
	}
	relay := relaytest.New(t, relaytest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, nil, "-url", relay.URL(), "-stream", "room1/ffmpeg",
		"-input", "-f lavfi -i testsrc2=size=320x180:rate=30:duration=2 -f lavfi -i sine=duration=2",
		"-video-bitrate", "300k")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	got := relay.Fragments("room1/ffmpeg")
	if len(got) != 2 {
		t.Fatalf("relay received %d fragments, want 2; stderr:\n%s", len(got), errOut)
	}
	for i, f := range got {
		if len(f.Data) == 0 || len(f.Data)%188 != 0 || f.Data[0] != 0x47 {
			t.Errorf("fragment %d is not MPEG-TS (%d bytes)", i, len(f.Data))
		}
		if d := f.Header.Get("duration"); !strings.HasPrefix(d, "1") && !strings.HasPrefix(d, "0.9") {
			t.Errorf("fragment %d: duration %s, want about 1", i, d)
		}
	}
	if !relay.ClosedByPublisher("room1/ffmpeg") {
		t.Error("no CLOSE after ffmpeg ended")
	}
}

// TestReconnect: the relay drops the publisher's socket every 3 fragments;
// the SDK publisher reconnects and the stream goes on.
func TestReconnect(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{DropPublisherAfter: 3})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, nil, "-url", relay.URL(), "-stream", "room1/flaky",
		"-sample", "-loops", "1", "-speed", "5", "-retry-delay", "50ms")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if n := relay.Pushes(); n < 2 {
		t.Errorf("%d PUSH connections, want a reconnect", n)
	}
	// A base-protocol relay cannot tell the publisher what it lost with
	// the socket; at most the fragment in flight at each drop is lost.
	if n := len(relay.Fragments("room1/flaky")); n < 5 {
		t.Errorf("relay received %d of 6 fragments", n)
	}
	if !strings.Contains(errOut, "relay connection") {
		t.Errorf("the drop was not logged:\n%s", errOut)
	}
}

// TestFileThroughFFmpeg publishes a 2 s media file once, in real time.
func TestFileThroughFFmpeg(t *testing.T) {
	t.Parallel()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (apt-get install ffmpeg); this test needs real ffmpeg")
	}
	file := filepath.Join(t.TempDir(), "clip.mp4")
	mk := exec.CommandContext(t.Context(), ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", file)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make the clip: %v\n%s", err, out)
	}
	relay := relaytest.New(t, relaytest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, nil, "-url", relay.URL(), "-stream", "room1/file", "-file", file, "-video-bitrate", "300k")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if n := len(relay.Fragments("room1/file")); n != 2 {
		t.Errorf("relay received %d fragments, want 2 (a 2 s file in 1 s segments)", n)
	}
	if !relay.ClosedByPublisher("room1/file") {
		t.Error("no CLOSE at the end of the file")
	}
}
