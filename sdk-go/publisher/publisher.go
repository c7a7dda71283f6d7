// Package publisher is the encoder side of hlsrelay: it pushes media
// fragments to a relay over one WebSocket, keeps them while the connection
// is down, and reconnects on its own.
//
// A Publisher sends PUSH with ext=1. A relay that supports the protocol
// extensions answers OK:ext=1&epoch=E&next=N; the publisher then numbers
// fragments (seq), stamps them with their time, and after a reconnect resends
// the fragments the relay lacks, so viewers see no gap. Its PUSH after a
// reconnect names the epoch it was publishing, so it takes over even if the
// relay has not yet noticed that the old connection died. A relay that speaks
// only the base protocol answers a plain OK and gets plain F:duration=D
// messages. See docs/protocol.md.
//
// # Retention
//
// The publisher retains at most Options.QueueLength fragments: those not yet
// written and, with the extensions, the last ones written (kept for a resend
// after a reconnect). When a new fragment would exceed the limit, the oldest
// goes; if it had not been written, the next fragment written is marked as a
// discontinuity. Send never blocks on the network.
//
// # Reconnection
//
// Any failure (dial error, relay error E, dropped connection, 60 s without
// anything from the relay) is reported to Options.OnError and followed by a
// new attempt after a delay: RetryDelay, doubling after each consecutive
// failure up to MaxRetryDelay, plus up to a quarter of random jitter; the
// delay starts again from RetryDelay once a relay accepts the PUSH. Relay
// errors are retried like any other, AUTH_ERROR, PROTOCOL_ERROR and
// STREAM_BUSY included: an encoder keeps trying until the operator fixes the
// secret or the other publisher of the stream goes away, and only Close
// stops it. One exception: after the relay answers E:code=UNAVAILABLE (a
// relay that drains sends its publishers elsewhere), the next attempt starts
// at once, so that the publisher reaches another node before its viewers,
// who wait their own retry delay, look for the stream there; never twice in
// a row.
//
// # Heartbeats
//
// The publisher sends H when it has sent nothing for 30 s, and treats a
// connection on which nothing arrived for 60 s as dead.
//
// # Parts
//
// With Options.Parts, an fMP4/CMAF stream goes out in parts as the encoder
// produces its chunks, for sub-second latency (docs/protocol.md, "Parts"):
// SendInit gives the init segment, SendPart adds a chunk to the open
// fragment (opening one if none is), and CloseFragment ends the fragment.
// Package sdk-go/cmaf splits an encoder's output into these pieces. The
// PUSH then carries parts=1; a relay that answers parts=1 receives I, P and
// closing F messages: the init segment before the first part and again
// after every reconnect, each part the moment it is sent, and after a
// reconnect the parts it lacks (from next_part). A relay that does not
// answer parts=1 receives each fragment whole, its parts concatenated, once
// it is closed; OnError is told so once, with ErrPartsUnsupported.
// Retention counts fragments alike, whole or in parts.
package publisher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// ErrClosed is returned by Send, SendInit, SendPart, CloseFragment and
// Close after Close was called.
var ErrClosed = errors.New("publisher closed")

// ErrPartsUnsupported is reported to Options.OnError, once per Publisher,
// when a publisher with Options.Parts connects to a relay that does not
// answer parts=1: fragments then go out whole, once closed, and the
// viewers lose the low latency of parts.
var ErrPartsUnsupported = errors.New("the relay does not take parts: fragments are sent whole")

// Options configure a Publisher. The zero value of each field selects its
// default. The callbacks run on the publisher's own goroutine, one at a
// time: they must return quickly and must not call Close (start a goroutine
// for that).
type Options struct {
	// URL is the ws:// or wss:// URL of the relay, including its WebSocket
	// path. Required unless URLFunc is set.
	URL string
	// URLFunc, if set, is called before each connection attempt and its
	// result used instead of URL (for example to pick a relay node). An
	// error counts as a failed attempt.
	URLFunc func(ctx context.Context) (string, error)
	// Stream is the stream id: 1 to 255 characters, no control characters.
	Stream string
	// Secret is the relay's PUSH secret. When set, a token is signed for
	// each connection attempt (token.Sign, valid for TokenTTL).
	Secret string
	// Token is a ready-made PUSH token, used when Secret is empty. With
	// both empty the PUSH carries an empty auth parameter (relays without a
	// PUSH secret accept it).
	Token string
	// TokenTTL is how long a token signed from Secret is valid. Defaults
	// to 1 hour. A connection stays up after its token expires: the relay
	// checks the token once, at PUSH.
	TokenTTL time.Duration
	// QueueLength is the most fragments retained (see the package
	// documentation). Defaults to 10.
	QueueLength int
	// RetryDelay is the delay before the first reconnection attempt after a
	// failure. Defaults to 1 s.
	RetryDelay time.Duration
	// MaxRetryDelay caps the delay between attempts as it doubles after
	// each consecutive failure. Defaults to 10 s, or RetryDelay if larger.
	MaxRetryDelay time.Duration
	// OnReady, if set, is called each time a relay accepts the PUSH.
	OnReady func()
	// OnError, if set, is called with each failure: dial and connection
	// errors, and the relay's E messages as a *protocol.Error (unwrapped);
	// and once with an error wrapping ErrPartsUnsupported (see Parts).
	OnError func(error)
	// Parts asks the relay for the parts extension (parts=1), for
	// publishing fMP4/CMAF fragments in parts with SendInit, SendPart and
	// CloseFragment. Defaults to false. It changes nothing for fragments
	// sent with Send.
	Parts bool
	// RelayTime leaves the publish time of fragments to the relay: F
	// messages carry no time (Fragment.Time is ignored), and the relay
	// stamps each fragment with the time it received it. Useful to measure
	// the delay from the relay to the viewer's screen.
	RelayTime bool
}

// Fragment is one media fragment to publish.
type Fragment struct {
	// Duration is the fragment's play time. Must not be negative.
	Duration time.Duration
	// Data holds the fragment's bytes (MPEG-TS). Must not be empty. Send
	// copies it: the caller may reuse the slice as soon as Send returns.
	Data []byte
	// Time is the publish or capture wall-clock time, sent to relays with
	// the extensions (millisecond precision). The zero value means the
	// time of the Send call (none with Options.RelayTime).
	Time time.Time
	// Disc marks a discontinuity before this fragment (encoder restart,
	// source switch).
	Disc bool
}

// Part is one part of a fragment published in parts: a CMAF chunk (one
// or more whole moof+mdat pairs, with the boxes before them).
type Part struct {
	// Duration is the part's play time. Must not be negative.
	Duration time.Duration
	// Data holds the part's bytes. Must not be empty. SendPart copies it.
	Data []byte
	// Independent says the part starts with a key frame: a decoder can
	// start there.
	Independent bool
	// Time is the capture wall-clock time, sent with the part (millisecond
	// precision). The zero value sends none: the relay stamps the part with
	// the time it received it, which is what latency measurements want.
	Time time.Time
	// Disc marks a discontinuity before this part (encoder restart, source
	// switch); the part starts a new fragment.
	Disc bool
}

// Publisher pushes fragments to a relay. Its methods are safe for
// concurrent use.
type Publisher struct {
	opts   Options
	timing relayconn.Timing
	// onRetry, if set, is told each delay before a new attempt (tests).
	onRetry func(time.Duration)

	mu        sync.Mutex
	q         queue
	closing   bool
	connected bool // a relay accepted the current connection
	flushed   bool // run ended after delivering CLOSE, or with nothing to deliver
	noParts   bool // ErrPartsUnsupported was reported

	wake   chan struct{} // signalled when the queue grows or Close is called
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

// New checks opts and returns a Publisher that starts connecting in the
// background. Call Close to stop it.
func New(opts Options) (*Publisher, error) {
	return newPublisher(opts, relayconn.DefaultTiming(), nil)
}

func newPublisher(opts Options, timing relayconn.Timing, onRetry func(time.Duration)) (*Publisher, error) {
	if err := normalize(&opts); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{
		opts:    opts,
		timing:  timing,
		onRetry: onRetry,
		q:       queue{limit: opts.QueueLength},
		wake:    make(chan struct{}, 1),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go p.run(ctx)
	return p, nil
}

func normalize(o *Options) error {
	switch {
	case o.URLFunc == nil && o.URL == "":
		return errors.New("set URL or URLFunc")
	case o.URLFunc == nil:
		if err := relayconn.CheckURL(o.URL); err != nil {
			return err
		}
	}
	if err := protocol.ValidateStreamID(o.Stream); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	if o.TokenTTL < 0 || o.QueueLength < 0 || o.RetryDelay < 0 || o.MaxRetryDelay < 0 {
		return errors.New("TokenTTL, QueueLength, RetryDelay and MaxRetryDelay must not be negative")
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.QueueLength == 0 {
		o.QueueLength = 10
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay == 0 {
		o.MaxRetryDelay = 10 * time.Second
	}
	o.MaxRetryDelay = max(o.MaxRetryDelay, o.RetryDelay)
	if o.Secret != "" {
		if _, err := token.Sign([]byte(o.Secret), token.Push, o.Stream, o.TokenTTL); err != nil {
			return err
		}
	}
	return nil
}

// Send queues f for publishing and returns at once; it fails only for an
// invalid fragment, a done ctx, or after Close (ErrClosed). If QueueLength
// fragments are already retained, the oldest is dropped (see the package
// documentation).
func (p *Publisher) Send(ctx context.Context, f Fragment) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publisher: send: %w", err)
	}
	if f.Duration < 0 {
		return fmt.Errorf("publisher: send: negative duration %v", f.Duration)
	}
	if len(f.Data) == 0 {
		return errors.New("publisher: send: empty fragment")
	}
	switch {
	case p.opts.RelayTime:
		f.Time = time.Time{}
	case f.Time.IsZero():
		f.Time = time.Now()
	}
	f.Data = bytes.Clone(f.Data)
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return ErrClosed
	}
	p.q.push(f) // closes a fragment open in parts
	p.mu.Unlock()
	p.signal()
	return nil
}

// SendInit sets the fMP4 init segment (ftyp + moov) of the parts sent
// after it; call it before the first SendPart and again whenever the
// encoder's init segment changes. A fragment open in parts is closed
// first: its parts need the previous init segment. SendInit copies init
// and returns at once; it fails only for an empty init, a done ctx, or
// after Close (ErrClosed).
func (p *Publisher) SendInit(ctx context.Context, init []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publisher: send init: %w", err)
	}
	if len(init) == 0 {
		return errors.New("publisher: send init: empty init segment")
	}
	init = bytes.Clone(init)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return ErrClosed
	}
	p.q.setInit(init)
	p.signal()
	return nil
}

// SendPart adds part to the fragment open in parts, opening a new fragment
// if none is open (or part.Disc is set), and returns at once: the part goes
// out as soon as the connection allows. It fails only for an invalid part,
// a part before any SendInit, a done ctx, or after Close (ErrClosed). A new
// fragment counts against QueueLength like a whole one (see the package
// documentation).
func (p *Publisher) SendPart(ctx context.Context, part Part) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publisher: send part: %w", err)
	}
	if part.Duration < 0 {
		return fmt.Errorf("publisher: send part: negative duration %v", part.Duration)
	}
	if len(part.Data) == 0 {
		return errors.New("publisher: send part: empty part")
	}
	part.Data = bytes.Clone(part.Data)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closing:
		return ErrClosed
	case p.q.init == nil:
		return errors.New("publisher: send part: no init segment (call SendInit first)")
	}
	p.q.addPart(part)
	p.signal()
	return nil
}

// CloseFragment closes the fragment open in parts: the relay gets its
// closing F (or, without parts, the whole fragment) and the next SendPart
// opens a new fragment. It does nothing if no fragment is open, and fails
// only for a done ctx or after Close (ErrClosed).
func (p *Publisher) CloseFragment(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publisher: close fragment: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return ErrClosed
	}
	p.q.closeOpen()
	p.signal()
	return nil
}

// Close closes the fragment open in parts, if any, sends the queued
// fragments, then CLOSE (the stream ended), closes the connection and stops
// the publisher. If the relay is unreachable it
// keeps trying until ctx is done; it returns at once if nothing is queued
// and no connection is up (the relay then ends the stream after its grace
// period). When ctx ends first, Close abandons what is left, stops, and
// returns an error wrapping ctx.Err(). Either way no goroutine of the
// publisher survives Close. Later calls return ErrClosed.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closing = true
	p.q.closeOpen()
	if !p.connected && p.q.unsent() == 0 {
		// Nothing to deliver and no connection to say CLOSE on: stop
		// now, even in the middle of a connection attempt.
		p.flushed = true
		p.cancel()
	}
	p.mu.Unlock()
	p.signal()

	select {
	case <-p.done:
	case <-ctx.Done():
	}
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flushed {
		return nil
	}
	return fmt.Errorf("publisher: close: %d fragments not sent: %w", p.q.unsent(), context.Cause(ctx))
}

// Closed reports whether Close was called.
func (p *Publisher) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing
}

func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
