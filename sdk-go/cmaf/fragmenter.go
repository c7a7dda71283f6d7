package cmaf

import "time"

// DefaultTarget is the default Fragmenter.Target.
const DefaultTarget = time.Second

// Fragmenter groups chunks into fragments so that every fragment but
// possibly the first starts with a key frame: a fragment ends, and the next
// begins, at the first independent chunk once the fragment lasts at least
// 95 % of Target. (The margin keeps rounding, or a key frame a few
// milliseconds early, from doubling a fragment.) With an encoder that makes
// a key frame every Target, fragments last Target.
//
// A chunk that brings a new init segment (Chunk.Init) always starts a new
// fragment.
//
// The zero value is ready to use. A Fragmenter is not safe for concurrent
// use.
type Fragmenter struct {
	// Target is the fragment duration aimed at. Defaults to DefaultTarget.
	Target time.Duration

	open     bool
	index    uint64 // the open fragment's, or the next one's
	parts    int
	duration time.Duration
}

// Part says where a chunk goes.
type Part struct {
	// Fragment is the index of the chunk's fragment, from 0.
	Fragment uint64
	// Index is the chunk's position in the fragment, from 0.
	Index int
	// Duration and Independent are the chunk's.
	Duration    time.Duration
	Independent bool
}

// Fragment describes a fragment that closed.
type Fragment struct {
	Index uint64
	// Duration is the sum of its parts' durations.
	Duration time.Duration
	// Parts is the number of its parts.
	Parts int
}

// Add places the next chunk c. When c starts a new fragment after an open
// one, Add closes the open one and returns it as closed (ok true): a
// publisher ends that fragment before sending c.
func (f *Fragmenter) Add(c Chunk) (p Part, closed Fragment, ok bool) {
	target := f.Target
	if target <= 0 {
		target = DefaultTarget
	}
	if f.open && (c.Init != nil || c.Independent && f.duration >= target-target/20) {
		closed, ok = f.Close()
	}
	if !f.open {
		f.open, f.parts, f.duration = true, 0, 0
	}
	p = Part{Fragment: f.index, Index: f.parts, Duration: c.Duration, Independent: c.Independent}
	f.parts++
	f.duration += c.Duration
	return p, closed, ok
}

// Close closes the open fragment and returns it; ok is false if no fragment
// is open. The next chunk starts a new fragment.
func (f *Fragmenter) Close() (closed Fragment, ok bool) {
	if !f.open {
		return Fragment{}, false
	}
	closed = Fragment{Index: f.index, Duration: f.duration, Parts: f.parts}
	f.open = false
	f.index++
	return closed, true
}
