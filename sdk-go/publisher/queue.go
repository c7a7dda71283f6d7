package publisher

import (
	"slices"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// entry is one fragment the publisher retains: not yet written to the
// current connection, or written and kept for a resend after a reconnect.
type entry struct {
	frag     Fragment
	seq      uint64
	numbered bool // seq is set (extension connections with numbering)
	disc     bool
}

// queue holds the fragments a publisher retains, oldest first, and numbers
// them. Entries before next were written to the current connection; the
// rest wait. At most limit entries are retained in all: when a new fragment
// would exceed it, the oldest entry goes, a written one if there is one, and
// the loss of an unwritten one is marked as a discontinuity on the next
// fragment written.
//
// Numbering follows docs/protocol.md: on a connection whose OK carries
// ext=1 and next, fragments get consecutive seq values starting from next;
// after a reconnect to the same epoch, retained fragments the relay lacks
// (seq >= next) are written again with their seq; a new epoch (the stream
// restarted) numbers the unwritten fragments afresh and marks the first
// with disc.
//
// queue is not safe for concurrent use; the Publisher guards it.
type queue struct {
	limit int
	items []*entry
	next  int // index of the first entry not written to the current connection

	ext       bool   // the current connection speaks the extensions
	numbering bool   // ...and its OK gave next: fragments carry seq
	epoch     string // the stream instance of the last numbering connection
	nextSeq   uint64 // seq of the next fragment to number
	discNext  bool   // mark the next fragment written with disc
}

// push retains f and reports whether an unwritten fragment was dropped to
// make room.
func (q *queue) push(f Fragment) (dropped bool) {
	q.items = append(q.items, &entry{frag: f, disc: f.Disc})
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

// unsent is the number of fragments not yet written to the current
// connection.
func (q *queue) unsent() int {
	return len(q.items) - q.next
}

// take marks the next unwritten fragment written, numbering it if the
// connection numbers fragments, and returns it with its F message.
func (q *queue) take() (*entry, protocol.Fragment, bool) {
	if q.next >= len(q.items) {
		return nil, protocol.Fragment{}, false
	}
	e := q.items[q.next]
	q.next++
	if q.discNext {
		e.disc, q.discNext = true, false
	}
	if q.numbering && !e.numbered {
		e.seq, e.numbered = q.nextSeq, true
		q.nextSeq++
	}
	h := protocol.Fragment{
		Duration: e.frag.Duration.Seconds(),
		Seq:      e.seq,
		HasSeq:   q.numbering && e.numbered,
		Time:     max(e.frag.Time.UnixMilli(), 0),
		Disc:     e.disc,
	}
	return e, h, true
}

// requeue puts back a fragment whose write failed, so that it is written
// again (with the same seq, if it has one) on the next connection.
func (q *queue) requeue(e *entry) {
	if i := slices.Index(q.items[:q.next], e); i >= 0 {
		q.next = i
	}
}

// accept starts a new connection that the relay answered with ok.
func (q *queue) accept(ok protocol.OK) {
	numbering := ok.Ext && ok.HasNext
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
		kept = append(kept, e)
	}
	clear(q.items[len(kept):])
	q.items, q.next = kept, 0
	q.ext, q.numbering = ok.Ext, numbering
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
