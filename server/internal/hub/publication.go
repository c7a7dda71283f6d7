package hub

// Input is a fragment as the publisher delivers it.
type Input struct {
	Duration float64
	Data     []byte // kept by the hub; the caller must not modify it afterwards
	Time     int64  // publish time, Unix ms; 0 = now
	Disc     bool
	Seq      uint64 // the publisher's number, used if HasSeq
	HasSeq   bool
}

// Publication is one publisher connection's hold on a stream. Its methods
// are called from that connection's goroutine only.
type Publication struct {
	stream   *Stream
	resumed  bool
	epoch    string
	next     uint64
	discNext bool // guarded by stream.mu

	onDisplaced func()
}

// Stream returns the stream being published.
func (p *Publication) Stream() *Stream { return p.stream }

// Resumed reports whether this publication continues a stream whose previous
// publisher dropped within the grace period, or took over from it.
func (p *Publication) Resumed() bool { return p.resumed }

// Epoch returns the stream instance's name.
func (p *Publication) Epoch() string { return p.epoch }

// Next returns the sequence number the next fragment gets, as of Publish.
func (p *Publication) Next() uint64 { return p.next }

// MarkDiscontinuity marks the next appended fragment with a discontinuity
// (used for base-protocol publishers that reconnected: the relay cannot
// know what they lost).
func (p *Publication) MarkDiscontinuity() {
	p.stream.mu.Lock()
	p.discNext = true
	p.stream.mu.Unlock()
}

// Append adds a fragment to the stream and wakes its subscribers. It returns
// false if the fragment was dropped: a retransmission of a sequence number
// the stream already has, or a publication that no longer owns the stream.
func (p *Publication) Append(in Input) (*Fragment, bool) {
	return p.stream.append(p, in)
}

// End ends the stream (the publisher sent CLOSE).
func (p *Publication) End() {
	s := p.stream
	s.mu.Lock()
	owner := s.publisher == p
	s.mu.Unlock()
	if owner {
		s.end()
	}
}

// Detach releases the stream after the publisher's connection dropped
// without CLOSE: it stays live for the grace period.
func (p *Publication) Detach() {
	p.stream.detach(p)
}
