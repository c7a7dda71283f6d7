// Package subscriber is the viewer side of hlsrelay: it pulls a stream from
// a relay over a WebSocket and yields its fragments in order, reconnecting
// and resuming on its own.
//
// A Subscriber sends PULL with ext=1. With a relay that supports the
// protocol extensions, fragments carry the stream instance (Epoch), a
// sequence number (Seq) and their publish time, and after a reconnect the
// PULL names the last fragment received (epoch and after), so the relay
// continues right after it: no gap, no duplicate. A relay that speaks only
// the base protocol answers a plain OK; fragments then have no Seq, and after
// a reconnect the first fragment is marked Disc unless it provably follows
// the last one received (fragments the relay sends again are recognised by
// their bytes and skipped). See docs/protocol.md.
//
// # Reconnection
//
// A dropped connection, a relay error other than the fatal ones below, or
// 60 s without anything from the relay is reported to Options.OnError and
// followed by a new attempt after RetryDelay, doubling after each
// consecutive failure up to MaxRetryDelay (plus up to a quarter of random
// jitter). AUTH_ERROR and PROTOCOL_ERROR are fatal: retrying would get the
// same answer, so Next returns them as a *protocol.Error and the subscriber
// stops. A relay that drains says E:code=UNAVAILABLE and closes with status
// 1001: that is not the end of the stream; the subscriber connects again
// (through a load balancer, to another node) and resumes there.
//
// # Flow control
//
// The subscriber reads from the relay only while a fragment is wanted: it
// holds at most one fragment that Next has not returned yet. A viewer that
// calls Next too slowly leaves the data in the network, and the relay skips
// it ahead (the next fragment is marked Disc) or disconnects it, after which
// the subscriber resumes. Heartbeats go out every 30 s regardless.
//
// # Parts
//
// With Options.Parts the PULL asks for the parts extension (parts=1), and a
// relay that supports it sends fMP4/CMAF streams in parts
// (docs/protocol.md, "Parts"). Next then returns, besides whole fragments,
// values of other kinds (Fragment.Kind): the stream's init segment
// (InitSegment, again only when it changes), each part of a fragment as
// the relay forwards it (FragmentPart), and the end of each such fragment
// (FragmentEnd). A viewer that joins while a fragment is being published
// gets the parts from the latest independent one on, then its end. Resume
// stays per fragment: after a reconnect the relay continues with the first
// part of the fragment after the last one that ended, and the parts of it
// already returned are skipped, so no part comes twice. A fragment whose
// end never comes (the relay skipped ahead) is followed by a value marked
// Disc.
package subscriber

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("subscriber closed")

// DefaultMaxFragmentSize is the default of Options.MaxFragmentSize: 50 MiB,
// the relay's default MAX_BINARY_MESSAGE_SIZE.
const DefaultMaxFragmentSize = 50 << 20

// Options configure a Subscriber. The zero value of each field selects its
// default. OnError runs on the subscriber's own goroutine: it must return
// quickly and must not call Close (start a goroutine for that).
type Options struct {
	// URL is the ws:// or wss:// URL of the relay, including its WebSocket
	// path. Required.
	URL string
	// Stream is the stream id: 1 to 255 characters, no control characters.
	Stream string
	// Secret is the relay's PULL secret. When set, a token is signed for
	// each connection attempt (token.Sign, valid for TokenTTL).
	Secret string
	// Token is a ready-made PULL token, used when Secret is empty. With
	// both empty the PULL carries an empty auth parameter.
	Token string
	// TokenTTL is how long a token signed from Secret is valid. Defaults
	// to 1 hour.
	TokenTTL time.Duration
	// MaxInitialFragments bounds how many already buffered fragments the
	// relay sends first: 0 (the default) means all of them, N > 0 the N
	// newest, and a negative value none (only fragments published from now
	// on). A resuming reconnect continues where it stopped instead.
	MaxInitialFragments int
	// OnlySource asks the relay to serve the stream only if it has it
	// itself, never fetching it from another node.
	OnlySource bool
	// RetryDelay is the delay before the first reconnection attempt after a
	// failure. Defaults to 1 s.
	RetryDelay time.Duration
	// MaxRetryDelay caps the delay between attempts as it doubles after
	// each consecutive failure. Defaults to 10 s, or RetryDelay if larger.
	MaxRetryDelay time.Duration
	// MaxFragmentSize is the largest fragment accepted, in bytes. A larger
	// one is skipped (reported to OnError; the next fragment is marked
	// Disc). Defaults to DefaultMaxFragmentSize.
	MaxFragmentSize int64
	// OnError, if set, is called with each failure: connection errors,
	// skipped fragments, and the relay's E messages as a *protocol.Error
	// (unwrapped), the fatal one included.
	OnError func(error)
	// Parts asks the relay to send fMP4/CMAF streams in parts (see the
	// package documentation). Defaults to false: every fragment comes
	// whole.
	Parts bool
}

// Kind says what a Fragment carries.
type Kind uint8

const (
	// WholeFragment is a fragment with all its bytes, as in the base
	// protocol. Without Options.Parts every Fragment is one.
	WholeFragment Kind = iota
	// InitSegment carries the stream's fMP4 init segment (ftyp + moov) in
	// Data: the parts that follow need it.
	InitSegment
	// FragmentPart is part Part of fragment Seq: Data holds one or more
	// moof+mdat chunks of Duration; Independent says it starts with a key
	// frame.
	FragmentPart
	// FragmentEnd closes fragment Seq after its Parts parts, of Duration in
	// all. It has no Data: the fragment's bytes are its parts'.
	FragmentEnd
)

func (k Kind) String() string {
	switch k {
	case WholeFragment:
		return "fragment"
	case InitSegment:
		return "init segment"
	case FragmentPart:
		return "part"
	case FragmentEnd:
		return "fragment end"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Fragment is one media fragment of the stream or, with Options.Parts, an
// init segment, a part of a fragment, or the end of one (Kind).
type Fragment struct {
	// Kind says what the value carries. The fields below apply to every
	// kind unless their comment says otherwise.
	Kind Kind
	// Epoch names the stream instance (extensions only); Seq is only
	// comparable within one epoch.
	Epoch string
	// Seq is the fragment's sequence number, valid if HasSeq (extensions
	// only).
	Seq    uint64
	HasSeq bool
	// Duration is the fragment's play time.
	Duration time.Duration
	// Time is the publish wall-clock time (extensions only; zero if
	// unknown). Latency is time.Since(Time).
	Time time.Time
	// Disc marks a discontinuity before this fragment: fragments were
	// skipped, the stream restarted, or the publisher marked one.
	Disc bool
	// Data holds the fragment's bytes (or the part's, or the init
	// segment's; nil for FragmentEnd). It belongs to the caller.
	Data []byte
	// Part is the part's index in its fragment, from 0 (FragmentPart).
	Part uint64
	// Independent says the part starts with a key frame (FragmentPart).
	Independent bool
	// Parts is the number of parts of the fragment (FragmentEnd).
	Parts uint64
}

// Subscriber pulls one stream. Its methods are safe for concurrent use;
// each fragment goes to one Next call.
type Subscriber struct {
	opts   Options
	timing relayconn.Timing

	out    chan Fragment // unbuffered: the run goroutine hands over fragments
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	err    error         // why run returned; read after done
	closed atomic.Bool
	once   sync.Once
}

// New checks opts and returns a Subscriber that starts connecting in the
// background. Call Close to stop it.
func New(opts Options) (*Subscriber, error) {
	return newSubscriber(opts, relayconn.DefaultTiming())
}

func newSubscriber(opts Options, timing relayconn.Timing) (*Subscriber, error) {
	if err := normalize(&opts); err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Subscriber{
		opts:   opts,
		timing: timing,
		out:    make(chan Fragment),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go s.run(ctx)
	return s, nil
}

func normalize(o *Options) error {
	if err := relayconn.CheckURL(o.URL); err != nil {
		return err
	}
	if err := protocol.ValidateStreamID(o.Stream); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	if o.TokenTTL < 0 || o.RetryDelay < 0 || o.MaxRetryDelay < 0 || o.MaxFragmentSize < 0 {
		return errors.New("TokenTTL, RetryDelay, MaxRetryDelay and MaxFragmentSize must not be negative")
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay == 0 {
		o.MaxRetryDelay = 10 * time.Second
	}
	o.MaxRetryDelay = max(o.MaxRetryDelay, o.RetryDelay)
	if o.MaxFragmentSize == 0 {
		o.MaxFragmentSize = DefaultMaxFragmentSize
	}
	if o.Secret != "" {
		if _, err := token.Sign([]byte(o.Secret), token.Pull, o.Stream, o.TokenTTL); err != nil {
			return err
		}
	}
	return nil
}

// Next returns the next fragment (or, with Options.Parts, init segment,
// part or fragment end), waiting for it as long as ctx allows (a
// done ctx does not disturb the connection). It returns io.EOF once the
// relay said the stream ended (CLOSE; also the answer for a stream the relay
// cannot find), a *protocol.Error after a fatal relay error, and ErrClosed
// after Close.
func (s *Subscriber) Next(ctx context.Context) (Fragment, error) {
	if s.closed.Load() {
		return Fragment{}, ErrClosed
	}
	select {
	case f := <-s.out:
		return f, nil
	case <-s.done:
		if s.closed.Load() {
			return Fragment{}, ErrClosed
		}
		return Fragment{}, s.err
	case <-ctx.Done():
		return Fragment{}, ctx.Err()
	}
}

// Close disconnects and stops the subscriber; it returns once its
// goroutines have ended. Calling it again does nothing.
func (s *Subscriber) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.cancel()
		<-s.done
	})
	return nil
}
