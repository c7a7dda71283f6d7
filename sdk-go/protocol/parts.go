package protocol

import "fmt"

// The parts extension carries fMP4/CMAF streams with low delay: a client
// that sent ext=1&parts=1 in its PUSH or PULL, and got parts=1 back in the
// OK, exchanges three more kinds of message:
//
//	I            then a binary message: the stream's fMP4 init segment
//	P:seq=S&part=K&duration=D&independent=1&time=T
//	             then a binary message: part K of fragment S
//	F:duration=D&seq=S&time=T&parts=N
//	             closes fragment S after its N parts; no binary follows
//
// A fragment's bytes are its parts' bytes in order. See docs/protocol.md.

// Part is the P message that precedes each part of a fragment.
type Part struct {
	// Seq is the sequence number of the fragment the part belongs to; a
	// publisher may leave it out (HasSeq false) and let the relay number
	// fragments.
	Seq    uint64
	HasSeq bool
	// Index is the part's position in its fragment, from 0.
	Index uint64
	// Duration in seconds: finite and not negative.
	Duration float64
	// Independent says the part starts with an independent frame (a key
	// frame): a decoder can start there.
	Independent bool
	// Time is the publish wall-clock time of the part in Unix
	// milliseconds: the time the publisher gave or, if it gave none, the
	// time the first relay received the part. 0 means unknown.
	Time int64
	// Disc marks a discontinuity before this part (only on a fragment's
	// first part, or on the first part a viewer receives after a skip).
	Disc bool
}

// ParsePart decodes a P message.
func ParsePart(m Message) (Part, error) {
	if err := expect(m, TypePart); err != nil {
		return Part{}, err
	}
	var p Part
	var ok bool
	if p.Duration, ok = parseSeconds(m.Get("duration")); !ok {
		return Part{}, fmt.Errorf("%w: duration %q is not a non-negative number of seconds", ErrMalformed, truncate(m.Get("duration")))
	}
	if v := m.Get("seq"); v != "" {
		if p.Seq, ok = parseInteger(v); !ok {
			return Part{}, fmt.Errorf("%w: seq %q is not a sequence number", ErrMalformed, truncate(v))
		}
		p.HasSeq = true
	}
	if p.Index, ok = parseInteger(m.Get("part")); !ok {
		return Part{}, fmt.Errorf("%w: part %q is not a part index", ErrMalformed, truncate(m.Get("part")))
	}
	if v := m.Get("time"); v != "" {
		t, ok := parseInteger(v)
		if !ok {
			return Part{}, fmt.Errorf("%w: time %q is not Unix milliseconds", ErrMalformed, truncate(v))
		}
		p.Time = int64(t)
	}
	var err error
	if p.Independent, err = parseBool(m, "independent"); err != nil {
		return Part{}, err
	}
	if p.Disc, err = parseBool(m, "disc"); err != nil {
		return Part{}, err
	}
	return p, nil
}

// AppendPart appends the P message for p to dst. p.Duration must be finite
// and not negative, and p.Seq, p.Index and p.Time at most MaxInteger, or the
// message does not parse.
func AppendPart(dst []byte, p Part) []byte {
	w := paramWriter{buf: append(dst, TypePart+":"...)}
	if p.HasSeq {
		w.addUint("seq", p.Seq)
	}
	w.addUint("part", p.Index)
	w.addFloat("duration", p.Duration)
	if p.Independent {
		w.add("independent", "1")
	}
	if p.Time > 0 {
		w.addInt("time", p.Time)
	}
	if p.Disc {
		w.add("disc", "1")
	}
	return w.buf
}

// AppendInit appends the I message, which precedes the binary init segment.
func AppendInit(dst []byte) []byte {
	return append(dst, TypeInit...)
}
