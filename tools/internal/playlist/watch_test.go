package playlist

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestWatcherSlidingWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "live.m3u8")
	write := func(s string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	w := &Watcher{Path: path}
	steps := []struct {
		name        string
		playlist    string // "" = leave as is
		wantURIs    []string
		wantSkipped uint64
		wantDisc    bool
		wantEnded   bool
	}{
		{name: "no file yet"},
		{name: "first segment", playlist: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1,\ns0.ts\n", wantURIs: []string{"s0.ts"}},
		{name: "unchanged"},
		{name: "two more", playlist: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1,\ns0.ts\n#EXTINF:1,\ns1.ts\n#EXTINF:1,\ns2.ts\n", wantURIs: []string{"s1.ts", "s2.ts"}},
		{name: "window slides", playlist: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:1,\ns1.ts\n#EXTINF:1,\ns2.ts\n#EXTINF:1,\ns3.ts\n", wantURIs: []string{"s3.ts"}},
		{name: "fell behind", playlist: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:6\n#EXTINF:1,\ns6.ts\n#EXTINF:1,\ns7.ts\n", wantURIs: []string{"s6.ts", "s7.ts"}, wantSkipped: 2, wantDisc: true},
		{name: "end", playlist: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:6\n#EXTINF:1,\ns6.ts\n#EXTINF:1,\ns7.ts\n#EXT-X-ENDLIST\n", wantEnded: true},
	}
	for _, st := range steps {
		if st.playlist != "" {
			write(st.playlist)
		}
		entries, ended, skipped, err := w.Next()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var uris []string
		for _, e := range entries {
			uris = append(uris, e.URI)
		}
		if len(uris) != len(st.wantURIs) || (len(uris) > 0 && uris[0] != st.wantURIs[0]) || (len(uris) > 1 && uris[len(uris)-1] != st.wantURIs[len(st.wantURIs)-1]) {
			t.Errorf("%s: got %v, want %v", st.name, uris, st.wantURIs)
		}
		if skipped != st.wantSkipped || ended != st.wantEnded {
			t.Errorf("%s: skipped %d ended %v, want %d %v", st.name, skipped, ended, st.wantSkipped, st.wantEnded)
		}
		if len(entries) > 0 && entries[0].Discontinuity != st.wantDisc {
			t.Errorf("%s: first entry discontinuity %v, want %v", st.name, entries[0].Discontinuity, st.wantDisc)
		}
	}
}

// ffmpegPath returns the ffmpeg binary or skips the test, saying why.
func ffmpegPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (apt-get install ffmpeg); this test needs real ffmpeg output")
	}
	return path
}

// TestWatchRealFFmpeg runs ffmpeg's HLS muxer in real time (-re) and checks
// that the watcher reports every segment, with its EXTINF duration, while
// ffmpeg is still running, and that each reported file is complete.
func TestWatchRealFFmpeg(t *testing.T) {
	t.Parallel()
	ffmpeg := ffmpegPath(t)
	dir := t.TempDir()
	playlist := filepath.Join(dir, "live.m3u8")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=3",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-sc_threshold", "0",
		"-force_key_frames", "expr:gte(t,n_forced*1)",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "3", "-hls_flags", "temp_file+independent_segments",
		"-hls_segment_filename", filepath.Join(dir, "seg%03d.ts"), playlist)
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var exitErr error
	done := false
	stop := func() bool {
		if done {
			return true
		}
		select {
		case exitErr = <-exited:
			done = true
		default:
		}
		return done
	}

	type seen struct {
		entry        Entry
		whileRunning bool
		size         int
	}
	var got []seen
	w := &Watcher{Path: playlist, Interval: 20 * time.Millisecond}
	err := w.Watch(ctx, stop, func(e Entry, lost uint64) error {
		data, err := os.ReadFile(filepath.Join(dir, e.URI))
		if err != nil {
			t.Errorf("segment %s listed but not readable: %v", e.URI, err)
		}
		if lost != 0 {
			t.Errorf("lost %d segments before %s", lost, e.URI)
		}
		got = append(got, seen{entry: e, whileRunning: !done, size: len(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !done {
		stop()
	}
	if exitErr != nil {
		t.Fatalf("ffmpeg: %v\n%s", exitErr, out.String())
	}
	if len(got) != 3 {
		t.Fatalf("watched %d segments, want 3: %+v", len(got), got)
	}
	for i, s := range got {
		if s.entry.Sequence != uint64(i) {
			t.Errorf("segment %d has sequence %d", i, s.entry.Sequence)
		}
		if s.entry.Duration < 900*time.Millisecond || s.entry.Duration > 1100*time.Millisecond {
			t.Errorf("%s: duration %v, want about 1s", s.entry.URI, s.entry.Duration)
		}
		if s.size == 0 || s.size%188 != 0 {
			t.Errorf("%s: %d bytes is not whole TS packets (read before ffmpeg finished it?)", s.entry.URI, s.size)
		}
	}
	if !got[0].whileRunning {
		t.Error("the first segment was only seen after ffmpeg exited; the watcher should see it live")
	}
}
