package hub

import (
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Fragment is one media fragment of a stream. It is written once, when the
// publisher's binary message arrives, and then shared read-only by every
// subscriber: no field changes after Append returns it.
type Fragment struct {
	// Seq is the fragment's sequence number within its stream's epoch.
	Seq uint64
	// Duration in seconds, as the publisher declared it.
	Duration float64
	// Time is the publish wall-clock time in Unix milliseconds.
	Time int64
	// Arrival is when the fragment reached this node, by the local clock
	// (monotonic): the start of its delivery latency.
	Arrival time.Time
	// Disc marks a discontinuity before this fragment.
	Disc bool
	// Data holds the fragment's bytes (MPEG-TS). Never modify it.
	Data []byte

	// The F messages are formatted once per fragment, not once per viewer.
	baseHeader []byte
	extHeader  []byte
}

// Size is the number of bytes the fragment holds in memory.
func (f *Fragment) Size() int64 {
	return int64(len(f.Data) + len(f.baseHeader) + len(f.extHeader))
}

func (f *Fragment) encodeHeaders() {
	meta := f.meta(f.Disc)
	f.baseHeader = protocol.AppendFragment(nil, meta, false)
	f.extHeader = protocol.AppendFragment(nil, meta, true)
}

func (f *Fragment) meta(disc bool) protocol.Fragment {
	return protocol.Fragment{Duration: f.Duration, Seq: f.Seq, HasSeq: true, Time: f.Time, Disc: disc}
}

// Header returns the F message that precedes the fragment. ext selects the
// extension form; disc asks for a discontinuity marker that the fragment
// itself does not carry (a viewer skipped fragments before it).
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
