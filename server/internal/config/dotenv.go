package config

import (
	"strconv"
	"strings"
)

// A .env file holds one KEY=VALUE assignment per line:
//
//	# a comment
//	export HTTP_PORT=8080        # "export " is optional; so is this comment
//	PULL_SECRET='literal $text'  # single quotes: no escapes at all
//	PUSH_SECRET="a\tb\"c"        # double quotes: \n \r \t \" \\ \$ escapes
//
// Keys are letters, digits and "_", not starting with a digit. Spaces around
// "=" are ignored. An unquoted value ends at the end of the line or at a "#"
// that follows a space or tab, and loses its surrounding spaces. A quoted
// value may span lines. Nothing is interpolated: "$" is an ordinary
// character. A later assignment of the same key wins.

// dotenvEntry is one assignment of a .env file.
type dotenvEntry struct {
	Key   string
	Value string
	Line  int // where the assignment starts, from 1
}

// dotenvSyntaxError is a malformed .env file. Its message never contains a
// value, which may be a secret.
type dotenvSyntaxError struct {
	Line int
	Msg  string
}

func (e *dotenvSyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// parseDotenv parses the text of a .env file.
func parseDotenv(src string) ([]dotenvEntry, error) {
	src = strings.TrimPrefix(src, "\uFEFF")
	src = strings.ReplaceAll(src, "\r\n", "\n")
	p := dotenvParser{src: src, line: 1}
	var entries []dotenvEntry
	for {
		p.skipBlanks()
		if p.eof() {
			return entries, nil
		}
		switch p.peek() {
		case '\n':
			p.advance()
			continue
		case '#':
			p.skipToEOL()
			continue
		}
		e, err := p.assignment()
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
}

type dotenvParser struct {
	src  string
	pos  int
	line int
}

func (p *dotenvParser) eof() bool  { return p.pos >= len(p.src) }
func (p *dotenvParser) peek() byte { return p.src[p.pos] }

// advance consumes one byte, counting lines.
func (p *dotenvParser) advance() {
	if p.src[p.pos] == '\n' {
		p.line++
	}
	p.pos++
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func (p *dotenvParser) skipBlanks() {
	for !p.eof() && isBlank(p.peek()) {
		p.pos++
	}
}

// skipToEOL consumes up to and including the next newline.
func (p *dotenvParser) skipToEOL() {
	for !p.eof() {
		c := p.peek()
		p.advance()
		if c == '\n' {
			return
		}
	}
}

func (p *dotenvParser) fail(line int, msg string) error {
	return &dotenvSyntaxError{Line: line, Msg: msg}
}

func isKeyStart(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isKeyChar(c byte) bool { return isKeyStart(c) || c >= '0' && c <= '9' }

// key reads a variable name, or returns "".
func (p *dotenvParser) key() string {
	start := p.pos
	if p.eof() || !isKeyStart(p.peek()) {
		return ""
	}
	for !p.eof() && isKeyChar(p.peek()) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// assignment reads one [export ]KEY=VALUE, positioned at a non-blank,
// non-comment character.
func (p *dotenvParser) assignment() (dotenvEntry, error) {
	line := p.line
	key := p.key()
	if key == "export" && !p.eof() && isBlank(p.peek()) {
		p.skipBlanks()
		if !p.eof() && isKeyStart(p.peek()) {
			key = p.key()
		}
	}
	if key == "" {
		return dotenvEntry{}, p.fail(line, "expected a variable name (letters, digits and _)")
	}
	p.skipBlanks()
	if p.eof() || p.peek() != '=' {
		return dotenvEntry{}, p.fail(line, "expected KEY=VALUE after "+key)
	}
	p.pos++ // '='
	// A '#' right after '=' is part of the value; after a blank it starts
	// a comment.
	afterBlank := !p.eof() && isBlank(p.peek())
	p.skipBlanks()
	var (
		v   string
		err error
	)
	switch {
	case p.eof():
	case p.peek() == '\'':
		v, err = p.singleQuoted(line, key)
	case p.peek() == '"':
		v, err = p.doubleQuoted(line, key)
	default:
		v = p.unquoted(afterBlank)
		return dotenvEntry{Key: key, Value: v, Line: line}, nil
	}
	if err != nil {
		return dotenvEntry{}, err
	}
	if err := p.endOfLine(key); err != nil {
		return dotenvEntry{}, err
	}
	return dotenvEntry{Key: key, Value: v, Line: line}, nil
}

// unquoted reads to the end of the line or to a comment; the newline is
// consumed.
func (p *dotenvParser) unquoted(afterBlank bool) string {
	start := p.pos
	end := start
	for !p.eof() {
		c := p.peek()
		if c == '\n' {
			p.advance()
			break
		}
		if c == '#' && (afterBlank || p.pos > start && isBlank(p.src[p.pos-1])) {
			p.skipToEOL()
			break
		}
		p.pos++
		end = p.pos
	}
	return strings.TrimRight(p.src[start:end], " \t")
}

func (p *dotenvParser) singleQuoted(line int, key string) (string, error) {
	p.pos++ // opening quote
	start := p.pos
	for !p.eof() {
		if p.peek() == '\'' {
			v := p.src[start:p.pos]
			p.pos++
			return v, nil
		}
		p.advance()
	}
	return "", p.fail(line, "the single-quoted value of "+key+" has no closing quote")
}

func (p *dotenvParser) doubleQuoted(line int, key string) (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				p.pos++
				continue // reported as unterminated below
			}
			next := p.src[p.pos+1]
			switch next {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$':
				b.WriteByte(next)
			default:
				// Unknown escapes stay as written, as in a shell.
				b.WriteByte('\\')
				p.pos++
				continue
			}
			p.pos += 2
		default:
			b.WriteByte(c)
			p.advance()
		}
	}
	return "", p.fail(line, "the double-quoted value of "+key+" has no closing quote")
}

// endOfLine accepts blanks and an optional comment after a closing quote.
func (p *dotenvParser) endOfLine(key string) error {
	p.skipBlanks()
	if p.eof() {
		return nil
	}
	switch p.peek() {
	case '\n':
		p.advance()
		return nil
	case '#':
		p.skipToEOL()
		return nil
	}
	return p.fail(p.line, "unexpected text after the closing quote of "+key)
}

// quoteDotenv writes v as a double-quoted .env value that parseDotenv reads
// back unchanged.
func quoteDotenv(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
