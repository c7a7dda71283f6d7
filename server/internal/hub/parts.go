package hub

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// ErrPartOrder: a publisher sent a part that does not continue the open
// fragment (it skips an index, or has no fragment to belong to). The
// connection should be refused with a protocol error.
var ErrPartOrder = errors.New("part out of order")

// ErrFragmentTooLarge: a fragment sent in parts grew past
// Config.MaxFragmentBytes or MaxParts parts. The connection should be
// refused with MESSAGE_TOO_LARGE.
var ErrFragmentTooLarge = errors.New("fragment too large")

// MaxParts bounds the parts of one fragment: at 200 ms a part, a fragment
// of 1,000 parts lasts over three minutes, far past any useful segment.
const MaxParts = 1000

// ErrNotPublisher: the publication no longer owns its stream (another
// publisher took over, or the stream ended).
var ErrNotPublisher = errors.New("not the stream's publisher")

// PartInput is a part as the publisher delivers it.
type PartInput struct {
	Seq         uint64 // the publisher's fragment number, used if HasSeq
	HasSeq      bool
	Index       uint64 // as the publisher sent it: any value is checked here
	Duration    float64
	Independent bool
	Time        int64 // publish time, Unix ms; 0 = now
	Disc        bool
	Data        []byte // kept by the hub; the caller must not modify it afterwards
}

// CloseInput is the F message that closes a fragment sent in parts.
type CloseInput struct {
	Duration float64
	Parts    uint64
	Seq      uint64 // used if HasSeq
	HasSeq   bool
}

// SetInit makes data the stream's init segment; subscribers in parts
// receive it before their next part. The same bytes again (a publisher or
// an upstream that reconnected) change nothing; other bytes are a new
// init segment, and the next fragment is marked as a discontinuity.
func (p *Publication) SetInit(data []byte) {
	s := p.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p || s.ended || s.init != nil && bytes.Equal(s.init.Data, data) {
		return
	}
	gen := uint64(1)
	if s.init != nil {
		s.initChanged = true
		gen = s.init.Gen + 1
		s.bytes -= int64(len(s.init.Data))
		s.hub.totalBytes.Add(-int64(len(s.init.Data)))
	}
	s.init = &Init{Data: data, Gen: gen}
	s.bytes += int64(len(data))
	s.hub.totalBytes.Add(int64(len(data)))
	s.wakePartsLocked()
}

// AppendPart adds a part to the stream's open fragment, opening a new
// fragment with part 0, and wakes the subscribers. It returns false, nil for
// a part the stream already has (a resend after a reconnect),
// ErrNotPublisher for a publication that no longer owns the stream, and
// ErrPartOrder for a part that skips ahead.
func (p *Publication) AppendPart(in PartInput) (bool, error) {
	s := p.stream
	added, err := s.appendPart(p, in, time.Now())
	if added && s.hub.overTotal() {
		s.hub.enforceTotal()
	}
	return added, err
}

func (s *Stream) appendPart(p *Publication, in PartInput, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p || s.ended {
		return false, ErrNotPublisher
	}
	f := s.open
	if f != nil && in.HasSeq && in.Seq != f.Seq {
		if in.Seq < f.Seq {
			return false, nil // a resend of a closed fragment
		}
		if in.Index != 0 {
			return false, fmt.Errorf("%w: part %d of fragment %d, but fragment %d is open", ErrPartOrder, in.Index, in.Seq, f.Seq)
		}
		s.closeOpenLocked(nil)
		f = nil
	}
	if f != nil && in.Index == 0 && !in.HasSeq {
		s.closeOpenLocked(nil) // a publisher that numbers nothing opens the next one
		f = nil
	}
	if f == nil {
		if in.HasSeq && in.Seq < s.next {
			return false, nil // a resend of a closed fragment
		}
		if in.Index != 0 {
			return false, fmt.Errorf("%w: part %d with no fragment open (parts of a fragment start at 0)", ErrPartOrder, in.Index)
		}
		f = s.openFragment(p, in, now)
	}
	switch {
	case in.Index < uint64(len(f.parts)):
		return false, nil // a resend
	case in.Index > uint64(len(f.parts)):
		return false, fmt.Errorf("%w: part %d of fragment %d follows part %d", ErrPartOrder, in.Index, f.Seq, len(f.parts)-1)
	}
	if err := s.checkOpenSize(f, len(in.Data)); err != nil {
		return false, err
	}
	part := &Part{Index: len(f.parts), Duration: in.Duration, Independent: in.Independent, Time: in.Time, Arrival: now, Data: in.Data}
	if part.Time == 0 {
		part.Time = now.UnixMilli()
	}
	f.parts = append(f.parts, part)
	part.encodeHeader(f)
	s.bytes += int64(part.size())
	s.hub.totalBytes.Add(int64(part.size()))
	s.win.maxPart = max(s.win.maxPart, part.Duration)
	s.evict()
	s.wakePartsLocked()
	return true, nil
}

// checkOpenSize refuses a part that would make the open fragment f too
// large: the open fragment is never evicted, so it must be bounded.
func (s *Stream) checkOpenSize(f *Fragment, size int) error {
	if len(f.parts) >= MaxParts {
		return fmt.Errorf("%w: fragment %d has %d parts, the limit", ErrFragmentTooLarge, f.Seq, MaxParts)
	}
	limit := s.hub.cfg.MaxFragmentBytes
	if limit <= 0 {
		return nil
	}
	total := int64(size)
	for _, p := range f.parts {
		total += int64(len(p.Data))
	}
	if total > limit {
		return fmt.Errorf("%w: fragment %d would hold %d bytes in parts, over the %d-byte limit", ErrFragmentTooLarge, f.Seq, total, limit)
	}
	return nil
}

// openFragment starts the fragment that in's part 0 belongs to, numbered
// as appendLocked numbers whole fragments. Called with s.mu held.
func (s *Stream) openFragment(p *Publication, in PartInput, now time.Time) *Fragment {
	disc := in.Disc || p.discNext || s.initChanged
	seq := s.next
	if in.HasSeq && in.Seq > s.next {
		disc, seq = true, in.Seq
	}
	p.discNext, s.initChanged = false, false
	f := &Fragment{Seq: seq, Time: in.Time, Disc: disc, Arrival: now, Init: s.init}
	if f.Time == 0 {
		f.Time = now.UnixMilli()
	}
	s.open = f
	return f
}

// CloseFragment closes the open fragment: it enters the ring and the
// subscribers receive it (whole, or its closing F). It returns false, nil
// for a closing F the stream already has (a resend), ErrNotPublisher for a
// publication that no longer owns the stream, and ErrPartOrder if the F does
// not match the open fragment.
func (p *Publication) CloseFragment(in CloseInput) (bool, error) {
	s := p.stream
	closed, err := s.closeFragment(p, in)
	if closed && s.hub.overTotal() {
		s.hub.enforceTotal()
	}
	return closed, err
}

func (s *Stream) closeFragment(p *Publication, in CloseInput) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p || s.ended {
		return false, ErrNotPublisher
	}
	f := s.open
	if f == nil || in.HasSeq && in.Seq < f.Seq {
		if in.HasSeq && in.Seq < s.next {
			return false, nil // a resend
		}
		return false, fmt.Errorf("%w: F with parts=%d but no fragment is open", ErrPartOrder, in.Parts)
	}
	if in.HasSeq && in.Seq != f.Seq {
		return false, fmt.Errorf("%w: F closes fragment %d, but fragment %d is open", ErrPartOrder, in.Seq, f.Seq)
	}
	if in.Parts != uint64(len(f.parts)) {
		return false, fmt.Errorf("%w: F says fragment %d has %d parts, %d arrived", ErrPartOrder, f.Seq, in.Parts, len(f.parts))
	}
	s.closeOpenLocked(&in.Duration)
	return true, nil
}

// closeOpenLocked moves the open fragment into the ring, with duration d
// or, if d is nil, the sum of its parts' durations. Called with s.mu held.
func (s *Stream) closeOpenLocked(d *float64) {
	f := s.open
	if f == nil {
		return
	}
	s.open = nil
	if d != nil {
		f.Duration = *d
	} else {
		for _, p := range f.parts {
			f.Duration += p.Duration
		}
	}
	before := f.Size()
	f.encodeHeaders()
	s.bytes += f.Size() - before
	s.hub.totalBytes.Add(f.Size() - before)
	s.next = f.Seq + 1
	s.ring.push(f)
	s.win.appended(f)
	s.evict()
	for sub := range s.subs {
		sub.wakeLocked()
	}
}

// wakePartsLocked wakes the subscribers in parts and the pollers: a part or
// an init segment is nothing to a subscriber of whole fragments, which would
// start a writer goroutine only to find nothing due. Called with s.mu held.
func (s *Stream) wakePartsLocked() {
	for sub := range s.subs {
		if sub.parts != nil {
			sub.wakeLocked()
		}
	}
	s.win.wake()
}

// Parts returns a snapshot of the parts fragment seq holds now (open or
// closed), whether it is closed, and the fragment; nil if the stream holds
// no fragment seq.
func (s *Stream) Parts(seq uint64) (f *Fragment, parts []*Part, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil && s.open.Seq == seq && !s.ended {
		return s.open, s.open.parts[:len(s.open.parts):len(s.open.parts)], false
	}
	f = s.fragmentLocked(seq)
	if f == nil {
		return nil, nil, false
	}
	return f, f.parts, true
}

// Init returns the stream's current init segment, or nil.
func (s *Stream) Init() *Init {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.init
}

// NextPart says where a publisher in parts resumes after a reconnect: the
// sequence number of the next fragment the stream lacks and, if that
// fragment is open, how many of its parts the stream holds.
func (p *Publication) NextPart() (next uint64, part uint64) {
	return p.stream.LiveEdge()
}

// LiveEdge returns where the stream's publishing stands: the sequence number
// of the fragment being published or next, and how many parts of it exist.
func (s *Stream) LiveEdge() (next uint64, parts uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil {
		return s.open.Seq, uint64(len(s.open.parts))
	}
	return s.next, 0
}
