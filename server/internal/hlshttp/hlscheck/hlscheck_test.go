package hlscheck

import (
	"strconv"
	"strings"
	"testing"
)

const good = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.000Z
#EXTINF:1.000,
e/-/7.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:05.000Z
#EXTINF:1.400,
e/-/8.ts
`

func TestParseGood(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.TargetDuration != 1 || p.MediaSequence != 7 || p.DiscontinuitySequence != 2 || !p.CanBlockReload || p.EndList {
		t.Errorf("header: %+v", p)
	}
	if len(p.Segments) != 2 {
		t.Fatalf("%d segments", len(p.Segments))
	}
	s := p.Segments[1]
	if s.Seq != 8 || s.DiscSeq != 3 || !s.Discontinuity || s.URI != "e/-/8.ts" || s.Duration != 1.4 || s.ProgramDateTime.Second() != 5 {
		t.Errorf("segment: %+v", s)
	}
	if p.LastSeq() != 8 {
		t.Errorf("LastSeq = %d", p.LastSeq())
	}
}

// TestParseBad: every rule the validator checks, broken once.
func TestParseBad(t *testing.T) {
	t.Parallel()
	replace := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for _, tc := range []struct {
		name, playlist, want string
	}{
		{"no EXTM3U", strings.TrimPrefix(good, "#EXTM3U\n"), "#EXTM3U"},
		{"no newline at the end", strings.TrimSuffix(good, "\n"), "newline"},
		{"no target duration", replace("#EXT-X-TARGETDURATION:1\n", ""), "EXT-X-TARGETDURATION is required"},
		{"no version", replace("#EXT-X-VERSION:3\n", ""), "EXT-X-VERSION is missing"},
		{"decimals in version 2", replace("VERSION:3", "VERSION:2"), "need EXT-X-VERSION 3"},
		{"EXTINF rounds above the target", replace("#EXTINF:1.400,", "#EXTINF:1.500,"), "rounds to 2"},
		{"target duration zero", replace("TARGETDURATION:1", "TARGETDURATION:0"), "below 1"},
		{"target duration not an integer", replace("TARGETDURATION:1", "TARGETDURATION:1.0"), "not a decimal-integer"},
		{"media sequence twice", replace("#EXT-X-MEDIA-SEQUENCE:7\n", "#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-MEDIA-SEQUENCE:7\n"), "twice"},
		{"media sequence after a segment", replace("#EXT-X-MEDIA-SEQUENCE:7\n", "") + "#EXT-X-MEDIA-SEQUENCE:7\n", "before the first media segment"},
		{"discontinuity sequence after a discontinuity", replace("#EXT-X-DISCONTINUITY-SEQUENCE:2\n", "#EXT-X-DISCONTINUITY\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n"), "before any EXT-X-DISCONTINUITY"},
		{"bad program date time", replace("2026-11-24T10:00:00.000Z", "2026-11-24 10:00:00"), "ISO 8601"},
		{"program date time without zone", replace("2026-11-24T10:00:00.000Z", "2026-11-24T10:00:00.000"), "ISO 8601"},
		{"URI without EXTINF", replace("#EXTINF:1.000,\n", ""), "without a preceding EXTINF"},
		{"EXTINF without comma", replace("#EXTINF:1.000,", "#EXTINF:1.000"), "comma"},
		{"EXTINF twice", replace("#EXTINF:1.000,\n", "#EXTINF:1.000,\n#EXTINF:1.000,\n"), "twice for one segment"},
		{"URI twice", replace("e/-/8.ts", "e/-/7.ts"), "listed twice"},
		{"tags after ENDLIST", good + "#EXT-X-ENDLIST\n#EXT-X-DISCONTINUITY\n", "after EXT-X-ENDLIST"},
		{"dangling segment tags", good + "#EXTINF:1,\n", "without a URI"},
		{"unknown tag", replace("#EXT-X-VERSION:3\n", "#EXT-X-VERSION:3\n#EXT-X-FOO:1\n"), "unknown"},
		{"master playlist tag", good + "#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n", "unknown"},
		{"bad server control", replace("CAN-BLOCK-RELOAD=YES", "CAN-BLOCK-RELOAD=NO"), "only allowed value"},
		{"empty live playlist", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n", "without segments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.playlist))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func mustParse(t *testing.T, s string) *Playlist {
	t.Helper()
	p, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return p
}

// live builds a playlist of 1 s segments first..last; discs lists the
// sequence numbers that carry EXT-X-DISCONTINUITY.
func live(first, last, discSeq uint64, discs map[uint64]bool, end bool) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n")
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + itoa(first) + "\n#EXT-X-DISCONTINUITY-SEQUENCE:" + itoa(discSeq) + "\n")
	for s := first; s <= last; s++ {
		if discs[s] {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		b.WriteString("#EXTINF:1.000,\ne/-/" + itoa(s) + ".ts\n")
	}
	if end {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String()
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestCheckReload(t *testing.T) {
	t.Parallel()
	discAt := map[uint64]bool{3: true}
	for _, tc := range []struct {
		name       string
		prev, next string
		want       string // "" = valid
	}{
		{"append", live(1, 3, 0, discAt, false), live(1, 4, 0, discAt, false), ""},
		{"slide without discontinuity removed", live(1, 4, 0, discAt, false), live(2, 5, 0, discAt, false), ""},
		{"slide removes a discontinuity", live(2, 5, 0, discAt, false), live(4, 6, 1, discAt, false), ""},
		{"discontinuity sequence not advanced", live(2, 5, 0, discAt, false), live(4, 6, 0, discAt, false), "want 1"},
		{"discontinuity sequence advanced twice", live(1, 2, 0, nil, false), live(2, 3, 1, nil, false), "want 0"},
		{"media sequence back", live(3, 5, 0, nil, false), live(2, 5, 0, nil, false), "went back"},
		{"last segment back", live(3, 5, 0, nil, false), live(3, 4, 0, nil, false), "last segment went back"},
		{"changed after ENDLIST", live(1, 3, 0, nil, true), live(1, 4, 0, nil, true), "after EXT-X-ENDLIST"},
		{"ENDLIST stays", live(1, 3, 0, nil, true), live(1, 3, 0, nil, true), ""},
		{"segment changed", live(1, 3, 0, nil, false), strings.Replace(live(1, 4, 0, nil, false), "e/-/2.ts", "f/-/2.ts", 1), "changed"},
		{"URI reused", live(1, 3, 0, nil, false), strings.Replace(live(4, 4, 0, nil, false), "e/-/4.ts", "e/-/3.ts", 1), "was segment 3"},
		{"target decreased", strings.Replace(live(1, 2, 0, nil, false), "TARGETDURATION:1", "TARGETDURATION:2", 1), live(1, 3, 0, nil, false), "decreased"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckReload(mustParse(t, tc.prev), mustParse(t, tc.next))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
