package pdk

import (
	"errors"
	"unicode/utf8"
)

// ErrJSON is the error of a JSONScanner whose input is not valid JSON (RFC
// 8259) or whose top-level value is not what it was asked to read.
var ErrJSON = errors.New("pdk: malformed JSON")

// JSONKind is the kind of a JSON value.
type JSONKind uint8

// Kinds of JSON values.
const (
	JSONInvalid JSONKind = iota
	JSONString
	JSONNumber
	JSONBool
	JSONNull
	JSONObject
	JSONArray
)

// maxJSONDepth is the deepest nesting accepted, counting the top-level value:
// the limit of encoding/json, so that both refuse the same documents.
const maxJSONDepth = 10000

// JSONScanner reads the members of a JSON object, or the elements of a JSON
// array, one at a time, in the order they appear. It is meant for small flat
// documents such as JWT headers and claims: it reports nested objects and
// arrays as raw values (skipped, but checked), and allocates nothing once its
// buffers have grown. A JSONScanner is reusable: Reset it with each new
// document.
//
// It checks the syntax as strictly as encoding/json does, and only what it
// has read: read until Next returns false, then check Err, before trusting
// anything read. Duplicate keys are reported each time they appear (with
// encoding/json, the last one wins).
type JSONScanner struct {
	data      []byte
	pos       int
	container JSONKind
	n         int // members or elements read
	done      bool
	err       error

	key    []byte
	kind   JSONKind
	raw    []byte
	text   []byte
	hasTxt bool
	plain  bool // the last string scanned has no escape and no byte >= 0x80

	keyBuf  []byte
	textBuf []byte
	stack   []byte
}

// Reset starts reading data, which must hold one JSON object or array and
// nothing else but white space. If it holds anything else, the first Next
// returns false and Err returns ErrJSON.
func (s *JSONScanner) Reset(data []byte) {
	*s = JSONScanner{data: data, keyBuf: s.keyBuf[:0], textBuf: s.textBuf[:0], stack: s.stack[:0]}
	s.skipSpace()
	if s.pos < len(data) {
		switch data[s.pos] {
		case '{':
			s.container = JSONObject
		case '[':
			s.container = JSONArray
		}
	}
	if s.container == JSONInvalid {
		s.err = ErrJSON
		return
	}
	s.pos++
}

// Container returns JSONObject or JSONArray, what the document holds, or
// JSONInvalid if it holds neither.
func (s *JSONScanner) Container() JSONKind { return s.container }

// Next reads the next member of the object (or element of the array) and
// reports whether there was one. It returns false at the end of the document
// and at the first syntax error (see Err).
func (s *JSONScanner) Next() bool {
	if s.done || s.err != nil {
		return false
	}
	closer := byte('}')
	if s.container == JSONArray {
		closer = ']'
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.fail()
	}
	if c := s.data[s.pos]; c == closer {
		s.pos++
		return s.end()
	} else if s.n > 0 {
		if c != ',' {
			return s.fail()
		}
		s.pos++
		s.skipSpace()
	}
	s.key, s.kind, s.raw, s.text, s.hasTxt = nil, JSONInvalid, nil, nil, false
	if s.container == JSONObject {
		start := s.pos
		if !s.scanString() {
			return s.fail()
		}
		if s.plain {
			s.key = s.data[start+1 : s.pos-1]
		} else {
			s.keyBuf = appendUnquoted(s.keyBuf[:0], s.data[start:s.pos])
			s.key = s.keyBuf
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail()
		}
		s.pos++
		s.skipSpace()
	}
	start := s.pos
	kind := s.scanValue()
	if kind == JSONInvalid {
		return s.fail()
	}
	s.kind, s.raw = kind, s.data[start:s.pos]
	if kind == JSONString && s.plain {
		s.text, s.hasTxt = s.raw[1:len(s.raw)-1], true
	}
	s.n++
	return true
}

// Key returns the key of the current member, unescaped. It is empty for an
// array element, and valid until the next call of Next or Reset (it may
// alias the document: do not modify it).
func (s *JSONScanner) Key() []byte { return s.key }

// Kind returns the kind of the current value.
func (s *JSONScanner) Kind() JSONKind { return s.kind }

// Raw returns the current value as it appears in the document.
func (s *JSONScanner) Raw() []byte { return s.raw }

// Text returns the current value unescaped if it is a string, as
// encoding/json would (invalid UTF-8 and lone surrogates become U+FFFD), and
// its raw text otherwise. It is valid until the next call of Next or Reset
// (it may alias the document: do not modify it).
func (s *JSONScanner) Text() []byte {
	if s.kind != JSONString {
		return s.raw
	}
	if !s.hasTxt {
		s.textBuf = appendUnquoted(s.textBuf[:0], s.raw)
		s.text, s.hasTxt = s.textBuf, true
	}
	return s.text
}

// Err returns ErrJSON if the document read so far is not valid JSON, and nil
// otherwise.
func (s *JSONScanner) Err() error { return s.err }

func (s *JSONScanner) fail() bool {
	s.err = ErrJSON
	s.key, s.kind, s.raw, s.text = nil, JSONInvalid, nil, nil
	return false
}

// end checks that only white space follows the closing bracket.
func (s *JSONScanner) end() bool {
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.fail()
	}
	s.done = true
	return false
}

func (s *JSONScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// scanValue consumes one value, nested ones included, and returns its kind,
// or JSONInvalid if it is not valid JSON.
func (s *JSONScanner) scanValue() JSONKind {
	if s.pos >= len(s.data) {
		return JSONInvalid
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		if s.scanString() {
			return JSONString
		}
	case c == '{':
		if s.scanNested() {
			return JSONObject
		}
	case c == '[':
		if s.scanNested() {
			return JSONArray
		}
	case c == 't':
		if s.scanLiteral("true") {
			return JSONBool
		}
	case c == 'f':
		if s.scanLiteral("false") {
			return JSONBool
		}
	case c == 'n':
		if s.scanLiteral("null") {
			return JSONNull
		}
	case c == '-' || '0' <= c && c <= '9':
		if n := numberLen(s.data[s.pos:]); n > 0 {
			s.pos += n
			return JSONNumber
		}
	}
	return JSONInvalid
}

func (s *JSONScanner) scanLiteral(lit string) bool {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return false
	}
	s.pos += len(lit)
	return true
}

// scanString consumes a string, s.pos being at its opening quote.
func (s *JSONScanner) scanString() bool {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return false
	}
	i := s.pos + 1
	plain := true
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.plain = plain
			return true
		case c < 0x20:
			return false
		case c >= 0x80:
			plain = false
			i++
		case c == '\\':
			plain = false
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return false
				}
				for _, h := range d[i+2 : i+6] {
					if hexValue(h) < 0 {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
	return false
}

// scanNested consumes an object or array, s.pos being at its opening
// bracket, without recursion: s.stack holds the brackets still open.
func (s *JSONScanner) scanNested() bool {
	d := s.data
	s.stack = s.stack[:0]
	const (
		wantValue = iota
		wantKey
		afterValue
	)
	state := wantValue
	for {
		if state == afterValue && len(s.stack) == 0 {
			return true
		}
		s.skipSpace()
		if s.pos >= len(d) {
			return false
		}
		c := d[s.pos]
		switch state {
		case wantValue:
			if c != '{' && c != '[' {
				if s.scanValue() == JSONInvalid {
					return false
				}
				state = afterValue
				continue
			}
			// The top-level container counts as one level.
			if len(s.stack)+2 > maxJSONDepth {
				return false
			}
			s.stack = append(s.stack, c)
			s.pos++
			s.skipSpace()
			if s.pos < len(d) && d[s.pos] == c+2 { // '{'+2 == '}', '['+2 == ']'
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
				state = afterValue
			} else if c == '{' {
				state = wantKey
			}
		case wantKey:
			if !s.scanString() {
				return false
			}
			s.skipSpace()
			if s.pos >= len(d) || d[s.pos] != ':' {
				return false
			}
			s.pos++
			state = wantValue
		case afterValue:
			top := s.stack[len(s.stack)-1]
			switch c {
			case ',':
				s.pos++
				if top == '{' {
					state = wantKey
				} else {
					state = wantValue
				}
			case top + 2:
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
			default:
				return false
			}
		}
	}
}

// numberLen returns the length of the JSON number at the start of b, or 0 if
// b does not start with one.
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i++
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	return i
}

// IsJSONNumber reports whether b is exactly one JSON number, such as
// "-12.5e3" (no sign "+", no leading zeros, no white space).
func IsJSONNumber(b []byte) bool {
	return len(b) > 0 && numberLen(b) == len(b)
}

func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// appendUnquoted appends the content of the JSON string q (with its quotes,
// already checked by scanString) to dst, unescaped as encoding/json does.
func appendUnquoted(dst, q []byte) []byte {
	q = q[1 : len(q)-1]
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\\':
			switch q[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := u4(q[i+2:])
				i += 6
				if 0xd800 <= r && r < 0xe000 { // a surrogate
					if 0xd800 <= r && r < 0xdc00 && i+6 <= len(q) && q[i] == '\\' && q[i+1] == 'u' {
						if r2 := u4(q[i+2:]); 0xdc00 <= r2 && r2 < 0xe000 {
							r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
							i += 6
							dst = utf8.AppendRune(dst, r)
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, q[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(q[i:])
			dst = utf8.AppendRune(dst, r) // invalid UTF-8 becomes U+FFFD
			i += n
		}
	}
	return dst
}

// u4 decodes the 4 hex digits at the start of b, or returns -1.
func u4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		v := hexValue(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}
