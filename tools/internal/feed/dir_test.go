package feed

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

// writeSample writes the embedded sample's segments under the given names.
func writeSample(t *testing.T, dir string, names []string) {
	t.Helper()
	segs := sample.Segments()
	for i, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), segs[i%len(segs)].Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     []string
		playlist  string
		fixed     time.Duration
		wantNames []string
		wantDur   time.Duration // 0: about 1 s each
		wantDisc  []bool
		wantErr   string
	}{
		{
			name:      "probed, natural order",
			files:     []string{"seg0.ts", "seg1.ts", "seg2.ts", "seg3.ts", "seg4.ts", "seg5.ts"},
			wantNames: []string{"seg0.ts", "seg1.ts", "seg2.ts", "seg3.ts", "seg4.ts", "seg5.ts"},
		},
		{
			name:      "fixed duration",
			files:     []string{"a.ts", "b.ts"},
			fixed:     2 * time.Second,
			wantNames: []string{"a.ts", "b.ts"},
			wantDur:   2 * time.Second,
		},
		{
			name:      "playlist order and durations",
			files:     []string{"x.ts", "y.ts"},
			playlist:  "#EXTM3U\n#EXTINF:0.5,\ny.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:0.5,\nx.ts\n#EXT-X-ENDLIST\n",
			wantNames: []string{"y.ts", "x.ts"},
			wantDur:   500 * time.Millisecond,
			wantDisc:  []bool{false, true},
		},
		{name: "empty", wantErr: "no .ts segments"},
		{name: "playlist names a missing file", files: []string{"a.ts"}, playlist: "#EXTM3U\n#EXTINF:1,\nb.ts\n", wantErr: "b.ts"},
		{name: "playlist escapes the directory", files: []string{"a.ts"}, playlist: "#EXTM3U\n#EXTINF:1,\n../a.ts\n", wantErr: "not a file beside the playlist"},
		{name: "remote playlist", files: []string{"a.ts"}, playlist: "#EXTM3U\n#EXTINF:1,\nhttp://x/a.ts\n", wantErr: "not a file beside the playlist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeSample(t, dir, tt.files)
			if tt.playlist != "" {
				if err := os.WriteFile(filepath.Join(dir, "index.m3u8"), []byte(tt.playlist), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			segs, err := LoadDir(dir, tt.fixed)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, s := range segs {
				names = append(names, s.Name)
				switch {
				case tt.wantDur > 0 && s.Duration != tt.wantDur:
					t.Errorf("%s: duration %v, want %v", s.Name, s.Duration, tt.wantDur)
				case tt.wantDur == 0 && (s.Duration < 990*time.Millisecond || s.Duration > 1010*time.Millisecond):
					t.Errorf("%s: probed duration %v, want about 1s", s.Name, s.Duration)
				}
				if tt.wantDisc != nil && s.Disc != tt.wantDisc[i] {
					t.Errorf("%s: Disc %v, want %v", s.Name, s.Disc, tt.wantDisc[i])
				}
				if len(s.Data) == 0 {
					t.Errorf("%s: no data", s.Name)
				}
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("order %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestLoadDirRejectsNonTS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.ts"), []byte("not a transport stream"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir, time.Second); err == nil || !strings.Contains(err.Error(), "MPEG-TS") {
		t.Errorf("err = %v, want a framing error", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing"), 0); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestNaturalCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"seg2.ts", "seg10.ts", -1},
		{"seg10.ts", "seg2.ts", 1},
		{"seg002.ts", "seg010.ts", -1},
		{"a.ts", "b.ts", -1},
		{"seg1.ts", "seg1.ts", 0},
		{"seg1.ts", "seg01.ts", 1},
		{"x", "x1", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			t.Parallel()
			got := naturalCompare(tt.a, tt.b)
			if sign(got) != tt.want {
				t.Errorf("naturalCompare(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
