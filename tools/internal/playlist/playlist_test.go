package playlist

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    *Playlist
		wantErr error // nil: success; errAny: any error
	}{
		{
			name: "ffmpeg live window",
			in: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:7\n" +
				"#EXTINF:1.000000,\nseg007.ts\n#EXTINF:0.966667,\nseg008.ts\n",
			want: &Playlist{TargetDuration: time.Second, MediaSequence: 7, Entries: []Entry{
				{URI: "seg007.ts", Duration: time.Second, Sequence: 7},
				{URI: "seg008.ts", Duration: 966667 * time.Microsecond, Sequence: 8},
			}},
		},
		{
			name: "discontinuity and end",
			in:   "#EXTM3U\n#EXTINF:2,title\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.5,\nb.ts\n#EXT-X-ENDLIST\n",
			want: &Playlist{EndList: true, Entries: []Entry{
				{URI: "a.ts", Duration: 2 * time.Second, Sequence: 0},
				{URI: "b.ts", Duration: 2500 * time.Millisecond, Sequence: 1, Discontinuity: true},
			}},
		},
		{
			name: "partial last line is ignored",
			in:   "#EXTM3U\n#EXTINF:1.0,\na.ts\n#EXTINF:1.0,\nb.t",
			want: &Playlist{Entries: []Entry{{URI: "a.ts", Duration: time.Second}}},
		},
		{
			name: "CRLF and BOM",
			in:   "\xef\xbb\xbf#EXTM3U\r\n#EXTINF:1.5,\r\nx.ts\r\n",
			want: &Playlist{Entries: []Entry{{URI: "x.ts", Duration: 1500 * time.Millisecond}}},
		},
		{name: "empty", in: "", wantErr: ErrNotPlaylist},
		{name: "not m3u", in: "hello\n", wantErr: ErrNotPlaylist},
		{name: "multivariant", in: "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n", wantErr: ErrNotPlaylist},
		{name: "URI without EXTINF", in: "#EXTM3U\na.ts\n", wantErr: errAny},
		{name: "bad duration", in: "#EXTM3U\n#EXTINF:abc,\na.ts\n", wantErr: errAny},
		{name: "negative duration", in: "#EXTM3U\n#EXTINF:-1,\na.ts\n", wantErr: errAny},
		{name: "bad media sequence", in: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n", wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("no error, got %+v", got)
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr != nil:
				return
			}
			if got.TargetDuration != tt.want.TargetDuration || got.MediaSequence != tt.want.MediaSequence || got.EndList != tt.want.EndList {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if len(got.Entries) != len(tt.want.Entries) {
				t.Fatalf("entries %+v, want %+v", got.Entries, tt.want.Entries)
			}
			for i := range got.Entries {
				if got.Entries[i] != tt.want.Entries[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got.Entries[i], tt.want.Entries[i])
				}
			}
		})
	}
}

var errAny = errors.New("any error")
