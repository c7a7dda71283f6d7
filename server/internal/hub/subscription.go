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

// Start says where a new subscriber begins.
type Start struct {
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

	// Guarded by stream.mu.
	next    uint64 // Seq of the next fragment due
	disc    bool   // report a discontinuity with the next fragment
	running bool   // a goroutine is writing to sink (or Start is pending)
	closed  bool
}

// Epoch returns the stream instance the subscription follows.
func (sub *Subscription) Epoch() string { return sub.stream.epoch }

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
	sub.next, sub.disc = s.startPosition(start)
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
		f, disc, ended := sub.due()
		if f == nil {
			if ended {
				sub.sink.WriteEnd()
				sub.Close()
			}
			return
		}
		if err := sub.sink.WriteFragment(f, disc); err != nil {
			sub.Close()
			return
		}
	}
}

// due returns the next fragment for the subscriber and advances its cursor.
// With no fragment due it clears running (under the same lock as append
// checks it, so no wake-up is lost) and reports whether the stream ended.
func (sub *Subscription) due() (f *Fragment, disc, ended bool) {
	s := sub.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.closed {
		sub.running = false
		return nil, false, false
	}
	if sub.next < s.evictedEnd {
		// Fell behind the ring: skip to the live edge.
		if newest := s.ring.newest(); newest != nil {
			s.hub.cfg.Metrics.SkippedFragments(newest.Seq - sub.next)
			sub.next, sub.disc = newest.Seq, true
		}
	}
	f = s.ring.firstAtOrAfter(sub.next)
	if f == nil {
		sub.running = false
		return nil, false, s.ended
	}
	disc = sub.disc
	sub.next, sub.disc = f.Seq+1, false
	return f, disc, false
}
