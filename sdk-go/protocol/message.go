package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Message types. Types are matched case-insensitively on the wire; Parse
// upper-cases them.
const (
	TypePush      = "PUSH"
	TypePull      = "PULL"
	TypeOK        = "OK"
	TypeFragment  = "F"
	TypeClose     = "CLOSE"
	TypeHeartbeat = "H"
	TypeError     = "E"
	// TypeInit and TypePart belong to the parts extension (parts.go).
	TypeInit = "I"
	TypePart = "P"
)

// MaxStreamIDLength is the longest stream id, in characters (Unicode code
// points), that the protocol allows.
const MaxStreamIDLength = 255

// MaxInteger is the largest value of an integer parameter (seq, after, next,
// time, max_initial_fragments, ext): 2^53-1, the largest integer that a
// JavaScript number holds exactly, so browser clients read every value the
// relay writes without rounding.
const MaxInteger = 1<<53 - 1

// ErrMalformed is wrapped by every error Parse and the typed decoders return
// for input that does not follow the protocol.
var ErrMalformed = errors.New("malformed message")

// Message is one text message: a type and its URL-query parameters.
type Message struct {
	// Type is upper-case letters and digits, e.g. "PULL".
	Type string
	// Params holds the decoded query parameters. It may be nil.
	Params url.Values
}

// Parse decodes a text message of the form TYPE or TYPE:query. Both "+" and
// "%20" decode to a space. Parameter names and values must decode to valid
// UTF-8; a bad percent escape or a ";" separator is malformed.
func Parse(text []byte) (Message, error) {
	s := string(text)
	typ, query, _ := strings.Cut(s, ":")
	if typ == "" {
		return Message{}, fmt.Errorf("%w: empty message type", ErrMalformed)
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return Message{}, fmt.Errorf("%w: message type %q has a character other than a letter or digit", ErrMalformed, truncate(typ))
		}
	}
	m := Message{Type: strings.ToUpper(typ)}
	if query != "" {
		params, err := url.ParseQuery(query)
		if err != nil {
			return Message{}, fmt.Errorf("%w: %s parameters: %v", ErrMalformed, m.Type, err)
		}
		for k, vs := range params {
			if !utf8.ValidString(k) {
				return Message{}, fmt.Errorf("%w: %s parameter name %q is not valid UTF-8", ErrMalformed, m.Type, truncate(k))
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					return Message{}, fmt.Errorf("%w: %s parameter %q is not valid UTF-8", ErrMalformed, m.Type, truncate(k))
				}
			}
		}
		// "TYPE:&" has no parameters: keep Params nil, as for "TYPE", so
		// that a message and its re-encoding compare equal.
		if len(params) > 0 {
			m.Params = params
		}
	}
	return m, nil
}

// Get returns the first value of the parameter name, or "".
func (m Message) Get(name string) string {
	return m.Params.Get(name)
}

// AppendText appends the wire form of m to dst. Parameters are written in
// sorted order with every byte outside [A-Za-z0-9-._~] percent-encoded, so
// both URLSearchParams and decodeURIComponent read them back unchanged.
func (m Message) AppendText(dst []byte) []byte {
	dst = append(dst, m.Type...)
	if len(m.Params) == 0 {
		return dst
	}
	w := paramWriter{buf: append(dst, ':')}
	for _, k := range sortedKeys(m.Params) {
		for _, v := range m.Params[k] {
			w.add(k, v)
		}
	}
	return w.buf
}

// String returns the wire form of m.
func (m Message) String() string {
	return string(m.AppendText(nil))
}

// truncate shortens s for an error message, cutting at a rune boundary.
func truncate(s string) string {
	const limit = 32
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
