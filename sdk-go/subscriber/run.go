package subscriber

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/backoff"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// run connects, reads, and reconnects after failures until the stream
// ends, a fatal error occurs, or the subscriber is closed.
func (s *Subscriber) run(ctx context.Context) {
	defer close(s.done)
	retry := backoff.Backoff{Min: s.opts.RetryDelay, Max: s.opts.MaxRetryDelay}
	st := cursor{seed: maphash.MakeSeed()}
	for {
		err := s.session(ctx, &st, &retry)
		if ctx.Err() != nil {
			s.err = ErrClosed
			return
		}
		if errors.Is(err, errStreamEnded) {
			s.err = io.EOF
			return
		}
		s.report(err)
		if isFatal(err) {
			s.err = err
			return
		}
		if !backoff.Sleep(ctx, retry.Next()) {
			s.err = ErrClosed
			return
		}
	}
}

// isFatal reports whether err is a relay error that a retry would get
// again.
func isFatal(err error) bool {
	var perr *protocol.Error
	return errors.As(err, &perr) && (perr.Code == protocol.CodeAuth || perr.Code == protocol.CodeProtocol)
}

func (s *Subscriber) report(err error) {
	if s.opts.OnError == nil {
		return
	}
	var perr *protocol.Error
	if !errors.As(err, &perr) {
		err = fmt.Errorf("subscriber: stream %s: %w", s.opts.Stream, err)
	}
	s.opts.OnError(err)
}

func (s *Subscriber) pullMessage(st *cursor) ([]byte, error) {
	auth := s.opts.Token
	if s.opts.Secret != "" {
		var err error
		if auth, err = token.Sign([]byte(s.opts.Secret), token.Pull, s.opts.Stream, s.opts.TokenTTL); err != nil {
			return nil, err
		}
	}
	pull := protocol.Pull{
		Stream:              s.opts.Stream,
		Auth:                auth,
		OnlySource:          s.opts.OnlySource,
		MaxInitialFragments: -1, // absent: all buffered
		Ext:                 true,
		Parts:               s.opts.Parts,
	}
	switch n := s.opts.MaxInitialFragments; {
	case n > 0:
		pull.MaxInitialFragments = n
	case n < 0:
		pull.MaxInitialFragments = 0
	}
	if st.hasLast {
		pull.Resume = protocol.Resume{Epoch: st.epoch, After: st.lastSeq}
	}
	return protocol.AppendPull(nil, pull), nil
}

// errStreamEnded is returned by session when the relay sent CLOSE.
var errStreamEnded = errors.New("stream ended")

// session runs one connection until it fails or the stream ends
// (errStreamEnded).
func (s *Subscriber) session(ctx context.Context, st *cursor, retry *backoff.Backoff) error {
	pull, err := s.pullMessage(st)
	if err != nil {
		return err
	}
	conn, ok, err := relayconn.Dial(ctx, s.opts.URL, pull, s.timing)
	if err != nil {
		return err
	}
	defer conn.Close()
	retry.Reset()
	st.accept(ok)
	for {
		m, err := conn.Read(0)
		switch {
		case m.Binary || errors.Is(err, relayconn.ErrTooLarge):
			return errors.New("relay sent a binary message without F")
		case err != nil:
			return err
		}
		switch m.Text.Type {
		case protocol.TypeFragment:
			if err := s.fragment(ctx, conn, st, m.Text); err != nil {
				return err
			}
		case protocol.TypeInit, protocol.TypePart:
			if err := s.part(ctx, conn, st, m.Text); err != nil {
				return err
			}
		case protocol.TypeClose:
			return errStreamEnded
		case protocol.TypeError:
			perr, _ := protocol.ParseError(m.Text)
			return perr
		case protocol.TypeOK, protocol.TypePush, protocol.TypePull:
			return fmt.Errorf("relay sent an unexpected %s", m.Text.Type)
		}
		// H, and message types of later protocol versions: ignored.
	}
}

// fragment reads the binary message that follows the F message m and hands
// the fragment to Next.
func (s *Subscriber) fragment(ctx context.Context, conn *relayconn.Conn, st *cursor, m protocol.Message) error {
	meta, err := protocol.ParseFragment(m)
	if err != nil {
		return fmt.Errorf("relay sent a bad F: %w", err)
	}
	if meta.Parts > 0 {
		// It closes a fragment sent in parts: no bytes follow.
		if f, ok := st.end(meta); ok {
			return s.deliver(ctx, st, f)
		}
		return nil
	}
	bin, err := conn.Read(s.opts.MaxFragmentSize)
	switch {
	case errors.Is(err, relayconn.ErrTooLarge):
		s.report(fmt.Errorf("fragment skipped: %w", err))
		st.skip(meta)
		return nil
	case err != nil:
		return err
	case !bin.Binary:
		return fmt.Errorf("relay sent %s after F, want the fragment's bytes", bin.Text.Type)
	}
	f, ok := st.fragment(meta, bin.Data)
	if !ok {
		return nil // already delivered
	}
	return s.deliver(ctx, st, f)
}

// deliver hands f to Next.
func (s *Subscriber) deliver(ctx context.Context, st *cursor, f Fragment) error {
	select {
	case s.out <- f:
		st.delivered(f)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recentHashes is how many delivered fragments a base-protocol reconnect
// compares against: more than a relay's default ring of 10 fragments.
const recentHashes = 16

// cursor is the subscriber's position in the stream, across connections.
type cursor struct {
	ext      bool   // the current connection speaks the extensions
	epoch    string // the stream instance
	lastSeq  uint64 // seq of the last fragment delivered (or skipped) in epoch
	hasLast  bool
	started  bool // a fragment was delivered on some connection
	discNext bool // mark the next fragment delivered with Disc

	// Base protocol: after a reconnect the relay may send again what was
	// delivered; such fragments are recognised by a hash of their bytes,
	// until the first new one.
	dedupe bool
	seed   maphash.Seed
	recent []uint64 // hashes of the last fragments delivered, oldest first
	hash   uint64   // of the fragment or init segment being delivered

	// Parts: the fragment whose parts are being delivered (its end not
	// yet), so that a resume, which restarts at its first part, skips those
	// already delivered; and the last init segment delivered, which every
	// connection sends again.
	open     bool
	openSeq  uint64
	openNext uint64 // index of the next part of openSeq not delivered
	hasInit  bool
	initHash uint64
}

// accept starts a new connection that the relay answered with ok.
func (c *cursor) accept(ok protocol.OK) {
	c.ext = ok.Ext
	if !ok.Ext {
		// No resume: what follows may overlap or miss what came before.
		c.epoch, c.hasLast = "", false
		c.discNext, c.dedupe = c.started, c.started
		return
	}
	c.dedupe = false
	if c.epoch != "" && ok.Epoch != c.epoch {
		c.discNext = true // the stream restarted
		c.hasLast, c.open = false, false
	}
	c.epoch = ok.Epoch
}

// fragment builds the Fragment for meta and data, and reports whether it is
// new.
func (c *cursor) fragment(meta protocol.Fragment, data []byte) (Fragment, bool) {
	f := Fragment{Duration: seconds(meta.Duration), Disc: meta.Disc, Data: data}
	if meta.Time > 0 {
		f.Time = time.UnixMilli(meta.Time)
	}
	if c.ext && meta.HasSeq {
		f.Epoch, f.Seq, f.HasSeq = c.epoch, meta.Seq, true
		if c.hasLast {
			if meta.Seq <= c.lastSeq {
				return f, false
			}
			if meta.Seq > c.lastSeq+1 {
				f.Disc = true // fragments were skipped
			}
		}
	}
	// Hashed before Next hands data to the caller, who may change it.
	c.hash = maphash.Bytes(c.seed, data)
	if c.dedupe {
		if i := slices.Index(c.recent, c.hash); i >= 0 {
			if i == len(c.recent)-1 {
				c.discNext = false // the next one follows the last delivered
			}
			return f, false
		}
	}
	if c.discNext {
		f.Disc = true
	}
	return f, true
}

// delivered records that Next returned f.
func (c *cursor) delivered(f Fragment) {
	switch f.Kind {
	case InitSegment:
		c.hasInit, c.initHash = true, c.hash
		return
	case FragmentPart:
		c.started, c.discNext = true, false
		if f.HasSeq {
			c.open, c.openSeq, c.openNext = true, f.Seq, f.Part+1
		}
		return
	case FragmentEnd:
		c.started, c.open = true, false
		if f.HasSeq {
			c.lastSeq, c.hasLast = f.Seq, true
		}
		return
	}
	c.open = false
	c.started, c.discNext, c.dedupe = true, false, false
	if f.HasSeq {
		c.lastSeq, c.hasLast = f.Seq, true
	}
	if len(c.recent) == recentHashes {
		c.recent = slices.Delete(c.recent, 0, 1)
	}
	c.recent = append(c.recent, c.hash)
}

// skip records a fragment that was not delivered (too large): a resume
// continues after it, and the next fragment is marked Disc.
func (c *cursor) skip(meta protocol.Fragment) {
	c.discNext = true
	if c.ext && meta.HasSeq && (!c.hasLast || meta.Seq > c.lastSeq) {
		c.lastSeq, c.hasLast = meta.Seq, true
	}
}

// seconds converts a duration in seconds, saturating instead of
// overflowing.
func seconds(s float64) time.Duration {
	ns := math.Round(s * float64(time.Second))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
