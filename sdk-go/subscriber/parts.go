package subscriber

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// The parts extension: I and P messages, and the F that closes a fragment
// sent in parts (see the package documentation).

// part reads the binary message that follows the I or P message m and
// hands it to Next.
func (s *Subscriber) part(ctx context.Context, conn *relayconn.Conn, st *cursor, m protocol.Message) error {
	var meta protocol.Part
	if m.Type == protocol.TypePart {
		var err error
		if meta, err = protocol.ParsePart(m); err != nil {
			return fmt.Errorf("relay sent a bad P: %w", err)
		}
	}
	bin, err := conn.Read(s.opts.MaxFragmentSize)
	switch {
	case errors.Is(err, relayconn.ErrTooLarge):
		what := "part"
		if m.Type == protocol.TypeInit {
			what = "init segment"
		}
		s.report(fmt.Errorf("%s skipped: %w", what, err))
		st.discNext = true
		return nil
	case err != nil:
		return err
	case !bin.Binary:
		return fmt.Errorf("relay sent %s after %s, want its bytes", bin.Text.Type, m.Type)
	}
	var f Fragment
	var ok bool
	if m.Type == protocol.TypeInit {
		f, ok = st.initSegment(bin.Data)
	} else {
		f, ok = st.part(meta, bin.Data)
	}
	if !ok {
		return nil // already delivered
	}
	return s.deliver(ctx, st, f)
}

// initSegment builds the Fragment for an init segment, and reports whether
// it differs from the last one delivered.
func (c *cursor) initSegment(data []byte) (Fragment, bool) {
	c.hash = maphash.Bytes(c.seed, data)
	if c.hasInit && c.hash == c.initHash {
		return Fragment{}, false
	}
	return Fragment{Kind: InitSegment, Epoch: c.epoch, Data: data}, true
}

// part builds the Fragment for a part, and reports whether it is new.
func (c *cursor) part(meta protocol.Part, data []byte) (Fragment, bool) {
	f := Fragment{
		Kind: FragmentPart, Part: meta.Index, Duration: seconds(meta.Duration),
		Independent: meta.Independent, Disc: meta.Disc || c.discNext, Data: data,
	}
	if meta.Time > 0 {
		f.Time = time.UnixMilli(meta.Time)
	}
	if !c.ext || !meta.HasSeq {
		return f, true
	}
	f.Epoch, f.Seq, f.HasSeq = c.epoch, meta.Seq, true
	switch {
	case c.hasLast && meta.Seq <= c.lastSeq:
		return f, false // its fragment ended already
	case c.open && meta.Seq == c.openSeq:
		if meta.Index < c.openNext {
			return f, false // a resume sends the fragment from its first part
		}
		if meta.Index > c.openNext {
			f.Disc = true // parts were skipped
		}
	case c.open || c.hasLast && meta.Seq > c.lastSeq+1:
		f.Disc = true // a fragment did not end, or fragments were skipped
	}
	return f, true
}

// end builds the Fragment that closes a fragment sent in parts, and reports
// whether it is new.
func (c *cursor) end(meta protocol.Fragment) (Fragment, bool) {
	f := Fragment{Kind: FragmentEnd, Duration: seconds(meta.Duration), Parts: meta.Parts, Disc: meta.Disc}
	if meta.Time > 0 {
		f.Time = time.UnixMilli(meta.Time)
	}
	if c.ext && meta.HasSeq {
		f.Epoch, f.Seq, f.HasSeq = c.epoch, meta.Seq, true
		if c.hasLast && meta.Seq <= c.lastSeq {
			return f, false
		}
	}
	return f, true
}
