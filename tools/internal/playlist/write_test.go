package playlist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	tests := []struct {
		name    string
		entries []Dated
		ended   bool
		want    []string // substrings of the text
	}{
		{name: "empty live", want: []string{"#EXT-X-TARGETDURATION:1\n", "#EXT-X-MEDIA-SEQUENCE:0\n"}},
		{
			name: "window with discontinuity, ended",
			entries: []Dated{
				{Entry: Entry{URI: "a.ts", Duration: time.Second, Sequence: 4}, Time: at},
				{Entry: Entry{URI: "b.ts", Duration: 2500 * time.Millisecond, Sequence: 5, Discontinuity: true}},
			},
			ended: true,
			want: []string{
				"#EXT-X-TARGETDURATION:3\n", "#EXT-X-MEDIA-SEQUENCE:4\n",
				"#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.678Z\n#EXTINF:1.000000,\na.ts\n",
				"#EXT-X-DISCONTINUITY\n#EXTINF:2.500000,\nb.ts\n", "#EXT-X-ENDLIST\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := string(Append(nil, tt.entries, tt.ended))
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q:\n%s", w, text)
				}
			}
			p, err := Parse([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if p.EndList != tt.ended || len(p.Entries) != len(tt.entries) {
				t.Fatalf("parsed %+v", p)
			}
			for i, e := range p.Entries {
				if e != tt.entries[i].Entry {
					t.Errorf("entry %d: %+v, want %+v", i, e, tt.entries[i].Entry)
				}
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "live.m3u8")
	for n := 1; n <= 3; n++ {
		var entries []Dated
		for i := range n {
			entries = append(entries, Dated{Entry: Entry{URI: "s.ts", Duration: time.Second, Sequence: uint64(i)}})
		}
		if err := WriteFile(path, entries, n == 3); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw)
	if err != nil || len(p.Entries) != 3 || !p.EndList {
		t.Fatalf("parsed %+v, %v", p, err)
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
	if len(files) != 0 {
		t.Errorf("temporary files left behind: %v", files)
	}
}
