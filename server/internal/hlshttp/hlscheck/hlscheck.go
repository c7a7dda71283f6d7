// Package hlscheck validates live HLS media playlists against the rules of
// RFC 8216 and of its second edition (RFC 8216bis: blocking reload and the
// low-latency tags) that a relay must keep: required tags, their order and
// values, segment and part durations against their targets, EXT-X-MAP for
// fMP4 segments, and what may change between two reloads. It is strict on
// purpose: a tag or attribute it does not know is an error, so that tests
// notice anything new the relay writes. It serves the relay's tests; Apple's
// mediastreamvalidator is not available on Linux.
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
	// Map is the URI of the EXT-X-MAP that applies to the segment, "" if
	// none.
	Map string
	// Parts are the segment's EXT-X-PART tags, in order (none when the
	// playlist does not list them).
	Parts []Part
}

// Part is one partial segment (EXT-X-PART).
type Part struct {
	URI         string
	Duration    float64
	Independent bool
	Gap         bool
}

// PreloadHint is an EXT-X-PRELOAD-HINT.
type PreloadHint struct {
	Type, URI string
}

// Playlist is a parsed media playlist.
type Playlist struct {
	Version               int
	TargetDuration        int
	MediaSequence         uint64
	DiscontinuitySequence uint64
	CanBlockReload        bool
	// HoldBack and PartHoldBack are the EXT-X-SERVER-CONTROL attributes
	// in seconds, 0 when absent.
	HoldBack, PartHoldBack float64
	// PartTarget is EXT-X-PART-INF's PART-TARGET in seconds, 0 without
	// EXT-X-PART-INF.
	PartTarget float64
	EndList    bool
	Segments   []Segment
	// Partial is the segment whose parts are listed after the last
	// complete segment (no EXTINF and URI yet); nil if there is none. Its
	// Seq is LastSeq()+1.
	Partial      *Segment
	PreloadHints []PreloadHint
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
	curMap   string // the URI of the EXT-X-MAP in effect
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
	case "#EXT-X-PART-INF":
		if ps.once(name) {
			ps.partInf(value)
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
	case "#EXT-X-MAP":
		ps.mapTag(value)
	case "#EXT-X-PART":
		ps.part(value)
	case "#EXT-X-PRELOAD-HINT":
		ps.preloadHint(value)
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
	if ps.pending != nil && len(ps.pending.Parts) > 0 && name != "#EXTINF" {
		// They apply to the segment's first part too (RFC 8216bis 4.4.4.9).
		ps.errorf("%s after the first EXT-X-PART of its segment", name)
	}
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
	ps.addURI(line)
	s.URI = line
	s.Map = ps.curMap
	ps.p.Segments = append(ps.p.Segments, *s)
	ps.pending = nil
	clear(ps.segTags)
	ps.sawSeg = true
}

// addURI records a segment or part URI, which must be unique.
func (ps *parser) addURI(uri string) {
	if ps.uris[uri] {
		ps.errorf("URI %q is listed twice", uri)
	}
	ps.uris[uri] = true
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

// float parses a decimal-floating-point value of what.
func (ps *parser) float(what, v string) float64 {
	if !decimalFloat.MatchString(v) {
		ps.errorf("%s %q is not a decimal-floating-point number", what, v)
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		ps.errorf("%s %q is out of range", what, v)
		return 0
	}
	return f
}

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
	return ps.float("EXTINF duration", d)
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

// attrs parses the attribute list of tag, checking each attribute against
// kinds: its name mapped to the kind of value it takes. Unknown and
// repeated attributes are errors.
func (ps *parser) attrs(tag, v string, kinds map[string]attrKind) map[string]string {
	list, err := parseAttributes(v)
	if err != nil {
		ps.errorf("%s: %v", tag, err)
	}
	out := make(map[string]string, len(list))
	for _, a := range list {
		kind, known := kinds[a.Name]
		switch {
		case !known:
			ps.errorf("%s: unknown attribute %s", tag, a.Name)
			continue
		case kind == quoted && !a.Quoted:
			ps.errorf("%s: %s must be a quoted-string", tag, a.Name)
		case kind != quoted && a.Quoted:
			ps.errorf("%s: %s must not be quoted", tag, a.Name)
		case kind == yes && a.Value != "YES":
			ps.errorf("%s: %s=%s: the only allowed value is YES", tag, a.Name, a.Value)
		}
		out[a.Name] = a.Value
	}
	return out
}

// attrKind is the kind of value an attribute takes.
type attrKind int

const (
	quoted     attrKind = iota + 1 // a quoted-string
	enumerated                     // an enumerated-string
	yes                            // an enumerated-string whose only value is YES
	number                         // a decimal-integer or decimal-floating-point
)

// required checks that a has the attributes names, and that a URI is not
// empty.
func (ps *parser) required(tag string, a map[string]string, names ...string) bool {
	ok := true
	for _, n := range names {
		v, has := a[n]
		switch {
		case !has:
			ps.errorf("%s: %s is required", tag, n)
			ok = false
		case n == "URI" && v == "":
			ps.errorf("%s: an empty URI", tag)
			ok = false
		}
	}
	return ok
}

func (ps *parser) serverControl(v string) {
	a := ps.attrs("EXT-X-SERVER-CONTROL", v, map[string]attrKind{
		"CAN-BLOCK-RELOAD": yes, "HOLD-BACK": number, "PART-HOLD-BACK": number,
		"CAN-SKIP-UNTIL": number, "CAN-SKIP-DATERANGES": yes,
	})
	_, ps.p.CanBlockReload = a["CAN-BLOCK-RELOAD"]
	if hb, ok := a["HOLD-BACK"]; ok {
		ps.p.HoldBack = ps.float("HOLD-BACK", hb)
	}
	if phb, ok := a["PART-HOLD-BACK"]; ok {
		ps.p.PartHoldBack = ps.float("PART-HOLD-BACK", phb)
	}
	if su, ok := a["CAN-SKIP-UNTIL"]; ok {
		ps.float("CAN-SKIP-UNTIL", su)
	}
}

func (ps *parser) partInf(v string) {
	a := ps.attrs("EXT-X-PART-INF", v, map[string]attrKind{"PART-TARGET": number})
	if ps.required("EXT-X-PART-INF", a, "PART-TARGET") {
		ps.p.PartTarget = ps.float("PART-TARGET", a["PART-TARGET"])
		if ps.p.PartTarget <= 0 {
			ps.errorf("PART-TARGET must be positive")
		}
	}
}

// mapTag reads EXT-X-MAP: it applies to every segment after it.
func (ps *parser) mapTag(v string) {
	a := ps.attrs("EXT-X-MAP", v, map[string]attrKind{"URI": quoted, "BYTERANGE": quoted})
	if ps.pending != nil && len(ps.pending.Parts) > 0 {
		ps.errorf("EXT-X-MAP between the parts of a segment")
	}
	ps.sawTag["#EXT-X-MAP"] = true
	if ps.required("EXT-X-MAP", a, "URI") {
		ps.curMap = a["URI"]
	}
}

func (ps *parser) part(v string) {
	a := ps.attrs("EXT-X-PART", v, map[string]attrKind{
		"URI": quoted, "DURATION": number, "INDEPENDENT": yes, "BYTERANGE": quoted, "GAP": yes,
	})
	if ps.segTags["#EXTINF"] {
		ps.errorf("EXT-X-PART after the EXTINF of its segment")
	}
	var p Part
	if ps.required("EXT-X-PART", a, "URI", "DURATION") {
		p.URI = a["URI"]
		p.Duration = ps.float("EXT-X-PART DURATION", a["DURATION"])
		ps.addURI(p.URI)
	}
	_, p.Independent = a["INDEPENDENT"]
	_, p.Gap = a["GAP"]
	s := ps.segment()
	s.Parts = append(s.Parts, p)
}

func (ps *parser) preloadHint(v string) {
	a := ps.attrs("EXT-X-PRELOAD-HINT", v, map[string]attrKind{
		"TYPE": enumerated, "URI": quoted, "BYTERANGE-START": number, "BYTERANGE-LENGTH": number,
	})
	if !ps.required("EXT-X-PRELOAD-HINT", a, "TYPE", "URI") {
		return
	}
	for _, n := range []string{"BYTERANGE-START", "BYTERANGE-LENGTH"} {
		if v, ok := a[n]; ok && !decimalInteger.MatchString(v) {
			ps.errorf("EXT-X-PRELOAD-HINT: %s=%s is not a decimal-integer", n, v)
		}
	}
	h := PreloadHint{Type: a["TYPE"], URI: a["URI"]}
	if h.Type != "PART" && h.Type != "MAP" {
		ps.errorf("EXT-X-PRELOAD-HINT: TYPE=%s is neither PART nor MAP", h.Type)
	}
	for _, other := range ps.p.PreloadHints {
		if other.Type == h.Type {
			ps.errorf("two EXT-X-PRELOAD-HINT of TYPE=%s", h.Type)
		}
	}
	ps.p.PreloadHints = append(ps.p.PreloadHints, h)
}

// isFMP4 reports whether uri names an fMP4 resource, by its extension.
func isFMP4(uri string) bool {
	path, _, _ := strings.Cut(uri, "?")
	return strings.HasSuffix(path, ".m4s") || strings.HasSuffix(path, ".mp4")
}

// finish checks what needs the whole playlist.
func (ps *parser) finish() {
	ps.line = 0
	p := &ps.p
	if ps.pending != nil {
		// The parts of the segment being produced may end the playlist.
		if len(ps.pending.Parts) == 0 || ps.segTags["#EXTINF"] {
			ps.errorf("segment tags at the end without a URI")
		} else if p.EndList {
			ps.errorf("an ended playlist ends with the parts of an incomplete segment")
		}
		if len(ps.pending.Parts) > 0 {
			s := *ps.pending
			s.Map = ps.curMap
			p.Partial = &s
		}
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
	if ps.sawTag["#EXT-X-MAP"] && p.Version < 6 {
		ps.errorf("EXT-X-MAP in a playlist without EXT-X-I-FRAMES-ONLY needs EXT-X-VERSION 6 or more, have %d", p.Version)
	}
	if p.TargetDuration < 1 {
		ps.errorf("EXT-X-TARGETDURATION %d is below 1", p.TargetDuration)
	}
	if len(p.Segments) == 0 && !p.EndList {
		ps.errorf("a live playlist without segments")
	}
	if p.HoldBack != 0 && p.HoldBack < 3*float64(p.TargetDuration) {
		ps.errorf("HOLD-BACK %.3f is below three target durations (%d)", p.HoldBack, 3*p.TargetDuration)
	}
	ps.checkParts()
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
		if s.Map == "" && isFMP4(s.URI) {
			ps.errorf("segment %d: an fMP4 segment (%s) without EXT-X-MAP", s.Seq, s.URI)
		}
	}
	if s := p.Partial; s != nil {
		s.Seq = uint64(p.LastSeq() + 1)
		if s.Discontinuity {
			disc++
		}
		s.DiscSeq = disc
	}
}

// checkParts checks the low-latency tags: parts against PART-TARGET, the
// PART-HOLD-BACK, the preload hint of a live playlist, EXT-X-MAP for fMP4
// parts.
func (ps *parser) checkParts() {
	p := &ps.p
	segs := p.Segments
	if p.Partial != nil {
		segs = append(segs[:len(segs):len(segs)], *p.Partial)
	}
	parts := 0
	for i, s := range segs {
		for j, part := range s.Parts {
			parts++
			if p.PartTarget > 0 && part.Duration > p.PartTarget {
				ps.errorf("segment %d: part %s lasts %.3f, above PART-TARGET %.3f", p.MediaSequence+uint64(i), part.URI, part.Duration, p.PartTarget)
			}
			// At least 85% of the target, but for independent and gap
			// parts, parts before a gap, and the last part of a segment
			// (RFC 8216bis 4.4.4.9); the last part listed of the segment
			// being produced may be its last.
			last := j == len(s.Parts)-1
			exempt := part.Independent || part.Gap || last || s.Parts[j+1].Gap
			if !exempt && part.Duration < 0.85*p.PartTarget {
				ps.errorf("segment %d: part %s lasts %.3f, below 85%% of PART-TARGET %.3f", p.MediaSequence+uint64(i), part.URI, part.Duration, p.PartTarget)
			}
			if s.Map == "" && isFMP4(part.URI) {
				ps.errorf("segment %d: an fMP4 part (%s) without EXT-X-MAP", p.MediaSequence+uint64(i), part.URI)
			}
		}
	}
	if parts > 0 && p.PartTarget == 0 {
		ps.errorf("EXT-X-PART without EXT-X-PART-INF")
	}
	for _, h := range p.PreloadHints {
		if ps.uris[h.URI] {
			ps.errorf("EXT-X-PRELOAD-HINT names %q, which is listed", h.URI)
		}
		if h.Type == "MAP" && h.URI == ps.curMap {
			ps.errorf("EXT-X-PRELOAD-HINT TYPE=MAP names the EXT-X-MAP in effect")
		}
	}
	if p.PartTarget == 0 {
		if len(p.PreloadHints) > 0 || p.PartHoldBack != 0 {
			ps.errorf("EXT-X-PRELOAD-HINT or PART-HOLD-BACK without EXT-X-PART-INF")
		}
		return
	}
	switch {
	case p.PartHoldBack == 0:
		ps.errorf("EXT-X-PART-INF needs EXT-X-SERVER-CONTROL:PART-HOLD-BACK")
	case p.PartHoldBack < 2*p.PartTarget:
		ps.errorf("PART-HOLD-BACK %.3f is below twice the PART-TARGET %.3f", p.PartHoldBack, p.PartTarget)
	}
	hinted := false
	for _, h := range p.PreloadHints {
		hinted = hinted || h.Type == "PART"
	}
	if !hinted && !p.EndList {
		ps.errorf("a live low-latency playlist without EXT-X-PRELOAD-HINT:TYPE=PART")
	}
	if len(p.PreloadHints) > 0 && p.EndList {
		ps.errorf("EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST")
	}
}

// CheckReload checks the rules between a playlist and a later reload of the
// same playlist (RFC 8216 section 6.2.1 and 6.2.2, RFC 8216bis section
// 6.2.2): the target duration does not decrease, nothing follows an
// EXT-X-ENDLIST, segments are removed only from the front and added only at
// the end, a segment keeps its media sequence number, URI, duration,
// EXT-X-MAP and discontinuity sequence number, EXT-X-DISCONTINUITY-SEQUENCE
// grows by the discontinuities removed, and the parts of a segment are only
// appended to (or all removed). A new EXT-X-MAP may apply from a segment
// that was not listed before on (a new init segment, at the discontinuity
// where it starts); the EXT-X-MAP of a listed segment, or of the segment
// whose parts were listed, never changes.
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
		if old.URI != s.URI || old.Duration != s.Duration || old.DiscSeq != s.DiscSeq || old.Map != s.Map || !old.ProgramDateTime.Equal(s.ProgramDateTime) {
			bad("segment %d changed: %+v became %+v", s.Seq, old, s)
		}
		if len(old.Parts) > 0 && len(s.Parts) > 0 && !partsEqual(old.Parts, s.Parts) {
			bad("the parts of segment %d changed: %+v became %+v", s.Seq, old.Parts, s.Parts)
		}
	}
	if old := prev.Partial; old != nil {
		// The segment being produced then is complete now, or still being
		// produced: its parts so far stay as they were.
		var now *Segment
		switch {
		case next.Partial != nil && next.Partial.Seq == old.Seq:
			now = next.Partial
		case int64(old.Seq) <= next.LastSeq() && old.Seq >= next.MediaSequence:
			now = &next.Segments[old.Seq-next.MediaSequence]
		}
		if now != nil && len(now.Parts) > 0 && (len(now.Parts) < len(old.Parts) || !partsEqual(old.Parts, now.Parts[:len(old.Parts)])) {
			bad("the parts of segment %d changed: %+v became %+v", old.Seq, old.Parts, now.Parts)
		}
		// Its discontinuity and EXT-X-MAP apply to the parts a player may
		// have played already: they stay, whether its parts are still
		// listed or not.
		if now != nil && (old.Discontinuity != now.Discontinuity || old.Map != now.Map || !old.ProgramDateTime.Equal(now.ProgramDateTime)) {
			bad("segment %d changed while its parts were listed: %+v became %+v", old.Seq, old, now)
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

func partsEqual(a, b []Part) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
