package hub

// Sink receives a subscriber's fragments. Its methods are called from one
// goroutine at a time, never with hub locks held, and may block on the
// network.
type Sink interface {
	// WriteFragment delivers f. disc is true when fragments were skipped
	// before f for this subscriber. An error ends the subscription.
	WriteFragment(f *Fragment, disc bool) error
	// WriteEnd is called once, after the last fragment, when the stream
	// ended.
	WriteEnd()
}

// PartSink is a Sink that takes fragments in parts (fMP4/CMAF): a
// subscriber whose sink implements it and whose Start asks for Parts
// receives the init segment, each part as it arrives, and each fragment's
// closing F; fragments sent whole still arrive through WriteFragment.
type PartSink interface {
	Sink
	// WriteInit delivers the stream's init segment (again when it changes).
	WriteInit(init *Init) error
	// WritePart delivers part p of f; disc marks a discontinuity before it.
	WritePart(f *Fragment, p *Part, disc bool) error
	// WriteFragmentEnd delivers f's closing F, after its last part.
	WriteFragmentEnd(f *Fragment) error
}

// Start says where a new subscriber begins.
type Start struct {
	// Parts asks for fragments in parts; the sink must be a PartSink.
	// Without MaxInitial (-1) and resume, a subscriber in parts starts at
	// the stream's latest independent part.
	Parts bool
	// MaxInitial is how many buffered fragments to send first; -1 for all.
	MaxInitial int
	// Epoch and After resume a previous subscription: continue after
	// fragment After of stream instance Epoch. Used if Epoch is set.
	Epoch string
	After uint64
}

// Subscription is a subscriber's cursor into a stream's ring.
type Subscription struct {
	stream *Stream
	sink   Sink

	parts PartSink // set for a subscriber in parts

	// Guarded by stream.mu.
	next    uint64 // Seq of the next fragment due
	part    int    // with parts: index of the next part due of fragment next
	initGen uint64 // with parts: the init segment delivered last
	disc    bool   // report a discontinuity with the next fragment
	running bool   // a goroutine is writing to sink (or Start is pending)
	closed  bool
}

// Epoch returns the stream instance the subscription follows.
func (sub *Subscription) Epoch() string { return sub.stream.epoch }

// LiveEdge is the stream's LiveEdge.
func (sub *Subscription) LiveEdge() (next uint64, parts uint64) { return sub.stream.LiveEdge() }

func (s *Stream) subscribe(start Start, sink Sink) (*Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, ErrNotFound
	}
	if limit := s.hub.cfg.MaxSubscribers; limit > 0 && len(s.subs) >= limit {
		return nil, ErrTooManyViewers
	}
	sub := &Subscription{stream: s, sink: sink, running: true}
	if ps, ok := sink.(PartSink); ok && start.Parts {
		sub.parts = ps
	}
	if sub.parts != nil && start.MaxInitial < 0 && start.Epoch == "" {
		sub.next, sub.part = s.latestIndependent()
	} else {
		sub.next, sub.disc = s.startPosition(start)
		if sub.parts != nil && start.MaxInitial == 0 && start.Epoch == "" && s.open != nil {
			sub.next = s.open.Seq + 1 // "only new fragments": not the open one
		}
	}
	s.subs[sub] = struct{}{}
	return sub, nil
}

func (s *Stream) startPosition(start Start) (next uint64, disc bool) {
	if start.Epoch != "" {
		if start.Epoch == s.epoch && start.After < s.next {
			want := start.After + 1
			if want >= s.evictedEnd {
				return want, false
			}
			if f := s.ring.oldest(); f != nil {
				return f.Seq, true
			}
			return s.next, true
		}
		disc = true // another instance: start afresh, marked
	}
	switch {
	case start.MaxInitial < 0:
		if f := s.ring.oldest(); f != nil {
			return f.Seq, disc
		}
	case start.MaxInitial > 0:
		if f := s.ring.fromEnd(start.MaxInitial); f != nil {
			return f.Seq, disc
		}
	}
	return s.next, disc
}

// latestIndependent is where a new subscriber in parts starts: the newest
// part that starts with an independent frame (a fragment sent whole counts
// as one independent part), else the next fragment. Called with s.mu held.
func (s *Stream) latestIndependent() (seq uint64, part int) {
	if f := s.open; f != nil {
		for i := len(f.parts) - 1; i >= 0; i-- {
			if f.parts[i].Independent {
				return f.Seq, i
			}
		}
	}
	for k := 1; k <= s.ring.len(); k++ {
		f := s.ring.at(s.ring.len() - k)
		if f.Data != nil {
			return f.Seq, 0
		}
		for i := len(f.parts) - 1; i >= 0; i-- {
			if f.parts[i].Independent {
				return f.Seq, i
			}
		}
	}
	if s.open != nil {
		return s.open.Seq, 0
	}
	return s.next, 0
}

// Start begins delivery. Until it is called nothing is written to the sink.
func (sub *Subscription) Start() {
	go sub.drain()
}

// Close ends the subscription; a write in progress completes or fails on
// its own.
func (sub *Subscription) Close() {
	s := sub.stream
	s.mu.Lock()
	sub.closed = true
	delete(s.subs, sub)
	release := s.ended && len(s.subs) == 0
	s.mu.Unlock()
	if release {
		s.release()
	}
}

// wakeLocked starts a writer goroutine if none is running. Called with
// stream.mu held.
func (sub *Subscription) wakeLocked() {
	if !sub.running && !sub.closed {
		sub.running = true
		go sub.drain()
	}
}

// drain writes fragments to the sink until the subscriber is caught up.
func (sub *Subscription) drain() {
	for {
		d, ended := sub.due()
		if d.kind == deliverNothing {
			if ended {
				sub.sink.WriteEnd()
				sub.Close()
			}
			return
		}
		if err := sub.write(d); err != nil {
			sub.Close()
			return
		}
	}
}

type deliveryKind int

const (
	deliverNothing deliveryKind = iota
	deliverFragment
	deliverInit
	deliverPart
	deliverFragmentEnd
)

// delivery is one write due to a subscriber.
type delivery struct {
	kind deliveryKind
	frag *Fragment
	part *Part
	init *Init
	disc bool
}

func (sub *Subscription) write(d delivery) error {
	switch d.kind {
	case deliverInit:
		return sub.parts.WriteInit(d.init)
	case deliverPart:
		return sub.parts.WritePart(d.frag, d.part, d.disc)
	case deliverFragmentEnd:
		return sub.parts.WriteFragmentEnd(d.frag)
	}
	return sub.sink.WriteFragment(d.frag, d.disc)
}

// due returns the next write for the subscriber and advances its cursor.
// With nothing due it clears running (under the same lock as append checks
// it, so no wake-up is lost) and reports whether the stream ended.
func (sub *Subscription) due() (d delivery, ended bool) {
	s := sub.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.closed {
		sub.running = false
		return delivery{}, false
	}
	if sub.parts != nil && s.init != nil && sub.initGen != s.init.Gen {
		sub.initGen = s.init.Gen
		return delivery{kind: deliverInit, init: s.init}, false
	}
	if sub.next < s.evictedEnd {
		// Fell behind the ring: skip to the live edge.
		if newest := s.ring.newest(); newest != nil {
			s.hub.cfg.Metrics.SkippedFragments(newest.Seq - sub.next)
			sub.next, sub.part, sub.disc = newest.Seq, 0, true
		}
	}
	f := s.ring.firstAtOrAfter(sub.next)
	if f == nil && sub.parts != nil && s.open != nil && s.open.Seq >= sub.next {
		f = s.open
	}
	if f == nil {
		sub.running = false
		return delivery{}, s.ended
	}
	if f.Seq != sub.next {
		sub.next, sub.part = f.Seq, 0
	}
	if sub.parts == nil || f.Data != nil {
		d = delivery{kind: deliverFragment, frag: f, disc: sub.disc}
		sub.next, sub.part, sub.disc = f.Seq+1, 0, false
		return d, false
	}
	if sub.part < len(f.parts) {
		d = delivery{kind: deliverPart, frag: f, part: f.parts[sub.part], disc: sub.disc}
		sub.part++
		sub.disc = false
		return d, false
	}
	if f == s.open {
		sub.running = false // caught up with the open fragment
		return delivery{}, false
	}
	sub.next, sub.part = f.Seq+1, 0
	return delivery{kind: deliverFragmentEnd, frag: f}, false
}
