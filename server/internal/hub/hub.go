// Package hub holds the live streams of a relay node: each stream's ring of
// recent fragments, its publisher, and its subscribers.
//
// Fan-out rules (see RATIONALE.md, "Why are subscribers cursors?"):
//   - a fragment is stored once and shared by every subscriber;
//   - a subscriber is a cursor into its stream's ring; a goroutine writes to
//     it only while it has fragments due, so an idle viewer costs no goroutine;
//   - a subscriber that falls behind the ring skips ahead to the newest
//     fragment and learns of the gap (disc); a publisher never waits for a
//     viewer;
//   - every stream's ring is bounded in fragments and bytes, and the hub
//     bounds the bytes of all rings together.
package hub

import (
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// Errors returned by the hub.
var (
	// ErrStreamBusy: the stream has a connected publisher already.
	ErrStreamBusy = errors.New("stream is being published by another connection")
	// ErrNotFound: no live stream has that id.
	ErrNotFound = errors.New("stream not found")
	// ErrTooManyStreams: the hub holds Config.MaxStreams streams already.
	ErrTooManyStreams = errors.New("too many live streams on this node")
	// ErrTooManyViewers: the stream has Config.MaxSubscribers subscribers
	// already.
	ErrTooManyViewers = errors.New("too many viewers of this stream on this node")
)

// Config bounds the hub's memory and sets the publisher grace period.
type Config struct {
	// RingLength is the most fragments a stream keeps. Defaults to 10.
	RingLength int
	// StreamMaxBytes bounds the bytes a stream keeps. 0 means no bound
	// beyond RingLength.
	StreamMaxBytes int64
	// TotalMaxBytes bounds the bytes of all streams together. 0 means no
	// bound.
	TotalMaxBytes int64
	// PublisherGrace is how long a stream stays live after its publisher's
	// connection dropped without CLOSE. 0 ends the stream at once.
	PublisherGrace time.Duration
	// MaxStreams bounds the live streams, published here or pulled from
	// another node; Publish refuses a new one with ErrTooManyStreams. 0
	// means no bound.
	MaxStreams int
	// MaxFragmentBytes bounds the bytes of a fragment sent in parts, as
	// the message size limit bounds one sent whole; 0 means no bound.
	MaxFragmentBytes int64
	// MaxSubscribers bounds the subscribers of one stream; Subscribe
	// refuses one more with ErrTooManyViewers. 0 means no bound.
	MaxSubscribers int
	// Metrics, when set, counts the fragments that slow subscribers skip.
	Metrics *metrics.Metrics
	// OnStreamStart and OnStreamEnd, when set, are called (without locks
	// held) when a stream starts and ends.
	OnStreamStart func(id string)
	OnStreamEnd   func(id string)
}

// Hub is the set of live streams of one relay node. It is safe for
// concurrent use.
type Hub struct {
	cfg        Config
	totalBytes atomic.Int64

	mu      sync.Mutex
	streams map[string]*Stream
}

// New returns an empty hub.
func New(cfg Config) *Hub {
	if cfg.RingLength <= 0 {
		cfg.RingLength = 10
	}
	return &Hub{cfg: cfg, streams: make(map[string]*Stream)}
}

// TotalBytes returns the bytes held by all rings.
func (h *Hub) TotalBytes() int64 { return h.totalBytes.Load() }

// Stream returns the live stream id, or nil.
func (h *Hub) Stream(id string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[id]
}

// Streams returns the live streams.
func (h *Hub) Streams() []*Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Stream, 0, len(h.streams))
	for _, s := range h.streams {
		out = append(out, s)
	}
	return out
}

// PublishOptions are the optional parts of Publish.
type PublishOptions struct {
	// Epoch, when it names the stream's current instance, lets the caller
	// take over from a publisher that is still attached (a reconnect the
	// relay has not noticed yet): the old publication is displaced.
	Epoch string
	// OnDisplaced is called (without locks held) if another publication
	// takes over this one.
	OnDisplaced func()
}

// Publish makes the caller the publisher of stream id. If the stream is live
// without a publisher (inside its grace period) the caller continues it;
// otherwise a new stream instance starts. It fails with ErrStreamBusy if the
// stream has a publisher, unless opts.Epoch names the stream's instance, and
// with ErrTooManyStreams if a new instance would exceed MaxStreams.
func (h *Hub) Publish(id string, opts PublishOptions) (*Publication, error) {
	h.mu.Lock()
	s := h.streams[id]
	if s != nil {
		pub, displaced, err := s.attach(opts)
		h.mu.Unlock()
		if displaced != nil && displaced.onDisplaced != nil {
			displaced.onDisplaced()
		}
		return pub, err
	}
	if h.cfg.MaxStreams > 0 && len(h.streams) >= h.cfg.MaxStreams {
		h.mu.Unlock()
		return nil, ErrTooManyStreams
	}
	s = newStream(h, id)
	h.streams[id] = s
	pub, _, err := s.attach(opts)
	h.mu.Unlock()
	if h.cfg.OnStreamStart != nil {
		h.cfg.OnStreamStart(id)
	}
	return pub, err
}

// Subscribe adds a subscriber to stream id starting at start. Nothing is
// written to sink until the returned subscription's Start is called, so the
// caller can answer the viewer first. It fails with ErrNotFound if the stream
// is not live, and with ErrTooManyViewers if it has MaxSubscribers already.
func (h *Hub) Subscribe(id string, start Start, sink Sink) (*Subscription, error) {
	s := h.Stream(id)
	if s == nil {
		return nil, ErrNotFound
	}
	return s.subscribe(start, sink)
}

func (h *Hub) overTotal() bool {
	return h.cfg.TotalMaxBytes > 0 && h.totalBytes.Load() > h.cfg.TotalMaxBytes
}

// enforceTotal evicts the oldest fragment of the stream that holds the most
// bytes until the hub is within TotalMaxBytes, so that one large stream
// cannot starve the others. Each stream keeps its newest fragment, so the
// bound can be exceeded by at most one fragment per stream.
func (h *Hub) enforceTotal() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.overTotal() {
		var largest *Stream
		var largestBytes int64
		for _, s := range h.streams {
			s.mu.Lock()
			if s.ring.len() > 1 && s.bytes > largestBytes {
				largest, largestBytes = s, s.bytes
			}
			s.mu.Unlock()
		}
		if largest == nil {
			return
		}
		largest.mu.Lock()
		if largest.ring.len() > 1 {
			largest.evictOldest()
		}
		largest.mu.Unlock()
	}
}

// remove forgets s if it is still the live stream of its id.
func (h *Hub) remove(s *Stream) {
	h.mu.Lock()
	removed := h.streams[s.id] == s
	if removed {
		delete(h.streams, s.id)
	}
	h.mu.Unlock()
	if removed && h.cfg.OnStreamEnd != nil {
		h.cfg.OnStreamEnd(s.id)
	}
}

const epochAlphabet = "0123456789abcdefghijklmnopqrstuv"

// newEpoch names a stream instance: 10 random base-32 characters.
func newEpoch() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = epochAlphabet[b[i]&31]
	}
	return string(b[:])
}
