package protocol

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
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
	// Epoch, with Ext, names the stream instance this publisher published
	// before a reconnect: if the relay still holds the old connection, the
	// new one takes over instead of being refused as a second publisher.
	Epoch string
	// Parts, with Ext, asks to publish fMP4/CMAF fragments in parts
	// (parts=1): I, P and closing F messages (see parts.go).
	Parts bool
}

// Pull is the first message of a viewer.
type Pull struct {
	Stream string
	Auth   string
	// OnlySource asks the relay not to fetch the stream from another node
	// (only_source=true); relays set it when they pull from each other.
	OnlySource bool
	// MaxInitialFragments bounds how many buffered fragments are sent first.
	// -1 (the parameter is absent) means all buffered fragments; any other
	// negative value is written as absent too.
	MaxInitialFragments int
	// Ext asks for protocol extensions (ext=1).
	Ext bool
	// Resume, when Epoch is set, asks to continue after fragment After of
	// the stream instance Epoch (extension; params epoch and after).
	Resume Resume
	// Parts, with Ext, asks to receive fMP4/CMAF streams in parts
	// (parts=1): I, P and closing F messages (see parts.go).
	Parts bool
}

// Resume names the last fragment a reconnecting viewer received.
type Resume struct {
	Epoch string
	After uint64
}

// OK accepts a PUSH or PULL. With extensions it names the stream instance
// (Epoch) and, for a publisher, the sequence number the relay assigns to the
// next fragment (Next). Without Ext, Epoch and Next are neither written nor
// read: a base OK carries no parameters.
type OK struct {
	Ext     bool
	Epoch   string
	Next    uint64
	HasNext bool
	// Parts confirms parts=1 of the PUSH or PULL.
	Parts bool
	// NextPart, for a publisher with Parts, is the index of the part the
	// relay lacks next in fragment Next: it holds parts 0 to NextPart-1 of
	// it already (0: none).
	NextPart uint64
}

// Fragment is the F message that precedes each binary fragment.
type Fragment struct {
	// Duration in seconds: finite and not negative.
	Duration float64
	// Seq is the per-stream sequence number (extension), valid if HasSeq.
	Seq    uint64
	HasSeq bool
	// Time is the publish wall-clock time in Unix milliseconds (extension);
	// 0 means unknown.
	Time int64
	// Disc marks a discontinuity before this fragment (extension).
	Disc bool
	// Parts, when not 0, says the fragment was sent as that many P
	// messages and this F closes it: no binary message follows (parts
	// extension). 0: the fragment's bytes follow as one binary message.
	Parts uint64
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

// Codes of the relay's abuse and capacity limits. TooManyStreams and
// TooManyViewers arrive in an E message; the others refuse the WebSocket
// handshake with an HTTP status (429, 403 or 503) and name the code in the
// Hlsrelay-Error response header, before any message is exchanged.
const (
	// CodeRateLimited: the client's address made more requests per second
	// than the relay allows (RATE_LIMIT_REQ_PER_SEC). HTTP 429.
	CodeRateLimited = "RATE_LIMITED"
	// CodeTooManyConnections: the client's address has as many connections
	// open as the relay allows (RATE_LIMIT_CONNECTIONS). HTTP 429.
	CodeTooManyConnections = "TOO_MANY_CONNECTIONS"
	// CodeNodeFull: the relay holds as many connections as it allows
	// (MAX_CONNECTIONS); another node may take the client. HTTP 503.
	CodeNodeFull = "NODE_FULL"
	// CodeOriginNotAllowed: a browser page of an origin the relay does not
	// allow opened the WebSocket (WEBSOCKET_ALLOWED_ORIGINS). HTTP 403.
	CodeOriginNotAllowed = "ORIGIN_NOT_ALLOWED"
	// CodeTooManyStreams: the relay has as many live streams as it allows
	// (MAX_STREAMS), so it cannot start another one.
	CodeTooManyStreams = "TOO_MANY_STREAMS"
	// CodeTooManyViewers: the stream has as many viewers on this relay as it
	// allows (MAX_VIEWERS_PER_STREAM).
	CodeTooManyViewers = "TOO_MANY_VIEWERS"
)

// ErrorHeader is the HTTP response header in which a relay names the error
// code of a refused WebSocket handshake.
const ErrorHeader = "Hlsrelay-Error"

// CodeClosedByOperator: the relay's operator closed the stream, or this
// connection, through the admin API. It is not a ban: a client may connect
// again, and the operator keeps it out by refusing its token.
const CodeClosedByOperator = "CLOSED_BY_OPERATOR"

func (e *Error) Error() string {
	if e.Message == "" {
		return "relay error " + e.Code
	}
	return "relay error " + e.Code + ": " + e.Message
}

// ValidateStreamID reports whether id is a valid stream id: 1 to 255
// characters (code points) of valid UTF-8 without control characters
// (U+0000-U+001F, U+007F-U+009F).
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
	if strings.ContainsFunc(id, unicode.IsControl) {
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
	var err error
	if p.Ext, err = parseExt(m); err != nil {
		return Push{}, err
	}
	if p.Ext {
		p.Epoch = m.Get("epoch")
		if p.Parts, err = parseBool(m, "parts"); err != nil {
			return Push{}, err
		}
	}
	return p, nil
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
		n, ok := parseInteger(v)
		if !ok {
			return Pull{}, fmt.Errorf("%w: max_initial_fragments %q is not a non-negative integer", ErrMalformed, truncate(v))
		}
		p.MaxInitialFragments = int(min(n, math.MaxInt)) // clamped on 32-bit platforms
	}
	if p.Ext, err = parseExt(m); err != nil {
		return Pull{}, err
	}
	if epoch := m.Get("epoch"); epoch != "" && p.Ext {
		after, ok := parseInteger(m.Get("after"))
		if !ok {
			return Pull{}, fmt.Errorf("%w: after %q is not a sequence number", ErrMalformed, truncate(m.Get("after")))
		}
		p.Resume = Resume{Epoch: epoch, After: after}
	}
	if p.Ext {
		if p.Parts, err = parseBool(m, "parts"); err != nil {
			return Pull{}, err
		}
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
	if !ext {
		// Extension parameters are meaningful only with ext.
		return OK{}, nil
	}
	ok := OK{Ext: true, Epoch: m.Get("epoch")}
	if v := m.Get("next"); v != "" {
		var valid bool
		if ok.Next, valid = parseInteger(v); !valid {
			return OK{}, fmt.Errorf("%w: next %q is not a sequence number", ErrMalformed, truncate(v))
		}
		ok.HasNext = true
	}
	if ok.Parts, err = parseBool(m, "parts"); err != nil {
		return OK{}, err
	}
	if v := m.Get("next_part"); v != "" && ok.Parts {
		var valid bool
		if ok.NextPart, valid = parseInteger(v); !valid {
			return OK{}, fmt.Errorf("%w: next_part %q is not a part index", ErrMalformed, truncate(v))
		}
	}
	return ok, nil
}

// ParseFragment decodes an F message.
func ParseFragment(m Message) (Fragment, error) {
	if err := expect(m, TypeFragment); err != nil {
		return Fragment{}, err
	}
	var f Fragment
	d, ok := parseSeconds(m.Get("duration"))
	if !ok {
		return Fragment{}, fmt.Errorf("%w: duration %q is not a non-negative number of seconds", ErrMalformed, truncate(m.Get("duration")))
	}
	f.Duration = d
	if v := m.Get("seq"); v != "" {
		if f.Seq, ok = parseInteger(v); !ok {
			return Fragment{}, fmt.Errorf("%w: seq %q is not a sequence number", ErrMalformed, truncate(v))
		}
		f.HasSeq = true
	}
	if v := m.Get("time"); v != "" {
		t, ok := parseInteger(v)
		if !ok {
			return Fragment{}, fmt.Errorf("%w: time %q is not Unix milliseconds", ErrMalformed, truncate(v))
		}
		f.Time = int64(t)
	}
	var err error
	if f.Disc, err = parseBool(m, "disc"); err != nil {
		return Fragment{}, err
	}
	if v := m.Get("parts"); v != "" {
		if f.Parts, ok = parseInteger(v); !ok {
			return Fragment{}, fmt.Errorf("%w: parts %q is not a number of parts", ErrMalformed, truncate(v))
		}
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
	n, ok := parseInteger(v)
	if !ok {
		return false, fmt.Errorf("%w: ext %q is not a version number", ErrMalformed, truncate(v))
	}
	return n >= 1, nil
}

// parseInteger reads an integer parameter: decimal digits only (no sign, no
// spaces), at most MaxInteger. Every codec reads the same strings the same
// way, whatever its language's own number parser accepts.
func parseInteger(s string) (uint64, bool) {
	if s == "" || len(s) > 32 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxInteger {
		return 0, false
	}
	return n, true
}

// parseSeconds reads a duration: a plain decimal number ("1", "0.5", ".5",
// "2.", "1e-3"), finite and not negative. Signs, hexadecimal floats,
// underscores, "Inf" and "NaN" are refused.
func parseSeconds(s string) (float64, bool) {
	i, digits := 0, 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	d, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(d, 0) {
		return 0, false
	}
	return d, true
}
