package hlshttp

import (
	"math"
	"strconv"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// playlistVersion is the EXT-X-VERSION written: 3 is the lowest that allows
// decimal EXTINF durations, and nothing written needs more.
const playlistVersion = 3

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
	}
	for _, f := range w.Fragments[:start] {
		if f.Disc {
			p.discSeq++
		}
	}
	if len(p.frags) > 0 {
		p.mediaSeq = p.frags[0].Seq
	}
	return p
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
// into every segment URI.
func appendPlaylist(b []byte, p playlist, token string) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, playlistVersion, 10)
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(p.target), 10)
	b = append(b, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, p.mediaSeq, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendUint(b, p.discSeq, 10)
	b = append(b, '\n')
	dir := appendSegmentDir(nil, p.epoch, token)
	for _, f := range p.frags {
		if f.Disc {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = appendDateTime(b, f.Time)
		b = append(b, "\n#EXTINF:"...)
		b = strconv.AppendFloat(b, f.Duration, 'f', 3, 64)
		b = append(b, ",\n"...)
		b = append(b, dir...)
		b = appendSegmentName(b, f.Seq)
		b = append(b, '\n')
	}
	if p.ended {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b
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
