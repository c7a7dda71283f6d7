package publisher

import (
	"slices"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// entry is one fragment the publisher retains: not yet written to the
// current connection, or written and kept for a resend after a reconnect.
// A fragment is either whole (Send) or made of parts (SendPart).
type entry struct {
	frag     Fragment // whole: as sent; in parts: Duration (so far), Time (first part's)
	seq      uint64
	numbered bool // seq is set (extension connections with numbering)
	disc     bool

	parted    bool
	parts     []Part
	init      *initSegment // the init segment the parts need
	closed    bool         // no part will be added
	sentParts int          // parts written to the current connection
}

// initSegment is an fMP4 init segment given to SendInit; entries share it
// and compare it by identity.
type initSegment struct {
	data []byte
}

// writeKind is what a write sends.
type writeKind int

const (
	writeWhole writeKind = iota // F + the fragment's bytes
	writeInit                   // I + the init segment
	writePart                   // P + a part
	writeEnd                    // F closing a fragment sent in parts
)

// write is the next message (and binary) to send.
type write struct {
	kind writeKind
	e    *entry
	frag protocol.Fragment // writeWhole, writeEnd
	part protocol.Part     // writePart
	data []byte
}

// queue holds the fragments a publisher retains, oldest first, and numbers
// them. Entries before next were completely written to the current
// connection; the rest wait (the one at next may be partly written: some
// of its parts). At most limit entries are retained in all: when a new
// fragment would exceed it, the oldest entry goes, a written one if there is
// one, and the loss of an unwritten one is marked as a discontinuity on the
// next fragment written.
//
// Numbering follows docs/protocol.md: on a connection whose OK carries
// ext=1 and next, fragments get consecutive seq values starting from next;
// after a reconnect to the same epoch, retained fragments the relay lacks
// (seq >= next) are written again with their seq, from part next_part for
// fragment next; a new epoch (the stream restarted) numbers the unwritten
// fragments afresh and marks the first with disc.
//
// Fragments in parts go out part by part on a connection whose OK carries
// parts=1, each group of them after its init segment (again after every
// reconnect); on other connections each goes whole once it is closed.
//
// queue is not safe for concurrent use; the Publisher guards it.
type queue struct {
	limit int
	items []*entry
	next  int // index of the first entry not completely written to the current connection

	ext       bool   // the current connection speaks the extensions
	numbering bool   // ...and its OK gave next: fragments carry seq
	parts     bool   // ...and its OK gave parts=1
	epoch     string // the stream instance of the last numbering connection
	nextSeq   uint64 // seq of the next fragment to number
	discNext  bool   // mark the next fragment written with disc

	init     *initSegment // the latest SendInit
	open     *entry       // the fragment SendPart adds to; nil if none
	sentInit *initSegment // the init segment written on the current connection
}

// push retains f and reports whether an unwritten fragment was dropped to
// make room.
func (q *queue) push(f Fragment) (dropped bool) {
	q.closeOpen()
	return q.pushEntry(&entry{frag: f, disc: f.Disc})
}

func (q *queue) pushEntry(e *entry) (dropped bool) {
	q.items = append(q.items, e)
	if len(q.items) <= q.limit {
		return false
	}
	q.items[0] = nil
	q.items = slices.Delete(q.items, 0, 1)
	if q.next > 0 {
		q.next-- // a written fragment went
		return false
	}
	q.discNext = true
	return true
}

// setInit makes data the init segment of the parts that follow. The open
// fragment, if any, is closed: its parts need the previous one.
func (q *queue) setInit(data []byte) {
	q.closeOpen()
	q.init = &initSegment{data: data}
}

// addPart adds p to the open fragment, or to a new one if none is open or p
// marks a discontinuity. It reports whether an unwritten fragment was
// dropped to make room.
func (q *queue) addPart(p Part) (dropped bool) {
	if p.Disc {
		q.closeOpen()
	}
	if q.open == nil {
		q.open = &entry{parted: true, init: q.init, disc: p.Disc, frag: Fragment{Time: p.Time}}
		dropped = q.pushEntry(q.open)
	}
	q.open.parts = append(q.open.parts, p)
	q.open.frag.Duration += p.Duration
	return dropped
}

// closeOpen closes the open fragment: it gets no more parts.
func (q *queue) closeOpen() {
	if q.open != nil {
		q.open.closed = true
		q.open = nil
	}
}

// unsent is the number of fragments not yet completely written to the
// current connection.
func (q *queue) unsent() int {
	return len(q.items) - q.next
}

// take returns the next write and marks it done, numbering its fragment if
// the connection numbers fragments. ok is false when nothing can be written
// now: the queue is empty, or the next fragment is still open and all its
// parts are written (or, on a connection without parts, it is not closed).
func (q *queue) take() (w write, ok bool) {
	if q.next >= len(q.items) {
		return write{}, false
	}
	e := q.items[q.next]
	switch {
	case !e.parted || !q.parts:
		if e.parted && !e.closed {
			return write{}, false // sent whole once complete
		}
		q.next++
		q.number(e, true)
		w = write{kind: writeWhole, e: e, frag: q.header(e), data: e.frag.Data}
		if e.parted {
			w.data = concat(e.parts)
		}
		return w, true
	case e.sentParts < len(e.parts):
		if q.sentInit != e.init {
			q.sentInit = e.init
			return write{kind: writeInit, e: e, data: e.init.data}, true
		}
		i := e.sentParts
		e.sentParts++
		q.number(e, i == 0)
		p := e.parts[i]
		return write{kind: writePart, e: e, data: p.Data, part: protocol.Part{
			Seq:         e.seq,
			HasSeq:      e.numbered,
			Index:       uint64(i),
			Duration:    p.Duration.Seconds(),
			Independent: p.Independent,
			Time:        unixMilli(p.Time),
			Disc:        i == 0 && e.disc,
		}}, true
	case e.closed:
		q.next++
		q.number(e, false)
		h := q.header(e)
		h.Disc = false // said on the first part
		h.Parts = uint64(len(e.parts))
		return write{kind: writeEnd, e: e, frag: h}, true
	}
	return write{}, false
}

// number gives e its seq on a numbering connection, and the pending
// discontinuity mark if first (e's first message on this connection starts
// the fragment).
func (q *queue) number(e *entry, first bool) {
	if first && q.discNext {
		e.disc, q.discNext = true, false
	}
	if q.numbering && !e.numbered {
		e.seq, e.numbered = q.nextSeq, true
		q.nextSeq++
	}
}

// header is the F message of e.
func (q *queue) header(e *entry) protocol.Fragment {
	return protocol.Fragment{
		Duration: e.frag.Duration.Seconds(),
		Seq:      e.seq,
		HasSeq:   q.numbering && e.numbered,
		Time:     unixMilli(e.frag.Time),
		Disc:     e.disc,
	}
}

// unixMilli is t in Unix milliseconds, 0 (absent) for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixMilli(), 0)
}

func concat(parts []Part) []byte {
	n := 0
	for _, p := range parts {
		n += len(p.Data)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p.Data...)
	}
	return b
}

// requeue puts back what a failed write took, so that it is written again
// (with the same seq, if it has one) on the next connection.
func (q *queue) requeue(w write) {
	switch w.kind {
	case writeInit:
		q.sentInit = nil
	case writePart:
		w.e.sentParts = max(w.e.sentParts-1, 0)
	}
	if i := slices.Index(q.items[:q.next], w.e); i >= 0 {
		q.next = i
	}
}

// accept starts a new connection that the relay answered with ok.
func (q *queue) accept(ok protocol.OK) {
	numbering := ok.Ext && ok.HasNext
	parts := ok.Ext && ok.Parts
	same := numbering && q.epoch != "" && ok.Epoch == q.epoch
	kept := q.items[:0]
	for i, e := range q.items {
		switch {
		case same && e.numbered:
			if e.seq < ok.Next {
				continue // the relay has it
			}
		case i < q.next:
			continue // written to a relay that cannot tell whether it arrived
		default:
			e.numbered = false // numbered afresh on this connection
		}
		e.sentParts = 0
		if parts && same && e.numbered && e.seq == ok.Next {
			// The relay holds the first next_part parts of it.
			e.sentParts = min(int(min(ok.NextPart, uint64(len(e.parts)))), len(e.parts))
		}
		kept = append(kept, e)
	}
	clear(q.items[len(kept):])
	q.items, q.next = kept, 0
	if q.open != nil && !slices.Contains(q.items, q.open) {
		// The relay has moved past the open fragment (another publisher
		// pushed in between): the next parts start a new one.
		q.open = nil
	}
	q.ext, q.numbering, q.parts = ok.Ext, numbering, parts
	q.sentInit = nil
	if !numbering {
		return
	}
	switch {
	case !same:
		if q.epoch != "" {
			q.discNext = true // the stream restarted
		}
		q.nextSeq = ok.Next
	case ok.Next > q.nextSeq:
		// The relay has fragments this publisher did not send (another
		// publisher pushed in between).
		q.discNext = true
		q.nextSeq = ok.Next
	}
	q.epoch = ok.Epoch
}
