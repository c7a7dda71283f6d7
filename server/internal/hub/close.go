package hub

// Close ends the stream now, as its publisher's CLOSE would: every
// subscriber is written the fragments due to it, then its sink's WriteEnd.
// A publisher still attached can append nothing more (Append returns false);
// closing its connection is the caller's business.
func (s *Stream) Close() { s.endAs(false) }

// Drain ends the stream because this node stops serving it, not because the
// stream ended: as Close, but Draining reports true from then on, so that a
// sink tells its viewer to continue on another node instead of ending the
// stream for it. Every subscriber is still written the fragments due to it
// first.
func (s *Stream) Drain() { s.endAs(true) }

// Draining reports whether Drain ended the stream.
func (s *Stream) Draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// Stream returns the stream the subscription follows.
func (sub *Subscription) Stream() *Stream { return sub.stream }
