package hub

import (
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Fragment is one media fragment of a stream. A fragment sent whole is
// written once, when the publisher's binary message arrives, and then shared
// read-only by every subscriber. A fragment sent in parts (fMP4/CMAF) is
// *open* while its parts arrive: the stream appends parts to it under its
// lock, and closes it when the publisher's closing F arrives; only then does
// it enter the ring. Once a fragment is in the ring no field changes.
type Fragment struct {
	// Seq is the fragment's sequence number within its stream's epoch.
	Seq uint64
	// Duration in seconds, as the publisher declared it (set at close for
	// a fragment in parts).
	Duration float64
	// Time is the publish wall-clock time in Unix milliseconds.
	Time int64
	// Arrival is when the fragment (its first part) reached this node, by
	// the local clock (monotonic): the start of its delivery latency.
	Arrival time.Time
	// Disc marks a discontinuity before this fragment.
	Disc bool
	// Data holds the bytes of a fragment sent whole (MPEG-TS or fMP4);
	// nil for a fragment in parts. Never modify it.
	Data []byte
	// Init is the fMP4 init segment the fragment decodes with (the
	// stream's when the fragment started); nil for MPEG-TS.
	Init *Init

	// parts of a fragment sent in parts; appended under Stream.mu while
	// the fragment is open, never changed once it is closed. A part, once
	// appended, never changes, so a snapshot of the slice stays valid.
	parts []*Part

	// The F messages are formatted once per fragment, not once per viewer.
	baseHeader  []byte
	extHeader   []byte
	closeHeader []byte // F with parts=N, for parts viewers
}

// Part is one part of a fragment sent in parts: a CMAF chunk (moof+mdat).
// It never changes once appended.
type Part struct {
	// Index is the part's position in its fragment, from 0.
	Index int
	// Duration in seconds.
	Duration float64
	// Independent: the part starts with an independent frame.
	Independent bool
	// Time is the publish wall-clock time in Unix milliseconds.
	Time int64
	// Arrival is when the part reached this node (monotonic clock).
	Arrival time.Time
	// Data holds the part's bytes. Never modify it.
	Data []byte

	header []byte // P message without disc
}

// Init is a stream's fMP4 initialization segment.
type Init struct {
	// Data holds the segment's bytes (ftyp+moov). Never modify it.
	Data []byte
	// Gen numbers the init segments of a stream instance from 1; a new
	// one replaces the old (encoder restart, new resolution).
	Gen uint64
}

// InParts reports whether the fragment was sent in parts.
func (f *Fragment) InParts() bool { return f.Data == nil && len(f.parts) > 0 }

// Parts returns the parts of a closed fragment (one taken from the ring or
// a Window), in order; nil for a fragment sent whole. Use Stream.Parts for
// an open fragment.
func (f *Fragment) Parts() []*Part { return f.parts }

// Len is the number of media bytes of a closed fragment.
func (f *Fragment) Len() int {
	if f.Data != nil {
		return len(f.Data)
	}
	n := 0
	for _, p := range f.parts {
		n += len(p.Data)
	}
	return n
}

// Size is the number of bytes the fragment holds in memory.
func (f *Fragment) Size() int64 {
	n := len(f.Data) + len(f.baseHeader) + len(f.extHeader) + len(f.closeHeader)
	for _, p := range f.parts {
		n += p.size()
	}
	return int64(n)
}

func (p *Part) size() int { return len(p.Data) + len(p.header) }

func (f *Fragment) encodeHeaders() {
	meta := f.meta(f.Disc)
	f.baseHeader = protocol.AppendFragment(nil, meta, false)
	f.extHeader = protocol.AppendFragment(nil, meta, true)
	if len(f.parts) > 0 {
		meta.Parts = uint64(len(f.parts))
		f.closeHeader = protocol.AppendFragment(nil, meta, true)
	}
}

func (f *Fragment) meta(disc bool) protocol.Fragment {
	return protocol.Fragment{Duration: f.Duration, Seq: f.Seq, HasSeq: true, Time: f.Time, Disc: disc}
}

// Header returns the F message that precedes the fragment sent whole. ext
// selects the extension form; disc asks for a discontinuity marker that the
// fragment itself does not carry (a viewer skipped fragments before it).
func (f *Fragment) Header(ext, disc bool) []byte {
	switch {
	case !ext:
		return f.baseHeader
	case disc && !f.Disc:
		return protocol.AppendFragment(nil, f.meta(true), true)
	default:
		return f.extHeader
	}
}

// CloseHeader returns the F message that closes a fragment sent in parts,
// for viewers that received it in parts.
func (f *Fragment) CloseHeader() []byte { return f.closeHeader }

func (p *Part) meta(seq uint64, disc bool) protocol.Part {
	return protocol.Part{Seq: seq, HasSeq: true, Index: uint64(p.Index), Duration: p.Duration,
		Independent: p.Independent, Time: p.Time, Disc: disc}
}

// PartHeader returns the P message that precedes part p of f. disc marks a
// discontinuity before it: the fragment's own (on part 0), or a skip.
func (f *Fragment) PartHeader(p *Part, disc bool) []byte {
	if disc && !p.ownDisc(f) {
		return protocol.AppendPart(nil, p.meta(f.Seq, true))
	}
	return p.header
}

func (p *Part) encodeHeader(f *Fragment) {
	p.header = protocol.AppendPart(nil, p.meta(f.Seq, p.ownDisc(f)))
}

// ownDisc: the part carries its fragment's discontinuity (it is part 0).
func (p *Part) ownDisc(f *Fragment) bool { return p.Index == 0 && f.Disc }
