package hlshttp

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp/hlscheck"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// partData is the payload of part index of fragment seq: distinct for every
// part, of a size that varies with the part.
func partData(seq uint64, index int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("<%d.%d>", seq, index)), 1+index)
}

// addPart appends part index of fragment seq, 0.2 s long; parts 0 and 3
// are independent.
func addPart(t *testing.T, pub *hub.Publication, seq uint64, index int) {
	t.Helper()
	in := hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(index), Duration: 0.2, Independent: index == 0 || index == 3, Data: partData(seq, index)}
	if added, err := pub.AppendPart(in); !added || err != nil {
		t.Fatalf("AppendPart(%d.%d) = %v, %v", seq, index, added, err)
	}
}

func closeFragment(t *testing.T, pub *hub.Publication, seq uint64, parts int) {
	t.Helper()
	if closed, err := pub.CloseFragment(hub.CloseInput{Seq: seq, HasSeq: true, Parts: uint64(parts), Duration: 0.2 * float64(parts)}); !closed || err != nil {
		t.Fatalf("CloseFragment(%d) = %v, %v", seq, closed, err)
	}
}

// publishParts sets the init segment, publishes fragments 0..n-1 of 5
// parts each (1 s) and leaves fragment n open with open parts.
func publishParts(t *testing.T, pub *hub.Publication, n, open int) {
	t.Helper()
	pub.SetInit([]byte("ftyp+moov"))
	for seq := range uint64(n) {
		for i := range 5 {
			addPart(t, pub, seq, i)
		}
		closeFragment(t, pub, seq, 5)
	}
	for i := range open {
		addPart(t, pub, uint64(n), i)
	}
}

// parse parses a playlist answer, failing the test on any violation.
func parse(t *testing.T, r response) *hlscheck.Playlist {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("playlist: %d %q", r.status, r.body)
	}
	p, err := hlscheck.Parse([]byte(r.body))
	if err != nil {
		t.Fatalf("%v\n%s", err, r.body)
	}
	return p
}

// partURIs returns the part URIs of segment seq in p (complete or partial).
func partURIs(p *hlscheck.Playlist, seq uint64) []string {
	var out []string
	segs := p.Segments
	if p.Partial != nil {
		segs = append(segs, *p.Partial)
	}
	for _, s := range segs {
		if s.Seq == seq {
			for _, part := range s.Parts {
				out = append(out, part.URI)
			}
		}
	}
	return out
}

// TestLLPlaylist: the exact LL-HLS playlist of a stream in parts.
func TestLLPlaylist(t *testing.T) {
	t.Parallel()
	h := hub.New(hub.Config{RingLength: 4})
	pub, err := h.Publish("s", hub.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub.SetInit([]byte("init"))
	at := func(seq uint64, index int) int64 { return t0 + int64(seq)*1000 + int64(index)*200 }
	for seq := range uint64(6) {
		for i := range 5 {
			in := hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(i), Duration: 0.2, Independent: i == 0, Time: at(seq, i), Data: []byte{1}}
			if seq == 5 && i == 0 {
				in.Disc = true
			}
			if _, err := pub.AppendPart(in); err != nil {
				t.Fatal(err)
			}
		}
		closeFragment(t, pub, seq, 5)
	}
	for i := range 2 {
		if _, err := pub.AppendPart(hub.PartInput{Seq: 6, HasSeq: true, Index: uint64(i), Duration: 0.2 - 0.0004*float64(i), Independent: i == 0, Time: at(6, i), Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	got := string(appendPlaylist(nil, newPlaylist(pub.Stream().Window()), "tok.en"))
	got = strings.ReplaceAll(got, pub.Epoch(), "E")
	want := `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600
#EXT-X-PART-INF:PART-TARGET=0.200
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-MAP:URI="E/tok.en/init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.000Z
#EXTINF:1.000,
E/tok.en/2.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:03.000Z
#EXTINF:1.000,
E/tok.en/3.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.000Z
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/4.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/4.1.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/4.2.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/4.3.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/4.4.m4s"
#EXTINF:1.000,
E/tok.en/4.m4s
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:05.000Z
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/5.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/5.1.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/5.2.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/5.3.m4s"
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/5.4.m4s"
#EXTINF:1.000,
E/tok.en/5.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:06.000Z
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/6.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.200,URI="E/tok.en/6.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="E/tok.en/6.2.m4s"
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	p, err := hlscheck.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if p.Partial == nil || p.Partial.Seq != 6 || len(p.Partial.Parts) != 2 || p.PartTarget != 0.2 || p.PartHoldBack != 0.6 {
		t.Errorf("parsed back: partial %+v, part target %v, part hold back %v", p.Partial, p.PartTarget, p.PartHoldBack)
	}
}

func TestPartTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		longest float64
		want    int64
	}{
		{0, 1}, {0.0001, 1}, {0.2, 200}, {0.3, 300}, {1.0 / 3, 334}, {0.2002, 201}, {0.2005, 201}, {1, 1000}, {2.5, 2500},
	} {
		if got := partTargetMs(tc.longest); got != tc.want {
			t.Errorf("partTargetMs(%v) = %d, want %d", tc.longest, got, tc.want)
		}
	}
}

// TestLLPlaylistsAreValidOnEveryReload publishes parts into a real hub
// (discontinuities, evictions, a longer fragment, a new init segment, a
// fragment closed by the next part 0, the end) and checks the playlist
// after every change against RFC 8216bis, and each reload against the
// previous one.
func TestLLPlaylistsAreValidOnEveryReload(t *testing.T) {
	t.Parallel()
	h := hub.New(hub.Config{RingLength: 4})
	pub, err := h.Publish("s", hub.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := pub.Stream()
	var prev *hlscheck.Playlist
	check := func(what string) {
		t.Helper()
		w := s.Window()
		if len(w.Fragments) == 0 && !w.Ended {
			return // not served: the first playlist waits for a segment
		}
		text := appendPlaylist(nil, newPlaylist(w), "")
		p, err := hlscheck.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, text)
		}
		if prev != nil {
			if err := hlscheck.CheckReload(prev, p); err != nil {
				t.Fatalf("%s: reload: %v\n%s", what, err, text)
			}
		}
		prev = p
	}
	pub.SetInit([]byte("init"))
	durations := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	for seq := range uint64(12) {
		parts := len(durations)
		if seq == 6 {
			parts = 9 // a longer fragment: the target duration grows
		}
		if seq == 7 {
			pub.SetInit([]byte("init 2")) // between fragments
			check("init 2")
		}
		for i := range parts {
			if seq == 10 && i == 2 {
				pub.SetInit([]byte("init 3")) // while a fragment is open
				check("init 3")
			}
			in := hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(i), Duration: 0.2, Independent: i == 0, Data: partData(seq, i)}
			if i == 0 && (seq == 3 || seq == 8) {
				in.Disc = true
			}
			if seq == 9 && i == 2 {
				in.Duration = 0.22 // a longer part: the part target grows
			}
			if _, err := pub.AppendPart(in); err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("part %d.%d", seq, i))
		}
		if seq == 4 {
			continue // closed by part 0 of the next fragment
		}
		closeFragment(t, pub, seq, parts)
		check(fmt.Sprintf("close %d", seq))
	}
	if prev.TargetDuration != 2 || prev.PartTarget != 0.22 || prev.DiscontinuitySequence == 0 {
		t.Errorf("final playlist: target %d, part target %v, discontinuity sequence %d", prev.TargetDuration, prev.PartTarget, prev.DiscontinuitySequence)
	}
	var maps []string
	for _, seg := range prev.Segments {
		maps = append(maps, fmt.Sprintf("%d:%s:%v", seg.Seq, strings.TrimPrefix(seg.Map, pub.Epoch()+"/-/"), seg.Discontinuity))
	}
	if want := []string{"8:init-2.mp4:true", "9:init-2.mp4:false", "10:init-2.mp4:false", "11:init-3.mp4:true"}; !slices.Equal(maps, want) {
		t.Errorf("final playlist's segments (seq:map:discontinuity): %q, want %q", maps, want)
	}
	addPart(t, pub, 12, 0)
	check("open")
	closeFragment(t, pub, 12, 1)
	check("close 12")
}

// TestLLEndReleasesBlockedRequests: a request waiting for the next part
// gets the final playlist when the stream ends: complete segments only,
// still under their EXT-X-MAP, no preload hint.
func TestLLEndReleasesBlockedRequests(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	publishParts(t, pub, 2, 2)
	prev := parse(t, f.get("/hls/s/index.m3u8"))
	ch := f.getAsync("/hls/s/index.m3u8?_HLS_msn=2&_HLS_part=2")
	f.waitBlocked(1)
	pub.End()
	p := parse(t, receive(t, ch))
	if !p.EndList || len(p.PreloadHints) != 0 || p.Partial != nil || p.LastSeq() != 2 || len(partURIs(p, 2)) != 2 {
		t.Fatalf("final playlist: %+v", p)
	}
	if err := hlscheck.CheckReload(prev, p); err != nil {
		t.Fatal(err)
	}
}

// TestLLSegmentsAreTheirParts: a complete fragment's segment is its parts'
// bytes in order; parts and the init segment are served by their URIs.
func TestLLSegmentsAreTheirParts(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	publishParts(t, pub, 2, 3)
	dir := "/hls/s/" + pub.Epoch() + "/-/"

	var whole []byte
	for i := range 5 {
		whole = append(whole, partData(1, i)...)
	}
	r := f.get(dir + "1.m4s")
	if r.status != http.StatusOK || r.body != string(whole) {
		t.Fatalf("segment: %d %q, want %q", r.status, r.body, whole)
	}
	for name, want := range map[string]string{
		"Content-Type":   "video/mp4",
		"Content-Length": fmt.Sprint(len(whole)),
		"Cache-Control":  "public, max-age=31536000, immutable",
		"ETag":           `"` + pub.Epoch() + `-1"`,
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("segment %s: %q, want %q", name, got, want)
		}
	}
	// A range across the boundary of parts 1 and 2, HEAD, revalidation.
	p0, p1 := len(partData(1, 0)), len(partData(1, 1))
	from, to := p0+p1-3, p0+p1+4
	if r := f.get(dir+"1.m4s", "Range", fmt.Sprintf("bytes=%d-%d", from, to)); r.status != http.StatusPartialContent || r.body != string(whole[from:to+1]) {
		t.Errorf("range: %d %q, want %q", r.status, r.body, whole[from:to+1])
	}
	if r := f.get(dir+"1.m4s", "Range", fmt.Sprintf("bytes=-%d", 5)); r.status != http.StatusPartialContent || r.body != string(whole[len(whole)-5:]) {
		t.Errorf("suffix range: %d %q", r.status, r.body)
	}
	if r := f.get(dir+"1.m4s", "Range", fmt.Sprintf("bytes=%d-", len(whole))); r.status != http.StatusRequestedRangeNotSatisfiable || strings.Contains(r.body, http.StatusText(http.StatusRequestedRangeNotSatisfiable)) {
		t.Errorf("range beyond the end: %d %q", r.status, r.body)
	}
	if r := f.do(http.MethodHead, dir+"1.m4s"); r.status != http.StatusOK || r.body != "" || r.header.Get("Content-Length") != fmt.Sprint(len(whole)) {
		t.Errorf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
	if r := f.get(dir+"1.m4s", "If-None-Match", `"`+pub.Epoch()+`-1"`); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.status)
	}

	// Parts, of complete and open fragments.
	for _, tc := range []struct {
		seq   uint64
		index int
	}{{0, 0}, {1, 4}, {2, 0}, {2, 2}} {
		r := f.get(dir + fmt.Sprintf("%d.%d.m4s", tc.seq, tc.index))
		if r.status != http.StatusOK || r.body != string(partData(tc.seq, tc.index)) || r.header.Get("Content-Type") != "video/mp4" ||
			r.header.Get("ETag") != fmt.Sprintf(`"%s-%d.%d"`, pub.Epoch(), tc.seq, tc.index) || !strings.HasSuffix(r.header.Get("Cache-Control"), "immutable") {
			t.Errorf("part %d.%d: %d %q %v", tc.seq, tc.index, r.status, r.body, r.header)
		}
	}
	// The init segment, by its generation.
	if r := f.get(dir + "init-1.mp4"); r.status != http.StatusOK || r.body != "ftyp+moov" || r.header.Get("Content-Type") != "video/mp4" {
		t.Errorf("init: %d %q %v", r.status, r.body, r.header)
	}
	for _, path := range []string{
		dir + "2.m4s",               // not complete yet
		dir + "1.ts",                // an fMP4 fragment has no .ts URI
		dir + "1.5.m4s",             // a complete fragment of 5 parts
		dir + "init-2.mp4",          // no such generation yet
		"/hls/s/0123456789/-/1.m4s", // another epoch
		"/hls/s/0123456789/-/1.1.m4s",
		"/hls/s/0123456789/-/init-1.mp4",
	} {
		if r := f.get(path); r.status != http.StatusNotFound || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q", path, r.status, r.body)
		}
	}
	// A new init segment is served at once under its generation; the old
	// one stays, and stays the EXT-X-MAP of the fragments that decode with
	// it (see TestLLInitChange).
	pub.SetInit([]byte("ftyp+moov 2"))
	if r := f.get(dir + "init-2.mp4"); r.status != http.StatusOK || r.body != "ftyp+moov 2" || r.header.Get("ETag") != `"`+pub.Epoch()+`-init-2"` {
		t.Errorf("init 2: %d %q %v", r.status, r.body, r.header)
	}
	if r := f.get(dir + "init-1.mp4"); r.status != http.StatusOK || r.body != "ftyp+moov" {
		t.Errorf("init 1 after the new one: %d %q", r.status, r.body)
	}
	if r := f.get(dir + "init-3.mp4"); r.status != http.StatusNotFound {
		t.Errorf("init 3: %d", r.status)
	}
	if p := parse(t, f.get("/hls/s/index.m3u8")); p.Segments[0].Map != pub.Epoch()+"/-/init-1.mp4" || p.Partial.Map != pub.Epoch()+"/-/init-1.mp4" {
		t.Errorf("EXT-X-MAP %q, %q after the new init segment", p.Segments[0].Map, p.Partial.Map)
	}
}

// TestLLInitChange: an init segment that changes mid-stream. Every fragment
// is listed under the EXT-X-MAP of the init segment it decodes with: one at
// the top, and a new one after the discontinuity where the new init segment
// starts. Each playlist validates, and each reload against the previous
// one; both generations are served while a buffered fragment decodes with
// them, and the old one answers 404 once none does.
func TestLLInitChange(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil) // a ring of 5 fragments
	pub := f.publish("s")
	publishParts(t, pub, 2, 2) // 0, 1 complete; 2.0, 2.1 open, all under init 1
	dir := pub.Epoch() + "/-/"
	var prev *hlscheck.Playlist
	check := func(what string) (*hlscheck.Playlist, string) {
		t.Helper()
		r := f.get("/hls/s/index.m3u8")
		p := parse(t, r)
		if prev != nil {
			if err := hlscheck.CheckReload(prev, p); err != nil {
				t.Fatalf("%s: reload: %v\n%s", what, err, r.body)
			}
		}
		prev = p
		return p, r.body
	}
	served := func(gen, want int) {
		t.Helper()
		r := f.get(fmt.Sprintf("/hls/s/%sinit-%d.mp4", dir, gen))
		if r.status != want {
			t.Errorf("init-%d.mp4: %d, want %d", gen, r.status, want)
		}
		if body := map[int]string{1: "ftyp+moov", 2: "init two"}[gen]; want == http.StatusOK && r.body != body {
			t.Errorf("init-%d.mp4: %q, want %q", gen, r.body, body)
		}
	}
	// The EXT-X-MAP and EXT-X-DISCONTINUITY lines, in order.
	maps := func(body string) []string {
		var out []string
		for line := range strings.Lines(body) {
			if strings.HasPrefix(line, "#EXT-X-MAP:") || line == "#EXT-X-DISCONTINUITY\n" {
				out = append(out, strings.TrimSpace(line))
			}
		}
		return out
	}
	map1, map2 := `#EXT-X-MAP:URI="`+dir+`init-1.mp4"`, `#EXT-X-MAP:URI="`+dir+`init-2.mp4"`
	check("before")

	pub.SetInit([]byte("init two"))
	pub.SetInit([]byte("init two")) // the same bytes again: nothing changes
	check("new init segment")
	served(1, http.StatusOK)
	served(2, http.StatusOK)
	addPart(t, pub, 2, 2) // the open fragment keeps init 1
	closeFragment(t, pub, 2, 3)
	addPart(t, pub, 3, 0) // the first fragment of init 2
	addPart(t, pub, 3, 1)
	p, body := check("first parts under init 2")
	if got, want := maps(body), []string{map1, "#EXT-X-DISCONTINUITY", map2}; !slices.Equal(got, want) {
		t.Errorf("EXT-X-MAP and EXT-X-DISCONTINUITY: %q, want %q\n%s", got, want, body)
	}
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n"+map1+"\n#EXT-X-PROGRAM-DATE-TIME:") {
		t.Errorf("the first EXT-X-MAP is not at the top:\n%s", body)
	}
	for _, s := range p.Segments {
		if s.Map != dir+"init-1.mp4" || s.Discontinuity {
			t.Errorf("segment %d: %+v", s.Seq, s)
		}
	}
	if p.Partial == nil || p.Partial.Seq != 3 || !p.Partial.Discontinuity || p.Partial.Map != dir+"init-2.mp4" {
		t.Fatalf("partial segment %+v", p.Partial)
	}
	served(1, http.StatusOK)
	served(2, http.StatusOK)

	// The fragments of init 1 leave the playlist one by one; then the
	// EXT-X-MAP of init 2 is the one at the top.
	for seq := uint64(3); seq < 8; seq++ {
		for i := range 5 {
			if seq != 3 || i > 1 {
				addPart(t, pub, seq, i)
			}
		}
		closeFragment(t, pub, seq, 5)
		p, body = check(fmt.Sprintf("close %d", seq))
		want := []string{map1, "#EXT-X-DISCONTINUITY", map2}
		if p.MediaSequence >= 3 {
			want = []string{map2, "#EXT-X-DISCONTINUITY"}
		}
		if got := maps(body); !slices.Equal(got, want) {
			t.Errorf("close %d: %q, want %q\n%s", seq, got, want, body)
		}
	}
	if p.MediaSequence != 3 || p.Segments[0].Map != dir+"init-2.mp4" || !p.Segments[0].Discontinuity || p.DiscontinuitySequence != 0 {
		t.Fatalf("after the fragments of init 1 left:\n%s", body)
	}
	addPart(t, pub, 8, 0)
	closeFragment(t, pub, 8, 1)
	if p, _ = check("close 8"); p.MediaSequence != 4 || p.DiscontinuitySequence != 1 {
		t.Errorf("media sequence %d, discontinuity sequence %d", p.MediaSequence, p.DiscontinuitySequence)
	}
	served(1, http.StatusNotFound) // no buffered fragment decodes with it
	served(2, http.StatusOK)

	// The final playlist keeps its EXT-X-MAP.
	ch := f.getAsync("/hls/s/index.m3u8?_HLS_msn=9")
	f.waitBlocked(1)
	pub.End()
	final := parse(t, receive(t, ch))
	if !final.EndList || final.Segments[0].Map != dir+"init-2.mp4" {
		t.Fatalf("final playlist: %+v", final)
	}
	if err := hlscheck.CheckReload(prev, final); err != nil {
		t.Fatal(err)
	}
}

// TestLLPlaylistServed: a playlist answered over HTTP validates, and its
// URIs (with the token in their path) serve what they name.
func TestLLPlaylistServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.publish(stream)
	publishParts(t, pub, 3, 2)
	tok := pullToken(t, stream)
	r := f.get("/hls/" + stream + "/index.m3u8?token=" + tok)
	p := parse(t, r)
	if p.Version != 6 || p.PartTarget != 0.2 || p.PartHoldBack != 0.6 || !p.CanBlockReload || len(p.Segments) != 3 || p.Partial == nil || len(p.Partial.Parts) != 2 {
		t.Fatalf("playlist:\n%s", r.body)
	}
	base := "/hls/" + stream + "/"
	prefix := pub.Epoch() + "/" + tok + "/"
	if want := prefix + "3.2.m4s"; len(p.PreloadHints) != 1 || p.PreloadHints[0] != (hlscheck.PreloadHint{Type: "PART", URI: want}) {
		t.Errorf("preload hints %+v, want one for %s", p.PreloadHints, want)
	}
	if m := f.get(base + p.Segments[0].Map); m.status != http.StatusOK || m.body != "ftyp+moov" {
		t.Errorf("EXT-X-MAP %s: %d", p.Segments[0].Map, m.status)
	}
	for _, s := range append(p.Segments, *p.Partial) {
		var whole string
		for i, part := range s.Parts {
			if want := fmt.Sprintf("%s%d.%d.m4s", prefix, s.Seq, i); part.URI != want || part.Independent != (i == 0 || i == 3) {
				t.Errorf("part %+v, want URI %s", part, want)
			}
			r := f.get(base + part.URI)
			if r.status != http.StatusOK || r.body != string(partData(s.Seq, i)) {
				t.Errorf("%s: %d %q", part.URI, r.status, r.body)
			}
			whole += r.body
		}
		if s.URI == "" {
			continue // the open fragment
		}
		if len(s.Parts) == 0 { // too old to list its parts
			for i := range 5 {
				whole += string(partData(s.Seq, i))
			}
		}
		if r := f.get(base + s.URI); r.status != http.StatusOK || r.body != whole {
			t.Errorf("segment %s: %d, not its parts' bytes", s.URI, r.status)
		}
	}
}

// TestLLBlockingReloadByPart: _HLS_msn=M&_HLS_part=P is answered when part
// P of segment M exists, or M is complete.
func TestLLBlockingReloadByPart(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	publishParts(t, pub, 2, 2) // 0, 1 complete; 2.0, 2.1 open
	pl := "/hls/s/index.m3u8"

	// Existing parts, and a part of a complete segment, at once.
	for _, q := range []string{"?_HLS_msn=2&_HLS_part=1", "?_HLS_msn=1&_HLS_part=9", "?_HLS_msn=0&_HLS_part=0"} {
		if p := parse(t, f.get(pl+q)); p.Partial == nil || len(p.Partial.Parts) != 2 {
			t.Errorf("%s: %+v", q, p.Partial)
		}
	}
	// The next part: waits until it arrives.
	ch := f.getAsync(pl + "?_HLS_msn=2&_HLS_part=2")
	f.waitBlocked(1)
	select {
	case r := <-ch:
		t.Fatalf("answered before the part existed: %d\n%s", r.status, r.body)
	default:
	}
	addPart(t, pub, 2, 2)
	r := receive(t, ch)
	p := parse(t, r)
	if len(partURIs(p, 2)) != 3 || !strings.HasPrefix(r.header.Get("Cache-Control"), "public, max-age=1") {
		t.Fatalf("after part 2.2: %v\n%s", r.header, r.body)
	}
	// A part that the fragment will not have: when the fragment is
	// complete, the request is one for part 0 of the next (RFC 8216bis
	// 6.2.5.2).
	ch = f.getAsync(pl + "?_HLS_msn=2&_HLS_part=4")
	f.waitBlocked(1)
	closeFragment(t, pub, 2, 3)
	select {
	case r := <-ch:
		t.Fatalf("answered when segment 2 closed, before part 3.0 existed:\n%s", r.body)
	case <-time.After(20 * time.Millisecond):
	}
	addPart(t, pub, 3, 0)
	if p := parse(t, receive(t, ch)); p.LastSeq() != 2 || p.Partial == nil || p.Partial.Seq != 3 || len(p.Partial.Parts) != 1 {
		t.Fatalf("after part 3.0: last %d, partial %+v", p.LastSeq(), p.Partial)
	}
	// A part past the last of a complete segment that is already there.
	if p := parse(t, f.get(pl+"?_HLS_msn=2&_HLS_part=3")); p.Partial == nil || p.Partial.Seq != 3 {
		t.Fatalf("part 2.3 (is 3.0): partial %+v", p.Partial)
	}
	// The first part of the next segment, before it opens.
	ch = f.getAsync(pl + "?_HLS_msn=3&_HLS_part=1")
	f.waitBlocked(1)
	addPart(t, pub, 3, 1)
	if p := parse(t, receive(t, ch)); p.Partial == nil || p.Partial.Seq != 3 || len(p.Partial.Parts) != 2 {
		t.Fatalf("part 3.1: %+v", p.Partial)
	}
	// _HLS_msn alone waits for the complete segment, not its parts.
	ch = f.getAsync(pl + "?_HLS_msn=3")
	f.waitBlocked(1)
	addPart(t, pub, 3, 2)
	select {
	case r := <-ch:
		t.Fatalf("_HLS_msn=3 answered before segment 3 was complete:\n%s", r.body)
	case <-time.After(20 * time.Millisecond):
	}
	closeFragment(t, pub, 3, 3)
	if p := parse(t, receive(t, ch)); p.LastSeq() != 3 {
		t.Fatalf("_HLS_msn=3: last %d", p.LastSeq())
	}
	f.waitBlocked(0)
}

// TestLLBlockingReloadLimits: a request too far beyond the live edge is
// refused at once (RFC 8216bis 6.2.5.2): more than two segments, or more
// than the advance part limit (three seconds of parts) past the last part.
func TestLLBlockingReloadLimits(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlockWait = 20 * time.Millisecond })
	pub := f.publish("s")
	publishParts(t, pub, 2, 2) // last part: 2.1; part target 0.2 s: limit 15 parts
	pl := "/hls/s/index.m3u8"
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"?_HLS_msn=2&_HLS_part=16", http.StatusServiceUnavailable}, // 15 past 2.1: waits, times out
		{"?_HLS_msn=2&_HLS_part=17", http.StatusBadRequest},
		{"?_HLS_msn=3&_HLS_part=14", http.StatusServiceUnavailable},
		{"?_HLS_msn=3&_HLS_part=15", http.StatusBadRequest},
		{"?_HLS_msn=3&_HLS_part=9007199254740991", http.StatusBadRequest},
		{"?_HLS_msn=4&_HLS_part=0", http.StatusBadRequest}, // more than two segments past 1
		{"?_HLS_msn=3", http.StatusServiceUnavailable},
		{"?_HLS_part=0", http.StatusBadRequest},
		{"?_HLS_msn=2&_HLS_part=01", http.StatusBadRequest},
		{"?_HLS_msn=1&_HLS_part=5", http.StatusOK}, // part 0 of segment 2
		{"?_HLS_msn=1&_HLS_part=9007199254740991", http.StatusOK},
	} {
		r := f.get(pl + tc.query)
		if r.status != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.query, r.status, r.body, tc.status)
		}
		if tc.status == http.StatusServiceUnavailable && !strings.Contains(r.body, "did not arrive") {
			t.Errorf("%s: %q", tc.query, r.body)
		}
	}
	f.waitBlocked(0)
}

// TestLLPreloadHintBlocks: a request for the hinted part waits for it and
// gets its bytes the moment it arrives.
func TestLLPreloadHintBlocks(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	publishParts(t, pub, 1, 2)
	dir := "/hls/s/" + pub.Epoch() + "/-/"
	p := parse(t, f.get("/hls/s/index.m3u8"))
	if len(p.PreloadHints) != 1 || p.PreloadHints[0].URI != pub.Epoch()+"/-/1.2.m4s" {
		t.Fatalf("preload hints %+v", p.PreloadHints)
	}
	ch := f.getAsync("/hls/s/" + p.PreloadHints[0].URI)
	f.waitBlocked(1)
	select {
	case r := <-ch:
		t.Fatalf("answered before the part existed: %d %q", r.status, r.body)
	default:
	}
	addPart(t, pub, 1, 2)
	if r := receive(t, ch); r.status != http.StatusOK || r.body != string(partData(1, 2)) || r.header.Get("Content-Length") != fmt.Sprint(len(partData(1, 2))) {
		t.Fatalf("hinted part: %d %q %v", r.status, r.body, r.header)
	}

	// Two parts ahead waits too; the fragment then closes without it: 404.
	ch = f.getAsync(dir + "1.4.m4s")
	f.waitBlocked(1)
	closeFragment(t, pub, 1, 3)
	if r := receive(t, ch); r.status != http.StatusNotFound {
		t.Fatalf("a part the fragment did not get: %d %q", r.status, r.body)
	}
	// After the close the hint names part 0 of the next fragment.
	p = parse(t, f.get("/hls/s/index.m3u8"))
	if len(p.PreloadHints) != 1 || p.PreloadHints[0].URI != pub.Epoch()+"/-/2.0.m4s" {
		t.Fatalf("preload hints after the close: %+v", p.PreloadHints)
	}
	ch = f.getAsync("/hls/s/" + p.PreloadHints[0].URI)
	f.waitBlocked(1)
	addPart(t, pub, 2, 0)
	if r := receive(t, ch); r.status != http.StatusOK || r.body != string(partData(2, 0)) {
		t.Fatalf("hinted part 0: %d %q", r.status, r.body)
	}
	// Far beyond the live edge, or behind it: 404 at once, nothing waits.
	for _, path := range []string{dir + "2.16.m4s", dir + "4.0.m4s", dir + "3.15.m4s", dir + "9.0.m4s"} {
		if r := f.get(path); r.status != http.StatusNotFound {
			t.Errorf("%s: %d %q", path, r.status, r.body)
		}
	}
	// The end releases a waiting part request.
	ch = f.getAsync(dir + "2.1.m4s")
	f.waitBlocked(1)
	pub.End()
	if r := receive(t, ch); r.status != http.StatusNotFound {
		t.Errorf("hinted part at the end: %d %q", r.status, r.body)
	}
	f.waitBlocked(0)
}

func TestLLPreloadHintTimesOut(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlockWait = 30 * time.Millisecond })
	pub := f.publish("s")
	publishParts(t, pub, 1, 1)
	r := f.get("/hls/s/" + pub.Epoch() + "/-/1.1.m4s")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "part 1 of segment 1 did not arrive") {
		t.Errorf("%d %v %q", r.status, r.header, r.body)
	}
	f.waitBlocked(0)
}

func TestLLPartRequestsAreBounded(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlocked = 1 })
	pub := f.publish("s")
	publishParts(t, pub, 1, 1)
	dir := "/hls/s/" + pub.Epoch() + "/-/"
	first := f.getAsync(dir + "1.1.m4s")
	f.waitBlocked(1)
	if r := f.get(dir + "1.2.m4s"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "too many") {
		t.Errorf("second waiting part request: %d %q", r.status, r.body)
	}
	if r := f.get(dir + "1.0.m4s"); r.status != http.StatusOK {
		t.Errorf("an existing part: %d", r.status)
	}
	f.h.Close()
	if r := receive(t, first); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "shutting down") {
		t.Errorf("waiting part at close: %d %q", r.status, r.body)
	}
}

// TestLLPartsNotComing: a part that will not arrive is answered 404 at
// once, without waiting (here every waiting slot is taken, so a request
// that waited would be answered 503): one of an evicted fragment, one
// too far ahead, one of a stream without parts.
func TestLLPartsNotComing(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlocked = 1 })
	pub := f.publish("s")
	publishParts(t, pub, 7, 1) // a ring of 5: fragments 2..6, 7 open
	ts := f.publish("ts")
	f.appendN(ts, 1)
	f.h.blocked <- struct{}{}
	defer func() { <-f.h.blocked }()
	dir := "/hls/s/" + pub.Epoch() + "/-/"
	for _, path := range []string{
		dir + "0.0.m4s", dir + "1.4.m4s", // evicted
		dir + "6.5.m4s",                   // of a complete fragment
		dir + "8.15.m4s", dir + "9.0.m4s", // too far ahead
		"/hls/ts/" + ts.Epoch() + "/-/1.0.m4s", // the next fragment of a stream without parts
	} {
		if r := f.get(path); r.status != http.StatusNotFound {
			t.Errorf("%s: %d %q", path, r.status, r.body)
		}
	}
	if r := f.get(dir + "7.1.m4s"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "too many") {
		t.Errorf("the hinted part: %d %q", r.status, r.body)
	}
}

// TestLLReloadLikeAPlayer follows the stream as an LL-HLS player does: a
// blocking reload for the part after the last one it has, checked against
// RFC 8216bis and against the previous reload, while a publisher adds parts
// concurrently.
func TestLLReloadLikeAPlayer(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	publishParts(t, pub, 1, 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint64(1); seq < 6; seq++ {
			for i := range 5 {
				time.Sleep(2 * time.Millisecond)
				if _, err := pub.AppendPart(hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(i), Duration: 0.2, Independent: i == 0, Data: partData(seq, i)}); err != nil {
					t.Error(err)
					return
				}
			}
			if _, err := pub.CloseFragment(hub.CloseInput{Seq: seq, HasSeq: true, Parts: 5, Duration: 1}); err != nil {
				t.Error(err)
				return
			}
		}
		// A player that has all five parts of segment 5 asks for part 5
		// of it, which is part 0 of segment 6.
		time.Sleep(2 * time.Millisecond)
		if _, err := pub.AppendPart(hub.PartInput{Seq: 6, HasSeq: true, Duration: 0.2, Independent: true, Data: partData(6, 0)}); err != nil {
			t.Error(err)
		}
	}()
	var prev *hlscheck.Playlist
	msn, part := uint64(0), uint64(0)
	for prev == nil || prev.LastSeq() < 5 {
		p := parse(t, f.get(fmt.Sprintf("/hls/s/index.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part)))
		if prev != nil {
			if err := hlscheck.CheckReload(prev, p); err != nil {
				t.Fatal(err)
			}
		}
		// The answer holds the part asked for, or its segment is complete.
		if uris := partURIs(p, msn); uint64(len(uris)) <= part && p.LastSeq() < int64(msn) {
			t.Fatalf("asked for part %d of %d, got %d parts of it, last segment %d", part, msn, len(uris), p.LastSeq())
		}
		prev = p
		// The next part to ask for: after the last part listed.
		if p.Partial != nil {
			msn, part = p.Partial.Seq, uint64(len(p.Partial.Parts))
		} else {
			msn, part = uint64(p.LastSeq()+1), 0
		}
	}
	<-done
}

// TestSegmentExtensions: one URL per fragment, by the stream's format.
func TestSegmentExtensions(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	ts := f.publish("ts")
	f.appendN(ts, 1)
	fmp4 := f.publish("fmp4")
	fmp4.SetInit([]byte("init"))
	f.appendN(fmp4, 1) // an fMP4 fragment sent whole
	for path, want := range map[string]int{
		"/hls/ts/" + ts.Epoch() + "/-/0.ts":        http.StatusOK,
		"/hls/ts/" + ts.Epoch() + "/-/0.m4s":       http.StatusNotFound,
		"/hls/ts/" + ts.Epoch() + "/-/0.0.m4s":     http.StatusNotFound,
		"/hls/ts/" + ts.Epoch() + "/-/init-1.mp4":  http.StatusNotFound,
		"/hls/fmp4/" + fmp4.Epoch() + "/-/0.m4s":   http.StatusOK,
		"/hls/fmp4/" + fmp4.Epoch() + "/-/0.ts":    http.StatusNotFound,
		"/hls/fmp4/" + fmp4.Epoch() + "/-/0.0.m4s": http.StatusNotFound,
	} {
		if r := f.get(path); r.status != want {
			t.Errorf("%s: %d %q, want %d", path, r.status, r.body, want)
		}
	}
	// The fMP4 stream without parts: EXT-X-MAP and .m4s, no LL-HLS tags.
	r := f.get("/hls/fmp4/index.m3u8")
	p := parse(t, r)
	if p.Version != 6 || p.PartTarget != 0 || len(p.PreloadHints) != 0 || p.Segments[0].URI != fmp4.Epoch()+"/-/0.m4s" || p.Segments[0].Map != fmp4.Epoch()+"/-/init-1.mp4" {
		t.Errorf("fMP4 playlist without parts:\n%s", r.body)
	}
	// Its blocking requests ignore _HLS_part, as for MPEG-TS.
	if r := f.get("/hls/fmp4/index.m3u8?_HLS_msn=0&_HLS_part=7"); r.status != http.StatusOK {
		t.Errorf("_HLS_part without parts: %d", r.status)
	}
}
