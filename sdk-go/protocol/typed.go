package protocol

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ExtVersion is the protocol extension version a client asks for with the
// "ext" parameter of PUSH or PULL and a relay confirms in its OK. A relay that
// answers a plain OK speaks only the base protocol.
const ExtVersion = 1

// Push is the first message of a publisher.
type Push struct {
	Stream string
	Auth   string
	// Ext asks for protocol extensions (ext=1).
	Ext bool
}

// Pull is the first message of a viewer.
type Pull struct {
	Stream string
	Auth   string
	// OnlySource asks the relay not to fetch the stream from another node
	// (only_source=true); relays set it when they pull from each other.
	OnlySource bool
	// MaxInitialFragments bounds how many buffered fragments are sent first.
	// -1 (the parameter is absent) means all buffered fragments.
	MaxInitialFragments int
	// Ext asks for protocol extensions (ext=1).
	Ext bool
	// Resume, when Epoch is set, asks to continue after fragment After of
	// the stream instance Epoch (extension; params epoch and after).
	Resume Resume
}

// Resume names the last fragment a reconnecting viewer received.
type Resume struct {
	Epoch string
	After uint64
}

// OK accepts a PUSH or PULL. With extensions it names the stream instance
// (Epoch) and, for a publisher, the sequence number the relay assigns to the
// next fragment (Next).
type OK struct {
	Ext     bool
	Epoch   string
	Next    uint64
	HasNext bool
}

// Fragment is the F message that precedes each binary fragment.
type Fragment struct {
	// Duration in seconds.
	Duration float64
	// Seq is the per-stream sequence number (extension), valid if HasSeq.
	Seq    uint64
	HasSeq bool
	// Time is the publish wall-clock time in Unix milliseconds (extension);
	// 0 means unknown.
	Time int64
	// Disc marks a discontinuity before this fragment (extension).
	Disc bool
}

// Error is the E message. It implements error so that a client can return
// what the relay said.
type Error struct {
	Code    string
	Message string
}

// Error codes of the base protocol and of hlsrelay.
const (
	CodeProtocol        = "PROTOCOL_ERROR"
	CodeAuth            = "AUTH_ERROR"
	CodeMessageTooLarge = "MESSAGE_TOO_LARGE"
	CodeStreamBusy      = "STREAM_BUSY"
	CodeUnavailable     = "UNAVAILABLE"
)

func (e *Error) Error() string {
	return fmt.Sprintf("relay error %s: %s", e.Code, e.Message)
}

// ValidateStreamID reports whether id is a valid stream id: 1 to 255
// characters of valid UTF-8 without control characters.
func ValidateStreamID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty stream id", ErrMalformed)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: stream id is not valid UTF-8", ErrMalformed)
	}
	if n := utf8.RuneCountInString(id); n > MaxStreamIDLength {
		return fmt.Errorf("%w: stream id has %d characters, the limit is %d", ErrMalformed, n, MaxStreamIDLength)
	}
	if strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: stream id contains a control character", ErrMalformed)
	}
	return nil
}

// ParsePush decodes a PUSH message and validates its stream id.
func ParsePush(m Message) (Push, error) {
	if err := expect(m, TypePush); err != nil {
		return Push{}, err
	}
	p := Push{Stream: m.Get("stream"), Auth: m.Get("auth")}
	if err := ValidateStreamID(p.Stream); err != nil {
		return Push{}, err
	}
	ext, err := parseExt(m)
	p.Ext = ext
	return p, err
}

// ParsePull decodes a PULL message and validates its stream id.
func ParsePull(m Message) (Pull, error) {
	if err := expect(m, TypePull); err != nil {
		return Pull{}, err
	}
	p := Pull{Stream: m.Get("stream"), Auth: m.Get("auth"), MaxInitialFragments: -1}
	if err := ValidateStreamID(p.Stream); err != nil {
		return Pull{}, err
	}
	var err error
	if p.OnlySource, err = parseBool(m, "only_source"); err != nil {
		return Pull{}, err
	}
	if v := m.Get("max_initial_fragments"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 0 {
			return Pull{}, fmt.Errorf("%w: max_initial_fragments %q is not a non-negative integer", ErrMalformed, truncate(v))
		}
		p.MaxInitialFragments = n
	}
	if p.Ext, err = parseExt(m); err != nil {
		return Pull{}, err
	}
	if epoch := m.Get("epoch"); epoch != "" && p.Ext {
		after, convErr := strconv.ParseUint(m.Get("after"), 10, 64)
		if convErr != nil {
			return Pull{}, fmt.Errorf("%w: after %q is not a sequence number", ErrMalformed, truncate(m.Get("after")))
		}
		p.Resume = Resume{Epoch: epoch, After: after}
	}
	return p, nil
}

// ParseOK decodes an OK message.
func ParseOK(m Message) (OK, error) {
	if err := expect(m, TypeOK); err != nil {
		return OK{}, err
	}
	ext, err := parseExt(m)
	if err != nil {
		return OK{}, err
	}
	ok := OK{Ext: ext, Epoch: m.Get("epoch")}
	if v := m.Get("next"); v != "" {
		if ok.Next, err = strconv.ParseUint(v, 10, 64); err != nil {
			return OK{}, fmt.Errorf("%w: next %q is not a sequence number", ErrMalformed, truncate(v))
		}
		ok.HasNext = true
	}
	return ok, nil
}

// ParseFragment decodes an F message.
func ParseFragment(m Message) (Fragment, error) {
	if err := expect(m, TypeFragment); err != nil {
		return Fragment{}, err
	}
	var f Fragment
	d, err := strconv.ParseFloat(m.Get("duration"), 64)
	if err != nil || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return Fragment{}, fmt.Errorf("%w: duration %q is not a non-negative number of seconds", ErrMalformed, truncate(m.Get("duration")))
	}
	f.Duration = d
	if v := m.Get("seq"); v != "" {
		if f.Seq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return Fragment{}, fmt.Errorf("%w: seq %q is not a sequence number", ErrMalformed, truncate(v))
		}
		f.HasSeq = true
	}
	if v := m.Get("time"); v != "" {
		if f.Time, err = strconv.ParseInt(v, 10, 64); err != nil || f.Time < 0 {
			return Fragment{}, fmt.Errorf("%w: time %q is not Unix milliseconds", ErrMalformed, truncate(v))
		}
	}
	if f.Disc, err = parseBool(m, "disc"); err != nil {
		return Fragment{}, err
	}
	return f, nil
}

// ParseError decodes an E message.
func ParseError(m Message) (*Error, error) {
	if err := expect(m, TypeError); err != nil {
		return nil, err
	}
	return &Error{Code: m.Get("code"), Message: m.Get("message")}, nil
}

func expect(m Message, typ string) error {
	if m.Type != typ {
		return fmt.Errorf("%w: expected %s, got %s", ErrMalformed, typ, truncate(m.Type))
	}
	return nil
}

func parseBool(m Message, name string) (bool, error) {
	switch strings.ToLower(m.Get(name)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%w: %s %q is not a boolean", ErrMalformed, name, truncate(m.Get(name)))
}

// parseExt reads the ext parameter. Versions above ExtVersion are accepted
// and served as ExtVersion, so newer clients work with this codec.
func parseExt(m Message) (bool, error) {
	v := m.Get("ext")
	if v == "" {
		return false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return false, fmt.Errorf("%w: ext %q is not a version number", ErrMalformed, truncate(v))
	}
	return n >= 1, nil
}
