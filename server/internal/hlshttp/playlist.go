package hlshttp

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// The EXT-X-VERSION written: 3 is the lowest that allows decimal EXTINF
// durations, and nothing else an MPEG-TS playlist holds needs more. An fMP4
// playlist has EXT-X-MAP without EXT-X-I-FRAMES-ONLY, which needs 6 (RFC
// 8216, section 7); the low-latency tags of RFC 8216bis need no more.
const (
	playlistVersion     = 3
	fmp4PlaylistVersion = 6
)

// partsWindow is how far from the end of the playlist, in target durations,
// the parts of complete segments are listed: RFC 8216bis lets a server
// remove EXT-X-PART tags older than three target durations, and a player
// joins no more than PART-HOLD-BACK (three part targets) behind the end.
const partsWindow = 3

// playlist is what a live media playlist shows of a stream's window.
type playlist struct {
	epoch string
	// frags are the listed fragments: the newest run of consecutive
	// sequence numbers in the window (a media sequence number is the
	// position in the stream, so a gap cannot be listed).
	frags []*hub.Fragment
	// mediaSeq is the sequence number of frags[0] (of the next fragment
	// when frags is empty).
	mediaSeq uint64
	// discSeq counts the discontinuities before frags[0].
	discSeq uint64
	target  int
	ended   bool

	// fmp4: the stream is fMP4 (it has an init segment, or came in parts):
	// segments are ".m4s", each under the EXT-X-MAP of the init segment it
	// decodes with (Fragment.Init).
	fmp4 bool
	// init stands in for the init segment of a listed fragment that has
	// none (one published before the stream's first init segment): the
	// oldest listed fragment's, else the stream's; nil for MPEG-TS.
	init *hub.Init
	// partTargetMs is the part target in milliseconds; 0 when the stream
	// has no parts (no LL-HLS tags are written then).
	partTargetMs int64
	// partsFrom is the index in frags of the first fragment whose parts
	// are listed.
	partsFrom int
	// open is the fragment whose parts are arriving, listed after frags
	// (nil when none, or when it does not follow them); openParts are its
	// parts.
	open      *hub.Fragment
	openParts []*hub.Part
	// hintSeq and hintPart name the part of the EXT-X-PRELOAD-HINT; hint
	// is false when none is written (no parts, or the stream ended).
	hint              bool
	hintSeq, hintPart uint64
}

func newPlaylist(w hub.Window) playlist {
	start := 0
	for i := len(w.Fragments) - 1; i > 0; i-- {
		if w.Fragments[i].Seq != w.Fragments[i-1].Seq+1 {
			start = i
			break
		}
	}
	p := playlist{
		epoch:    w.Epoch,
		frags:    w.Fragments[start:],
		mediaSeq: w.Next,
		discSeq:  w.DiscsBefore,
		target:   targetDuration(w.MaxDuration),
		ended:    w.Ended,
		fmp4:     isFMP4(w),
	}
	for _, f := range w.Fragments[:start] {
		if f.Disc {
			p.discSeq++
		}
	}
	if p.fmp4 {
		p.init = firstInit(p.frags, w.Open, w.Init)
	}
	if len(p.frags) > 0 {
		p.mediaSeq = p.frags[0].Seq
	}
	if p.fmp4 && w.MaxPartDuration > 0 {
		p.addParts(w)
	}
	return p
}

// isFMP4 reports whether w's stream is served as fMP4: it has an init
// segment, or fragments came in parts.
func isFMP4(w hub.Window) bool {
	return w.Init != nil || w.Open != nil || w.MaxPartDuration > 0 || slices.ContainsFunc(w.Fragments, (*hub.Fragment).InParts)
}

// firstInit returns the init segment of the first of frags (then open) that
// has one, else current.
func firstInit(frags []*hub.Fragment, open *hub.Fragment, current *hub.Init) *hub.Init {
	for _, f := range frags {
		if f.Init != nil {
			return f.Init
		}
	}
	if open != nil && open.Init != nil {
		return open.Init
	}
	return current
}

// initOf returns the init segment that f decodes with: its own, or p.init
// for an fMP4 fragment published before the stream had one.
func (p *playlist) initOf(f *hub.Fragment) *hub.Init {
	if f.Init != nil {
		return f.Init
	}
	return p.init
}

// addParts fills in the LL-HLS part of p.
func (p *playlist) addParts(w hub.Window) {
	p.partTargetMs = partTargetMs(w.MaxPartDuration)
	next := p.mediaSeq + uint64(len(p.frags)) // the sequence number that follows frags
	if w.Open != nil && w.Open.Seq == next {
		p.open, p.openParts = w.Open, w.OpenParts
	}
	// The parts of the fragments that start within partsWindow target
	// durations of the end.
	end := 0.0
	for _, part := range p.openParts {
		end += part.Duration
	}
	p.partsFrom = len(p.frags)
	for i := len(p.frags) - 1; i >= 0; i-- {
		end += p.frags[i].Duration
		if end > float64(partsWindow*p.target) {
			break
		}
		p.partsFrom = i
	}
	if p.ended {
		return
	}
	p.hint = true
	p.hintSeq, p.hintPart = edge(w)
}

// partTargetMs is EXT-X-PART-INF's PART-TARGET for parts of at most longest
// seconds, in milliseconds: rounded up, so that every part's duration as
// written (rounded to the millisecond) is at most the target, as RFC
// 8216bis requires. It is at least 1 ms.
func partTargetMs(longest float64) int64 {
	if !(longest < math.MaxInt32) { // also NaN
		return math.MaxInt32 * 1000
	}
	return max(1, int64(math.Ceil(longest*1000-1e-6)))
}

// targetDuration is EXT-X-TARGETDURATION for fragments of at most longest
// seconds: RFC 8216 requires every EXTINF, rounded to the nearest integer,
// to be at most the target. Rounding rather than ceiling keeps 1.001 s
// fragments (29.97 fps) at a target of 1 instead of 2, and players start
// about three target durations behind the live edge. The longest duration
// of the epoch is used, so the target never decreases within a stream
// instance; it is at least 1.
func targetDuration(longest float64) int {
	if !(longest < math.MaxInt32) { // also NaN
		return math.MaxInt32
	}
	return max(1, int(math.Floor(longest+0.5)))
}

// appendPlaylist writes the media playlist. token, when not empty, is put
// into every URI.
func appendPlaylist(b []byte, p playlist, token string) []byte {
	version := playlistVersion
	if p.fmp4 {
		version = fmp4PlaylistVersion
	}
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(p.target), 10)
	b = append(b, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES"...)
	if p.partTargetMs > 0 {
		b = append(b, ",PART-HOLD-BACK="...)
		b = appendMillis(b, 3*p.partTargetMs)
		b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
		b = appendMillis(b, p.partTargetMs)
	}
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, p.mediaSeq, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendUint(b, p.discSeq, 10)
	b = append(b, '\n')
	dir := appendSegmentDir(nil, p.epoch, token)
	var mapped *hub.Init // the init segment of the EXT-X-MAP in effect
	for i, f := range p.frags {
		b, mapped = appendSegmentHead(b, dir, f, p.initOf(f), mapped)
		if i >= p.partsFrom {
			b = appendParts(b, dir, f.Seq, f.Parts())
		}
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendFloat(b, f.Duration, 'f', 3, 64)
		b = append(b, ",\n"...)
		b = append(b, dir...)
		if p.fmp4 {
			b = appendFMP4SegmentName(b, f.Seq)
		} else {
			b = appendSegmentName(b, f.Seq)
		}
		b = append(b, '\n')
	}
	if p.open != nil {
		b, _ = appendSegmentHead(b, dir, p.open, p.initOf(p.open), mapped)
		b = appendParts(b, dir, p.open.Seq, p.openParts)
	}
	if p.hint {
		b = append(b, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`...)
		b = append(b, dir...)
		b = appendPartName(b, p.hintSeq, p.hintPart)
		b = append(b, "\"\n"...)
	}
	if p.ended {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b
}

// appendSegmentHead appends the tags that precede segment f (and its
// parts): its discontinuity, the EXT-X-MAP of init if it is not mapped
// (the one in effect), and its date. The first EXT-X-MAP of the playlist
// comes before everything else; the next ones follow the discontinuity
// that the hub marks where a new init segment starts. It returns the
// init segment in effect after f.
func appendSegmentHead(b, dir []byte, f *hub.Fragment, init, mapped *hub.Init) ([]byte, *hub.Init) {
	newMap := init != nil && (mapped == nil || init.Gen != mapped.Gen)
	if newMap && mapped == nil {
		b = appendMap(b, dir, init.Gen)
	}
	if f.Disc {
		b = append(b, "#EXT-X-DISCONTINUITY\n"...)
	}
	if newMap && mapped != nil {
		b = appendMap(b, dir, init.Gen)
	}
	if newMap {
		mapped = init
	}
	b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
	b = appendDateTime(b, f.Time)
	return append(b, '\n'), mapped
}

// appendMap appends the EXT-X-MAP of init segment generation gen.
func appendMap(b, dir []byte, gen uint64) []byte {
	b = append(b, `#EXT-X-MAP:URI="`...)
	b = append(b, dir...)
	b = appendInitName(b, gen)
	return append(b, "\"\n"...)
}

// appendParts appends the EXT-X-PART tags of parts of fragment seq.
func appendParts(b, dir []byte, seq uint64, parts []*hub.Part) []byte {
	for _, part := range parts {
		b = append(b, "#EXT-X-PART:DURATION="...)
		b = strconv.AppendFloat(b, part.Duration, 'f', 3, 64)
		b = append(b, `,URI="`...)
		b = append(b, dir...)
		b = appendPartName(b, seq, uint64(part.Index))
		b = append(b, '"')
		if part.Independent {
			b = append(b, ",INDEPENDENT=YES"...)
		}
		b = append(b, '\n')
	}
	return b
}

// appendMillis appends ms milliseconds as seconds with three decimals.
func appendMillis(b []byte, ms int64) []byte {
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	return appendDigits(b, int(ms%1000), 3)
}

// appendDateTime appends Unix milliseconds ms as EXT-X-PROGRAM-DATE-TIME's
// ISO 8601 form in UTC with milliseconds, 2026-11-24T10:00:07.000Z (the
// layout 2006-01-02T15:04:05.000Z07:00, written directly: it runs for every
// segment of every playlist answered).
func appendDateTime(b []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits appends n (not negative) with at least width digits.
func appendDigits(b []byte, n, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for n > 0 || width > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	return append(b, buf[i:]...)
}
