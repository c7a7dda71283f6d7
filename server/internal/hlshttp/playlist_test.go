package hlshttp

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp/hlscheck"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixMilli()

func frag(seq uint64, d float64, disc bool) *hub.Fragment {
	return &hub.Fragment{Seq: seq, Duration: d, Disc: disc, Time: t0 + int64(seq)*1000}
}

func TestAppendPlaylist(t *testing.T) {
	t.Parallel()
	w := hub.Window{
		Epoch:       "k3j4h5g6f7",
		Fragments:   []*hub.Fragment{frag(7, 1, false), frag(8, 1.001, true), frag(9, 0.5, false)},
		DiscsBefore: 2,
		MaxDuration: 1.001,
		Next:        10,
	}
	got := string(appendPlaylist(nil, newPlaylist(w), "tok.en"))
	want := `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:07.000Z
#EXTINF:1.000,
k3j4h5g6f7/tok.en/7.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:08.000Z
#EXTINF:1.001,
k3j4h5g6f7/tok.en/8.ts
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:09.000Z
#EXTINF:0.500,
k3j4h5g6f7/tok.en/9.ts
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	p, err := hlscheck.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if p.Segments[1].DiscSeq != 3 || !p.Segments[0].ProgramDateTime.Equal(time.UnixMilli(t0+7000)) {
		t.Errorf("parsed back: %+v", p.Segments)
	}
}

// TestPlaylistAfterGap: a media sequence number is a position, so only the
// fragments after the last gap in sequence numbers are listed; the
// discontinuities before them are counted.
func TestPlaylistAfterGap(t *testing.T) {
	t.Parallel()
	w := hub.Window{
		Epoch:       "e",
		Fragments:   []*hub.Fragment{frag(3, 1, false), frag(4, 1, true), frag(9, 1, true), frag(10, 1, false)},
		DiscsBefore: 1,
		MaxDuration: 1,
		Next:        11,
	}
	p := newPlaylist(w)
	if p.mediaSeq != 9 || len(p.frags) != 2 || p.discSeq != 2 {
		t.Fatalf("media sequence %d, %d fragments, discontinuity sequence %d; want 9, 2, 2", p.mediaSeq, len(p.frags), p.discSeq)
	}
	text := appendPlaylist(nil, p, "")
	if _, err := hlscheck.Parse(text); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !strings.Contains(string(text), "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:09.000Z\n#EXTINF:1.000,\ne/-/9.ts\n") {
		t.Errorf("the first listed fragment lost its discontinuity:\n%s", text)
	}
}

// TestPlaylistMaps: each fMP4 segment is listed under the EXT-X-MAP of the
// init segment it decodes with: the first at the top, the next ones after
// the discontinuity where a new init segment starts. A fragment published
// before the stream's first init segment is listed under the first one.
func TestPlaylistMaps(t *testing.T) {
	t.Parallel()
	init1, init2, init3 := &hub.Init{Data: []byte("1"), Gen: 1}, &hub.Init{Data: []byte("2"), Gen: 2}, &hub.Init{Data: []byte("3"), Gen: 3}
	with := func(f *hub.Fragment, init *hub.Init) *hub.Fragment { f.Init = init; return f }
	w := hub.Window{
		Epoch: "e",
		Fragments: []*hub.Fragment{
			with(frag(3, 1, true), nil), with(frag(4, 1, false), init1), with(frag(5, 1, true), init2),
			with(frag(6, 1, false), init2), with(frag(7, 1, true), init3),
		},
		MaxDuration: 1,
		Next:        8,
		Init:        init3,
	}
	got := string(appendPlaylist(nil, newPlaylist(w), ""))
	want := `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES
#EXT-X-MEDIA-SEQUENCE:3
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-MAP:URI="e/-/init-1.mp4"
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:03.000Z
#EXTINF:1.000,
e/-/3.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.000Z
#EXTINF:1.000,
e/-/4.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="e/-/init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:05.000Z
#EXTINF:1.000,
e/-/5.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:06.000Z
#EXTINF:1.000,
e/-/6.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="e/-/init-3.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:07.000Z
#EXTINF:1.000,
e/-/7.m4s
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	p, err := hlscheck.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"init-1", "init-1", "init-2", "init-2", "init-3"} {
		if s := p.Segments[i]; s.Map != "e/-/"+want+".mp4" {
			t.Errorf("segment %d: EXT-X-MAP %q, want %s", s.Seq, s.Map, want)
		}
	}
}

func TestPlaylistEnded(t *testing.T) {
	t.Parallel()
	p := newPlaylist(hub.Window{Epoch: "e", Fragments: []*hub.Fragment{frag(0, 2, false)}, MaxDuration: 2, Next: 1, Ended: true})
	text := string(appendPlaylist(nil, p, ""))
	if !strings.HasSuffix(text, "e/-/0.ts\n#EXT-X-ENDLIST\n") || !strings.Contains(text, "TARGETDURATION:2\n") {
		t.Errorf("ended playlist:\n%s", text)
	}
	// Ended before any fragment: a valid, empty, ended playlist.
	empty := appendPlaylist(nil, newPlaylist(hub.Window{Epoch: "e", Next: 0, Ended: true}), "")
	pl, err := hlscheck.Parse(empty)
	if err != nil || !pl.EndList || len(pl.Segments) != 0 {
		t.Errorf("empty ended playlist %+v, %v:\n%s", pl, err, empty)
	}
}

func TestTargetDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		longest float64
		want    int
	}{
		{0, 1}, {0.4, 1}, {1, 1}, {1.001, 1}, {1.499, 1}, {1.5, 2}, {2.49, 2}, {6, 6}, {6.006, 6},
		{math.NaN(), math.MaxInt32}, {math.Inf(1), math.MaxInt32},
	} {
		if got := targetDuration(tc.longest); got != tc.want {
			t.Errorf("targetDuration(%v) = %d, want %d", tc.longest, got, tc.want)
		}
	}
}

// TestPlaylistsFromARingAreValidOnEveryReload publishes into a real hub with
// every kind of event (discontinuities, a gap, evictions, longer fragments,
// the end) and checks each playlist and each reload against RFC 8216.
func TestPlaylistsFromARingAreValidOnEveryReload(t *testing.T) {
	t.Parallel()
	h := hub.New(hub.Config{RingLength: 4})
	pub, err := h.Publish("s", hub.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := pub.Stream()
	inputs := []hub.Input{
		{Duration: 1}, {Duration: 1}, {Duration: 1, Disc: true}, {Duration: 1},
		{Duration: 2.2}, {Duration: 1}, {Duration: 1, Seq: 9, HasSeq: true}, {Duration: 1},
		{Duration: 1, Disc: true}, {Duration: 1}, {Duration: 1}, {Duration: 1}, {Duration: 1},
	}
	var prev *hlscheck.Playlist
	check := func() {
		t.Helper()
		text := appendPlaylist(nil, newPlaylist(s.Window()), "")
		p, err := hlscheck.Parse(text)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if prev != nil {
			if err := hlscheck.CheckReload(prev, p); err != nil {
				t.Fatalf("reload: %v\n%s", err, text)
			}
		}
		prev = p
	}
	for i, in := range inputs {
		in.Data = []byte{byte(i)}
		if _, ok := pub.Append(in); !ok {
			t.Fatalf("append %d dropped", i)
		}
		check()
	}
	if prev.TargetDuration != 2 || prev.DiscontinuitySequence == 0 {
		t.Errorf("final playlist: target %d, discontinuity sequence %d", prev.TargetDuration, prev.DiscontinuitySequence)
	}
	pub.End()
	check()
	if !prev.EndList {
		t.Error("no EXT-X-ENDLIST after the end")
	}
}

func TestAppendDateTime(t *testing.T) {
	t.Parallel()
	for _, ms := range []int64{0, 1, 999, 1000, t0, t0 + 7, t0 + 86_399_999, 253402300799999, -1000} {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if got := string(appendDateTime(nil, ms)); got != want {
			t.Errorf("appendDateTime(%d) = %s, want %s", ms, got, want)
		}
	}
}
