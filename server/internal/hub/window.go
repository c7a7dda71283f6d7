package hub

import (
	"cmp"
	"context"
	"slices"
)

// window is what a stream keeps for readers that poll its ring rather than
// subscribe to it (the HLS-over-HTTP output). It is guarded by Stream.mu and
// costs nothing on the publish path while nobody waits: appended only counts
// and compares, and there is no channel to close until a reader asks for one.
type window struct {
	// changed is closed (and forgotten) at the next append or at the end;
	// nil until a reader waits.
	changed chan struct{}
	// discs counts the fragments marked Disc appended in this epoch.
	discs uint64
	// maxDuration is the longest fragment duration of this epoch.
	maxDuration float64
	// maxPart is the longest part duration of this epoch.
	maxPart float64
	// final is the ring as it was when the stream ended: release empties
	// the ring, and readers still holding the stream need its last window.
	final []*Fragment
}

// appended records f, newly pushed to the ring. Called with Stream.mu held.
func (w *window) appended(f *Fragment) {
	if f.Disc {
		w.discs++
	}
	w.maxDuration = max(w.maxDuration, f.Duration)
	w.wake()
}

// ended records the end of the stream. Called with Stream.mu held.
func (w *window) ended(r *ring) {
	w.final = r.fragments()
	w.wake()
}

func (w *window) wake() {
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
}

// fragments returns the ring's fragments, oldest first, in a new slice.
func (r *ring) fragments() []*Fragment {
	out := make([]*Fragment, r.n)
	for i := range out {
		out[i] = r.at(i)
	}
	return out
}

// Window is a snapshot of a stream's ring for readers that poll it. The
// fragments are shared and read-only, like every Fragment.
type Window struct {
	// Epoch names the stream instance.
	Epoch string
	// Fragments are the buffered fragments, oldest first. Sequence numbers
	// increase but may have gaps (a publisher skipped numbers).
	Fragments []*Fragment
	// DiscsBefore counts the fragments marked Disc that this epoch appended
	// before Fragments[0] (all of them when Fragments is empty).
	DiscsBefore uint64
	// MaxDuration is the longest fragment duration seen in this epoch, in
	// seconds; it never decreases while the epoch lasts.
	MaxDuration float64
	// Next is the sequence number the next fragment will get.
	Next uint64
	// Ended reports that the stream ended: no fragment will be added.
	Ended bool
	// Open is the fragment whose parts are arriving (not in Fragments),
	// or nil; OpenParts are the parts it had when the snapshot was taken.
	Open      *Fragment
	OpenParts []*Part
	// Init is the stream's fMP4 init segment, or nil.
	Init *Init
	// MaxPartDuration is the longest part duration seen in this epoch, in
	// seconds; 0 if no fragment came in parts.
	MaxPartDuration float64
}

// Window returns a snapshot of the stream's ring. After the stream ended it
// returns the ring as it was at the end.
func (s *Stream) Window() Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	frags := s.win.final
	if !s.ended {
		frags = s.ring.fragments()
	}
	discs := s.win.discs
	for _, f := range frags {
		if f.Disc {
			discs--
		}
	}
	w := Window{
		Epoch: s.epoch, Fragments: frags, DiscsBefore: discs,
		MaxDuration: s.win.maxDuration, Next: s.next, Ended: s.ended,
		Init: s.init, MaxPartDuration: s.win.maxPart,
	}
	if s.open != nil && !s.ended {
		w.Open = s.open
		w.OpenParts = s.open.parts[:len(s.open.parts):len(s.open.parts)]
	}
	return w
}

// Fragment returns the buffered fragment with sequence number seq, or nil if
// the ring does not hold it (evicted, skipped or not yet published).
func (s *Stream) Fragment(seq uint64) *Fragment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fragmentLocked(seq)
}

func (s *Stream) fragmentLocked(seq uint64) *Fragment {
	if s.ended {
		i, found := slices.BinarySearchFunc(s.win.final, seq, func(f *Fragment, seq uint64) int {
			return cmp.Compare(f.Seq, seq)
		})
		if !found {
			return nil
		}
		return s.win.final[i]
	}
	if f := s.ring.firstAtOrAfter(seq); f != nil && f.Seq == seq {
		return f
	}
	return nil
}

// WaitSeq blocks until the stream has been appended a fragment whose
// sequence number is seq or later, or has ended; it then returns nil. If ctx
// ends first it returns ctx's error. It holds no lock while it waits, so any
// number of readers may wait without slowing the publisher.
func (s *Stream) WaitSeq(ctx context.Context, seq uint64) error {
	return s.waitUntil(ctx, func() bool { return s.next > seq || s.ended })
}

// WaitPart blocks until fragment seq holds more than part parts, or is
// closed, or a later fragment exists, or the stream has ended; it then
// returns nil. If ctx ends first it returns ctx's error. Like WaitSeq it
// holds no lock while it waits.
func (s *Stream) WaitPart(ctx context.Context, seq uint64, part int) error {
	return s.waitUntil(ctx, func() bool {
		return s.next > seq || s.ended || s.open != nil && (s.open.Seq > seq || s.open.Seq == seq && len(s.open.parts) > part)
	})
}

// waitUntil waits until ready, called with s.mu held, is true: on the
// channel the next append closes, shared by every waiter.
func (s *Stream) waitUntil(ctx context.Context, ready func() bool) error {
	for {
		s.mu.Lock()
		if ready() {
			s.mu.Unlock()
			return nil
		}
		if s.win.changed == nil {
			s.win.changed = make(chan struct{})
		}
		changed := s.win.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
