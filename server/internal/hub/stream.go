package hub

import (
	"sync"
	"time"
)

// Stream is one live stream instance: its ring of recent fragments, its
// publisher (if connected) and its subscribers.
type Stream struct {
	hub     *Hub
	id      string
	epoch   string
	started time.Time

	mu   sync.Mutex
	ring ring
	open *Fragment // the fragment whose parts are arriving, not yet in the ring
	init *Init     // the newest fMP4 init segment, for parts viewers
	// initChanged marks the next fragment as a discontinuity: it decodes
	// with a new init segment, whichever publisher sends it.
	initChanged bool
	bytes       int64
	next        uint64 // Seq of the next fragment
	evictedEnd  uint64 // every Seq below this has been evicted
	subs        map[*Subscription]struct{}
	publisher   *Publication // nil while no publisher is connected
	graceTimer  *time.Timer
	graceGen    uint64 // tells a stale grace timer from the current one
	ended       bool
	draining    bool   // ended by Drain: viewers continue on another node
	win         window // for readers that poll the ring (window.go)
}

func newStream(h *Hub, id string) *Stream {
	return &Stream{
		hub:     h,
		id:      id,
		epoch:   newEpoch(),
		started: time.Now(),
		subs:    make(map[*Subscription]struct{}),
	}
}

// ID returns the stream id.
func (s *Stream) ID() string { return s.id }

// Epoch returns the name of this stream instance.
func (s *Stream) Epoch() string { return s.epoch }

// Stats is a snapshot of a stream.
type Stats struct {
	ID          string
	Epoch       string
	Started     time.Time
	Next        uint64
	Fragments   int
	Bytes       int64
	Subscribers int
	Publishing  bool
}

// Stats returns a snapshot of the stream.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		ID: s.id, Epoch: s.epoch, Started: s.started, Next: s.next,
		Fragments: s.ring.len(), Bytes: s.bytes, Subscribers: len(s.subs),
		Publishing: s.publisher != nil,
	}
}

// attach makes a new publication, displacing the current one if opts.Epoch
// names this instance. Called with hub.mu held.
func (s *Stream) attach(opts PublishOptions) (pub, displaced *Publication, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, nil, ErrStreamBusy
	}
	if s.publisher != nil {
		if opts.Epoch == "" || opts.Epoch != s.epoch {
			return nil, nil, ErrStreamBusy
		}
		displaced = s.publisher
	}
	resumed := displaced != nil || s.graceTimer != nil
	if s.graceTimer != nil {
		s.graceTimer.Stop()
		s.graceTimer = nil
	}
	pub = &Publication{stream: s, resumed: resumed, epoch: s.epoch, next: s.next, onDisplaced: opts.OnDisplaced}
	s.publisher = pub
	return pub, displaced, nil
}

// append stores f as the stream's newest fragment, evicts what the bounds
// require and wakes the subscribers that wait for it.
func (s *Stream) append(p *Publication, in Input) (*Fragment, bool) {
	f, ok := s.appendLocked(p, in, time.Now())
	if ok && s.hub.overTotal() {
		s.hub.enforceTotal()
	}
	return f, ok
}

func (s *Stream) appendLocked(p *Publication, in Input, now time.Time) (*Fragment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p || s.ended {
		return nil, false
	}
	s.closeOpenLocked(nil) // a whole fragment follows an unclosed one
	disc := in.Disc || p.discNext || s.initChanged
	s.initChanged = false
	seq := s.next
	if in.HasSeq {
		if in.Seq < s.next {
			return nil, false // a retransmission the stream already has
		}
		if in.Seq > s.next {
			disc, seq = true, in.Seq
		}
	}
	p.discNext = false
	f := &Fragment{Seq: seq, Duration: in.Duration, Time: in.Time, Disc: disc, Data: in.Data, Arrival: now, Init: s.init}
	if f.Time == 0 {
		f.Time = now.UnixMilli()
	}
	f.encodeHeaders()
	s.next = seq + 1
	s.ring.push(f)
	s.win.appended(f)
	s.bytes += f.Size()
	s.hub.totalBytes.Add(f.Size())
	s.evict()
	for sub := range s.subs {
		sub.wakeLocked()
	}
	return f, true
}

// evict drops the oldest fragments while a bound of the stream is
// exceeded; the newest fragment always stays.
func (s *Stream) evict() {
	cfg := &s.hub.cfg
	for s.ring.len() > 1 {
		over := s.ring.len() > cfg.RingLength ||
			(cfg.StreamMaxBytes > 0 && s.bytes > cfg.StreamMaxBytes)
		if !over {
			return
		}
		s.evictOldest()
	}
}

func (s *Stream) evictOldest() {
	f := s.ring.popOldest()
	s.bytes -= f.Size()
	s.hub.totalBytes.Add(-f.Size())
	s.evictedEnd = f.Seq + 1
}

// detach is called when the publisher's connection dropped without CLOSE.
func (s *Stream) detach(p *Publication) {
	s.mu.Lock()
	if s.publisher != p || s.ended {
		s.mu.Unlock()
		return
	}
	s.publisher = nil
	grace := s.hub.cfg.PublisherGrace
	if grace > 0 {
		s.graceGen++
		gen := s.graceGen
		s.graceTimer = time.AfterFunc(grace, func() { s.graceExpired(gen) })
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.end()
}

func (s *Stream) graceExpired(gen uint64) {
	s.mu.Lock()
	expired := s.graceGen == gen && s.graceTimer != nil && s.publisher == nil
	s.mu.Unlock()
	if expired {
		s.end()
	}
}

// end marks the stream ended: subscribers get what is due to them, then
// their sink's WriteEnd. The hub forgets the stream, so a new PUSH starts a
// new instance.
func (s *Stream) end() { s.endAs(false) }

// endAs is end; draining records that the node stops serving the stream
// (Drain) rather than that the stream ended.
func (s *Stream) endAs(draining bool) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.closeOpenLocked(nil) // what arrived of it is delivered
	s.ended = true
	s.draining = draining
	s.win.ended(&s.ring)
	s.publisher = nil
	if s.graceTimer != nil {
		s.graceTimer.Stop()
		s.graceTimer = nil
	}
	for sub := range s.subs {
		sub.wakeLocked()
	}
	s.mu.Unlock()
	s.hub.remove(s)
	s.release()
}

// release returns the ring's bytes to the hub's total once the stream has
// ended. Subscribers still draining keep the fragments they hold alive; the
// total only bounds what rings retain.
func (s *Stream) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) > 0 {
		return // the last subscriber to leave releases
	}
	s.hub.totalBytes.Add(-s.bytes)
	s.bytes = 0
	s.ring = ring{}
}
