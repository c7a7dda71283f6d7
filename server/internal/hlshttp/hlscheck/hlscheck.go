// Package hlscheck validates live HLS media playlists against the rules of
// RFC 8216 (and the blocking-reload tag of its second edition) that a relay
// must keep: required tags, their order and values, segment durations
// against the target duration, and what may change between two reloads. It
// is strict on purpose: a tag it does not know is an error, so that tests
// notice anything new the relay writes. It serves the relay's tests;
// Apple's mediastreamvalidator is not available on Linux.
package hlscheck

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Segment is one media segment of a playlist.
type Segment struct {
	URI      string
	Duration float64
	// Seq is the media sequence number; DiscSeq the discontinuity
	// sequence number.
	Seq, DiscSeq uint64
	// Discontinuity reports an EXT-X-DISCONTINUITY tag before the segment.
	Discontinuity bool
	// ProgramDateTime is the EXT-X-PROGRAM-DATE-TIME before the segment,
	// zero if none.
	ProgramDateTime time.Time
}

// Playlist is a parsed media playlist.
type Playlist struct {
	Version               int
	TargetDuration        int
	MediaSequence         uint64
	DiscontinuitySequence uint64
	CanBlockReload        bool
	EndList               bool
	Segments              []Segment
}

// LastSeq returns the media sequence number of the last segment, or
// MediaSequence-1 (as an int64) when there is none.
func (p *Playlist) LastSeq() int64 {
	return int64(p.MediaSequence) + int64(len(p.Segments)) - 1
}

// pdtForm is the ISO 8601 date-time that EXT-X-PROGRAM-DATE-TIME requires
// (RFC 8216 section 4.3.2.6): a complete date, time with optional fraction,
// and a time zone.
var pdtForm = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// parser holds the state of one Parse.
type parser struct {
	p        Playlist
	errs     []error
	line     int
	pending  *Segment        // tags seen for the next segment
	segTags  map[string]bool // the tags of pending
	sawTag   map[string]bool
	sawSeg   bool
	uris     map[string]bool
	decimals bool
}

func (ps *parser) errorf(format string, args ...any) {
	ps.errs = append(ps.errs, fmt.Errorf("line %d: %s", ps.line, fmt.Sprintf(format, args...)))
}

// Parse parses data and checks it. The error joins every violation found.
func Parse(data []byte) (*Playlist, error) {
	ps := &parser{sawTag: map[string]bool{}, segTags: map[string]bool{}, uris: map[string]bool{}}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		ps.errorf("the playlist does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] != "#EXTM3U" {
		return nil, errors.New("line 1: the first line must be #EXTM3U")
	}
	for i, raw := range lines[1:] {
		ps.line = i + 2
		ps.parseLine(strings.TrimSuffix(raw, "\r"))
	}
	ps.finish()
	return &ps.p, errors.Join(ps.errs...)
}

func (ps *parser) parseLine(line string) {
	switch {
	case line == "":
	case strings.HasPrefix(line, "#EXT"):
		if ps.p.EndList {
			ps.errorf("%s after EXT-X-ENDLIST", line)
		}
		name, value, _ := strings.Cut(line, ":")
		ps.tag(name, value)
	case strings.HasPrefix(line, "#"): // a comment
	default:
		ps.uri(line)
	}
}

// once reports whether a playlist tag appears for the first time, and that
// it precedes the first segment.
func (ps *parser) once(name string) bool {
	if ps.sawTag[name] {
		ps.errorf("%s appears twice", name)
		return false
	}
	ps.sawTag[name] = true
	if ps.sawSeg || ps.pending != nil {
		ps.errorf("%s must come before the first media segment", name)
	}
	return true
}

func (ps *parser) segment() *Segment {
	if ps.pending == nil {
		ps.pending = &Segment{}
	}
	return ps.pending
}

func (ps *parser) tag(name, value string) {
	switch name {
	case "#EXT-X-VERSION":
		if ps.once(name) {
			ps.p.Version = ps.integer(name, value)
		}
	case "#EXT-X-TARGETDURATION":
		if ps.once(name) {
			ps.p.TargetDuration = ps.integer(name, value)
		}
	case "#EXT-X-MEDIA-SEQUENCE":
		if ps.once(name) {
			ps.p.MediaSequence = uint64(ps.integer(name, value))
		}
	case "#EXT-X-DISCONTINUITY-SEQUENCE":
		if ps.sawTag["#EXT-X-DISCONTINUITY"] {
			ps.errorf("%s must come before any EXT-X-DISCONTINUITY", name)
		}
		if ps.once(name) {
			ps.p.DiscontinuitySequence = uint64(ps.integer(name, value))
		}
	case "#EXT-X-SERVER-CONTROL":
		if ps.once(name) {
			ps.serverControl(value)
		}
	case "#EXT-X-ENDLIST":
		ps.p.EndList = true
	case "#EXT-X-DISCONTINUITY":
		ps.sawTag[name] = true
		ps.segmentTag(name, value, func(s *Segment) { s.Discontinuity = true })
	case "#EXT-X-PROGRAM-DATE-TIME":
		ps.segmentTag(name, value, func(s *Segment) { s.ProgramDateTime = ps.dateTime(value) })
	case "#EXTINF":
		ps.segmentTag(name, value, func(s *Segment) { s.Duration = ps.extinf(value) })
	default:
		ps.errorf("unknown or unexpected tag %s", name)
	}
}

// segmentTag applies a media segment tag to the next segment; each may
// appear once per segment.
func (ps *parser) segmentTag(name, value string, set func(*Segment)) {
	if ps.segTags[name] {
		ps.errorf("%s twice for one segment", name)
	}
	ps.segTags[name] = true
	if name == "#EXT-X-DISCONTINUITY" && value != "" {
		ps.errorf("EXT-X-DISCONTINUITY takes no value")
	}
	set(ps.segment())
}

func (ps *parser) uri(line string) {
	s := ps.pending
	if s == nil || !ps.segTags["#EXTINF"] {
		ps.errorf("URI %q without a preceding EXTINF", line)
		s = ps.segment()
	}
	if strings.TrimSpace(line) != line {
		ps.errorf("URI %q has surrounding spaces", line)
	}
	if ps.uris[line] {
		ps.errorf("URI %q is listed twice", line)
	}
	ps.uris[line] = true
	s.URI = line
	ps.p.Segments = append(ps.p.Segments, *s)
	ps.pending = nil
	clear(ps.segTags)
	ps.sawSeg = true
}

var decimalInteger = regexp.MustCompile(`^(0|[1-9][0-9]{0,19})$`)

func (ps *parser) integer(name, v string) int {
	if !decimalInteger.MatchString(v) {
		ps.errorf("%s:%s is not a decimal-integer", name, v)
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		ps.errorf("%s:%s is out of range", name, v)
	}
	return int(n)
}

var decimalFloat = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func (ps *parser) extinf(v string) float64 {
	d, _, found := strings.Cut(v, ",")
	if !found {
		ps.errorf("EXTINF:%s lacks the comma after the duration", v)
	}
	if !decimalFloat.MatchString(d) {
		ps.errorf("EXTINF duration %q is not a decimal number", d)
		return 0
	}
	if strings.Contains(d, ".") {
		ps.decimals = true
	}
	f, _ := strconv.ParseFloat(d, 64)
	return f
}

func (ps *parser) dateTime(v string) time.Time {
	if !pdtForm.MatchString(v) {
		ps.errorf("EXT-X-PROGRAM-DATE-TIME %q is not an ISO 8601 date-time with a time zone", v)
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		ps.errorf("EXT-X-PROGRAM-DATE-TIME %q: %v", v, err)
	}
	return t
}

func (ps *parser) serverControl(v string) {
	for _, attr := range strings.Split(v, ",") {
		name, value, _ := strings.Cut(attr, "=")
		switch name {
		case "CAN-BLOCK-RELOAD":
			if value != "YES" {
				ps.errorf("CAN-BLOCK-RELOAD=%s: the only allowed value is YES", value)
			}
			ps.p.CanBlockReload = true
		case "HOLD-BACK", "PART-HOLD-BACK", "CAN-SKIP-UNTIL", "CAN-SKIP-DATERANGES":
		default:
			ps.errorf("unknown EXT-X-SERVER-CONTROL attribute %q", name)
		}
	}
}

// finish checks what needs the whole playlist.
func (ps *parser) finish() {
	ps.line = 0
	p := &ps.p
	if ps.pending != nil {
		ps.errorf("segment tags at the end without a URI")
	}
	if !ps.sawTag["#EXT-X-TARGETDURATION"] {
		ps.errorf("EXT-X-TARGETDURATION is required")
	}
	if !ps.sawTag["#EXT-X-VERSION"] {
		ps.errorf("EXT-X-VERSION is missing")
	}
	if ps.decimals && p.Version < 3 {
		ps.errorf("decimal EXTINF durations need EXT-X-VERSION 3 or more, have %d", p.Version)
	}
	if p.TargetDuration < 1 {
		ps.errorf("EXT-X-TARGETDURATION %d is below 1", p.TargetDuration)
	}
	if len(p.Segments) == 0 && !p.EndList {
		ps.errorf("a live playlist without segments")
	}
	disc := p.DiscontinuitySequence
	for i := range p.Segments {
		s := &p.Segments[i]
		s.Seq = p.MediaSequence + uint64(i)
		if s.Discontinuity {
			disc++
		}
		s.DiscSeq = disc
		if rounded := int(math.Floor(s.Duration + 0.5)); rounded > p.TargetDuration {
			ps.errorf("segment %d: EXTINF %.3f rounds to %d, above EXT-X-TARGETDURATION %d", s.Seq, s.Duration, rounded, p.TargetDuration)
		}
	}
}

// CheckReload checks the rules between a playlist and a later reload of the
// same playlist (RFC 8216 section 6.2.1 and 6.2.2): the target duration does
// not decrease, nothing follows an EXT-X-ENDLIST, segments are removed only
// from the front and added only at the end, a segment keeps its media
// sequence number, URI, duration and discontinuity sequence number, and
// EXT-X-DISCONTINUITY-SEQUENCE grows by the discontinuities removed.
func CheckReload(prev, next *Playlist) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if next.TargetDuration < prev.TargetDuration {
		bad("EXT-X-TARGETDURATION decreased from %d to %d", prev.TargetDuration, next.TargetDuration)
	}
	if prev.EndList && (!next.EndList || next.LastSeq() != prev.LastSeq()) {
		bad("the playlist changed after EXT-X-ENDLIST")
	}
	if next.MediaSequence < prev.MediaSequence {
		bad("EXT-X-MEDIA-SEQUENCE went back from %d to %d", prev.MediaSequence, next.MediaSequence)
	}
	if next.LastSeq() < prev.LastSeq() {
		bad("the last segment went back from %d to %d", prev.LastSeq(), next.LastSeq())
	}
	byURI := map[string]uint64{}
	for _, s := range prev.Segments {
		byURI[s.URI] = s.Seq
	}
	removedDiscs := uint64(0)
	for _, s := range prev.Segments {
		if s.Seq < next.MediaSequence && s.Discontinuity {
			removedDiscs++
		}
	}
	for _, s := range next.Segments {
		if seq, ok := byURI[s.URI]; ok && seq != s.Seq {
			bad("URI %q was segment %d and is now segment %d", s.URI, seq, s.Seq)
		}
		if int64(s.Seq) > prev.LastSeq() || s.Seq < prev.MediaSequence {
			continue
		}
		old := prev.Segments[s.Seq-prev.MediaSequence]
		if old.URI != s.URI || old.Duration != s.Duration || old.DiscSeq != s.DiscSeq || !old.ProgramDateTime.Equal(s.ProgramDateTime) {
			bad("segment %d changed: %+v became %+v", s.Seq, old, s)
		}
	}
	switch {
	case int64(next.MediaSequence) <= prev.LastSeq()+1:
		// Every removed segment was in prev: the count is exact.
		if want := prev.DiscontinuitySequence + removedDiscs; next.DiscontinuitySequence != want {
			bad("EXT-X-DISCONTINUITY-SEQUENCE is %d, want %d (%d plus %d discontinuities removed)",
				next.DiscontinuitySequence, want, prev.DiscontinuitySequence, removedDiscs)
		}
	case next.DiscontinuitySequence < prev.DiscontinuitySequence+removedDiscs:
		bad("EXT-X-DISCONTINUITY-SEQUENCE is %d, below %d", next.DiscontinuitySequence, prev.DiscontinuitySequence+removedDiscs)
	}
	return errors.Join(errs...)
}
