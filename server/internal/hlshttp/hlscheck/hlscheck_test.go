package hlscheck

import (
	"slices"
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

// goodLL is a live LL-HLS playlist: fMP4 segments under EXT-X-MAP, the
// parts of the last segments, the segment being produced and a hint.
const goodLL = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600
#EXT-X-PART-INF:PART-TARGET=0.200
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-MAP:URI="e/-/init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.000Z
#EXTINF:1.000,
e/-/7.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:01.000Z
#EXT-X-PART:DURATION=0.200,URI="e/-/8.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.200,URI="e/-/8.1.m4s"
#EXT-X-PART:DURATION=0.200,URI="e/-/8.2.m4s"
#EXT-X-PART:DURATION=0.200,URI="e/-/8.3.m4s"
#EXT-X-PART:DURATION=0.100,URI="e/-/8.4.m4s"
#EXTINF:0.900,
e/-/8.m4s
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.000Z
#EXT-X-PART:DURATION=0.200,URI="e/-/9.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.180,URI="e/-/9.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.2.m4s"
`

func TestParseGoodLL(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(goodLL))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 6 || p.PartTarget != 0.2 || p.PartHoldBack != 0.6 || p.HoldBack != 0 || !p.CanBlockReload || p.LastSeq() != 8 {
		t.Errorf("header: %+v", p)
	}
	if len(p.Segments) != 2 || len(p.Segments[0].Parts) != 0 || len(p.Segments[1].Parts) != 5 || p.Segments[1].Map != "e/-/init-1.mp4" {
		t.Fatalf("segments: %+v", p.Segments)
	}
	if got := p.Segments[1].Parts[0]; got != (Part{URI: "e/-/8.0.m4s", Duration: 0.2, Independent: true}) {
		t.Errorf("part: %+v", got)
	}
	s := p.Partial
	if s == nil || s.Seq != 9 || s.DiscSeq != 1 || !s.Discontinuity || len(s.Parts) != 2 || s.Map != "e/-/init-1.mp4" || s.ProgramDateTime.Second() != 2 {
		t.Fatalf("partial segment: %+v", s)
	}
	if len(p.PreloadHints) != 1 || p.PreloadHints[0] != (PreloadHint{Type: "PART", URI: "e/-/9.2.m4s"}) {
		t.Errorf("preload hints: %+v", p.PreloadHints)
	}
	// Ended: no hint, no incomplete segment.
	ended := strings.Replace(goodLL, `#EXT-X-PART:DURATION=0.180,URI="e/-/9.1.m4s"`+"\n"+`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.2.m4s"`,
		`#EXTINF:0.200,`+"\ne/-/9.m4s\n#EXT-X-ENDLIST", 1)
	if p, err := Parse([]byte(ended)); err != nil || !p.EndList || p.Partial != nil || p.LastSeq() != 9 {
		t.Errorf("ended: %+v, %v\n%s", p, err, ended)
	}
}

// TestParseBadLL: every low-latency rule the validator checks, broken once.
func TestParseBadLL(t *testing.T) {
	t.Parallel()
	replace := func(old, new string) string {
		if !strings.Contains(goodLL, old) {
			t.Fatalf("%q is not in the playlist", old)
		}
		return strings.Replace(goodLL, old, new, 1)
	}
	for _, tc := range []struct {
		name, playlist, want string
	}{
		{"no PART-INF", replace("#EXT-X-PART-INF:PART-TARGET=0.200\n", ""), "without EXT-X-PART-INF"},
		{"PART-INF twice", replace("#EXT-X-PART-INF:PART-TARGET=0.200\n", "#EXT-X-PART-INF:PART-TARGET=0.200\n#EXT-X-PART-INF:PART-TARGET=0.200\n"), "appears twice"},
		{"PART-INF without PART-TARGET", replace("PART-TARGET=0.200", "X=1"), "unknown attribute X"},
		{"PART-TARGET zero", replace("PART-TARGET=0.200", "PART-TARGET=0"), "must be positive"},
		{"PART-TARGET quoted", replace("PART-TARGET=0.200", `PART-TARGET="0.200"`), "must not be quoted"},
		{"part above the target", replace("DURATION=0.200,URI=\"e/-/8.1.m4s\"", "DURATION=0.201,URI=\"e/-/8.1.m4s\""), "above PART-TARGET"},
		{"part below 85% of the target", replace("DURATION=0.200,URI=\"e/-/8.1.m4s\"", "DURATION=0.169,URI=\"e/-/8.1.m4s\""), "below 85%"},
		{"no PART-HOLD-BACK", replace(",PART-HOLD-BACK=0.600", ""), "needs EXT-X-SERVER-CONTROL:PART-HOLD-BACK"},
		{"PART-HOLD-BACK below twice the target", replace("PART-HOLD-BACK=0.600", "PART-HOLD-BACK=0.399"), "below twice"},
		{"HOLD-BACK below three targets", replace("PART-HOLD-BACK=0.600", "PART-HOLD-BACK=0.600,HOLD-BACK=2.9"), "HOLD-BACK 2.900 is below"},
		{"server control attribute twice", replace("CAN-BLOCK-RELOAD=YES", "CAN-BLOCK-RELOAD=YES,CAN-BLOCK-RELOAD=YES"), "appears twice"},
		{"no preload hint", replace(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.2.m4s"`+"\n", ""), "without EXT-X-PRELOAD-HINT"},
		{"two preload hints of a type", replace(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.2.m4s"`, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.2.m4s"`+"\n"+`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/-/9.3.m4s"`), "two EXT-X-PRELOAD-HINT"},
		{"preload hint of a listed part", replace(`URI="e/-/9.2.m4s"`, `URI="e/-/9.1.m4s"`), "which is listed"},
		{"preload hint of another type", replace("TYPE=PART", "TYPE=SEGMENT"), "neither PART nor MAP"},
		{"preload hint without URI", replace(`TYPE=PART,URI="e/-/9.2.m4s"`, "TYPE=PART"), "URI is required"},
		{"preload hint with a bad byte range", replace(`TYPE=PART,`, `TYPE=PART,BYTERANGE-START=x,`), "not a decimal-integer"},
		{"preload hint in an ended playlist", goodLL + "#EXT-X-ENDLIST\n", "EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST"},
		{"ended with an incomplete segment", goodLL + "#EXT-X-ENDLIST\n", "parts of an incomplete segment"},
		{"part without URI", replace(`DURATION=0.200,URI="e/-/8.1.m4s"`, "DURATION=0.200"), "URI is required"},
		{"part without DURATION", replace(`DURATION=0.200,URI="e/-/8.1.m4s"`, `URI="e/-/8.1.m4s"`), "DURATION is required"},
		{"part URI unquoted", replace(`URI="e/-/8.1.m4s"`, `URI=e/-/8.1.m4s`), "must be a quoted-string"},
		{"part INDEPENDENT=NO", replace(`URI="e/-/8.0.m4s",INDEPENDENT=YES`, `URI="e/-/8.0.m4s",INDEPENDENT=NO`), "only allowed value is YES"},
		{"part unknown attribute", replace(`URI="e/-/8.1.m4s"`, `URI="e/-/8.1.m4s",X-FOO=1`), "unknown attribute X-FOO"},
		{"part URI twice", replace(`URI="e/-/8.1.m4s"`, `URI="e/-/8.0.m4s"`), "listed twice"},
		{"part after EXTINF", replace("#EXTINF:0.900,\n", "#EXTINF:0.900,\n#EXT-X-PART:DURATION=0.1,URI=\"x.m4s\"\n"), "after the EXTINF"},
		{"discontinuity after a part", replace("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.000Z\n#EXT-X-PART:DURATION=0.200,URI=\"e/-/9.0.m4s\",INDEPENDENT=YES\n",
			"#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.000Z\n#EXT-X-PART:DURATION=0.200,URI=\"e/-/9.0.m4s\",INDEPENDENT=YES\n#EXT-X-DISCONTINUITY\n"), "after the first EXT-X-PART"},
		{"map between parts", replace(`#EXT-X-PART:DURATION=0.180`, `#EXT-X-MAP:URI="e/-/init-2.mp4"`+"\n"+`#EXT-X-PART:DURATION=0.180`), "EXT-X-MAP between the parts"},
		{"no map", replace(`#EXT-X-MAP:URI="e/-/init-1.mp4"`+"\n", ""), "without EXT-X-MAP"},
		{"map without URI", replace(`#EXT-X-MAP:URI="e/-/init-1.mp4"`, `#EXT-X-MAP:BYTERANGE="1@0"`), "URI is required"},
		{"map in version 5", replace("VERSION:6", "VERSION:5"), "needs EXT-X-VERSION 6"},
		{"bad attribute list", replace(`URI="e/-/8.1.m4s"`, `URI="e/-/8.1.m4s`), "unterminated"},
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

func TestParseAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []attribute
		err  string
	}{
		{in: `A=1`, want: []attribute{{Name: "A", Value: "1"}}},
		{in: `URI="a,b=c",DURATION=0.2,X-Y-9=YES`, want: []attribute{{Name: "URI", Value: "a,b=c", Quoted: true}, {Name: "DURATION", Value: "0.2"}, {Name: "X-Y-9", Value: "YES"}}},
		{in: `A=""`, want: []attribute{{Name: "A", Quoted: true}}},
		{in: ``, err: "empty attribute list"},
		{in: `A`, err: "without a value"},
		{in: `=1`, err: "without a name"},
		{in: `a=1`, err: "A-Z, 0-9"},
		{in: `A=1,A=2`, err: "appears twice"},
		{in: `A="x`, err: "unterminated"},
		{in: `A="x"y`, err: "after the quoted-string"},
		{in: `A=`, err: "empty value"},
		{in: `A=1,`, err: "comma at the end"},
		{in: `A=x y`, err: "white space"},
		{in: `A=x"y`, err: "quote"},
		{in: "A=\"x\ry\"", err: "line break"},
	} {
		got, err := parseAttributes(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// ll builds an LL-HLS playlist of 1 s segments first..last of 5 parts
// each, parts listed from segment partsFrom on, and a segment being produced
// with open parts (a hint follows unless end).
func ll(first, last, partsFrom uint64, open int, end bool) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600\n")
	b.WriteString("#EXT-X-PART-INF:PART-TARGET=0.200\n#EXT-X-MEDIA-SEQUENCE:" + itoa(first) + "\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	parts := func(seq uint64, n int) {
		for i := range n {
			b.WriteString(`#EXT-X-PART:DURATION=0.200,URI="` + itoa(seq) + "." + strconv.Itoa(i) + `.m4s"` + "\n")
		}
	}
	for s := first; s <= last; s++ {
		if s >= partsFrom {
			parts(s, 5)
		}
		b.WriteString("#EXTINF:1.000,\n" + itoa(s) + ".m4s\n")
	}
	parts(last+1, open)
	if end {
		b.WriteString("#EXT-X-ENDLIST\n")
	} else {
		b.WriteString(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="` + itoa(last+1) + "." + strconv.Itoa(open) + `.m4s"` + "\n")
	}
	return b.String()
}

// newInit puts an EXT-X-DISCONTINUITY and the EXT-X-MAP of init2.mp4
// before segment seq of an ll playlist: a new init segment from seq on.
func newInit(pl string, seq uint64) string {
	at := strings.Index(pl, `#EXT-X-PART:DURATION=0.200,URI="`+itoa(seq)+`.0.m4s"`)
	if i := strings.Index(pl, "#EXTINF:1.000,\n"+itoa(seq)+".m4s\n"); at < 0 || (i >= 0 && i < at) {
		at = i
	}
	return pl[:at] + "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init2.mp4\"\n" + pl[at:]
}

func TestParseMapChange(t *testing.T) {
	t.Parallel()
	p := mustParse(t, newInit(ll(1, 4, 2, 1, false), 4))
	for _, s := range append(p.Segments, *p.Partial) {
		want := "init.mp4"
		if s.Seq >= 4 {
			want = "init2.mp4"
		}
		if s.Map != want || s.Discontinuity != (s.Seq == 4) {
			t.Errorf("segment %d: map %q, discontinuity %v", s.Seq, s.Map, s.Discontinuity)
		}
	}
	if p.Partial.Seq != 5 || p.Partial.DiscSeq != 1 {
		t.Errorf("partial segment %+v", p.Partial)
	}
}

func TestCheckReloadLL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		prev, next string
		want       string // "" = valid
	}{
		{"a part added", ll(1, 3, 2, 2, false), ll(1, 3, 2, 3, false), ""},
		{"the partial segment completed", ll(1, 3, 2, 4, false), ll(1, 4, 2, 0, false), ""},
		{"completed, next one started", ll(1, 3, 2, 4, false), ll(1, 4, 2, 1, false), ""},
		{"old parts removed", ll(1, 3, 1, 2, false), ll(1, 4, 3, 0, false), ""},
		{"ended", ll(1, 3, 2, 4, false), ll(1, 4, 2, 0, true), ""},
		{"a part of the partial segment changed", ll(1, 3, 2, 2, false),
			strings.Replace(ll(1, 3, 2, 3, false), `DURATION=0.200,URI="4.1.m4s"`, `DURATION=0.190,URI="4.1.m4s"`, 1), "parts of segment 4 changed"},
		{"a part of a complete segment changed", ll(1, 3, 2, 2, false),
			strings.Replace(ll(1, 3, 2, 3, false), `URI="3.1.m4s"`, `URI="3.1.m4s",INDEPENDENT=YES`, 1), "parts of segment 3 changed"},
		{"parts of the partial segment lost", ll(1, 3, 2, 3, false), ll(1, 3, 2, 2, false), "parts of segment 4 changed"},
		{"map changed", ll(1, 3, 2, 2, false), strings.Replace(ll(1, 3, 2, 3, false), `URI="init.mp4"`, `URI="init2.mp4"`, 1), "changed"},
		{"a new map at a discontinuity", ll(1, 3, 2, 4, false), newInit(ll(1, 4, 2, 1, false), 5), ""},
		{"a new map at a discontinuity, no part listed", ll(1, 3, 2, 0, false), newInit(ll(1, 4, 2, 0, false), 4), ""},
		{"the new map goes on", newInit(ll(1, 4, 2, 1, false), 5), newInit(ll(1, 5, 2, 2, false), 5), ""},
		{"the new map moves to the top", newInit(ll(1, 4, 2, 1, false), 5), strings.Replace(newInit(ll(5, 6, 5, 0, false), 5), `#EXT-X-MAP:URI="init.mp4"`+"\n", "", 1), ""},
		{"the map of a listed segment changed at a discontinuity", ll(1, 3, 2, 2, false), newInit(ll(1, 3, 2, 3, false), 3), "segment 3 changed"},
		{"the map of the partial segment changed", ll(1, 3, 2, 2, false), newInit(ll(1, 3, 2, 3, false), 4), "changed while its parts were listed"},
		{"the map of the partial segment changed once complete", ll(1, 3, 2, 2, false), newInit(ll(1, 4, 2, 0, false), 4), "changed while its parts were listed"},
		{"the map of the partial segment changed, its parts no longer listed", ll(1, 3, 2, 2, false), newInit(ll(1, 4, 5, 0, false), 4), "changed while its parts were listed"},
		{"discontinuity added to the partial segment", ll(1, 3, 2, 2, false),
			strings.Replace(ll(1, 3, 2, 3, false), "#EXT-X-PART:DURATION=0.200,URI=\"4.0.m4s\"", "#EXT-X-DISCONTINUITY\n#EXT-X-PART:DURATION=0.200,URI=\"4.0.m4s\"", 1), "changed while its parts were listed"},
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
