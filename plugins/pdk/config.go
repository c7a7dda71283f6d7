package pdk

import "errors"

// Errors of ParseConfig.
var (
	ErrConfigEscape    = errors.New("pdk: config: invalid %-escape")
	ErrConfigSemicolon = errors.New("pdk: config: invalid semicolon separator")
)

// Config is a plugin configuration in URL-query form, such as
// "pull_secret=a%26b&push_allowed=true": the parameters in the order they
// appear, names and values unescaped.
type Config struct {
	params []string // name, value, name, value, ...
}

// ParseConfig parses a configuration in URL-query form as net/url's
// ParseQuery does: parameters are separated by '&', a name without '=' has
// the empty value, '+' stands for a space and %XX for any byte (so values
// may hold arbitrary bytes). An invalid %-escape, or a ';' anywhere, is an
// error (escape it as %3B). Empty parameters ("a=1&&b=2") are skipped.
func ParseConfig(s string) (Config, error) {
	var c Config
	for s != "" {
		var part string
		if i := indexByte(s, '&'); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			part, s = s, ""
		}
		if part == "" {
			continue
		}
		if indexByte(part, ';') >= 0 {
			return Config{}, ErrConfigSemicolon
		}
		name, value := part, ""
		if i := indexByte(part, '='); i >= 0 {
			name, value = part[:i], part[i+1:]
		}
		name, ok := unescapeQuery(name)
		if !ok {
			return Config{}, ErrConfigEscape
		}
		value, ok = unescapeQuery(value)
		if !ok {
			return Config{}, ErrConfigEscape
		}
		c.params = append(c.params, name, value)
	}
	return c, nil
}

// Lookup returns the value of the first parameter called name, and whether
// there is one.
func (c Config) Lookup(name string) (string, bool) {
	for i := 0; i < len(c.params); i += 2 {
		if c.params[i] == name {
			return c.params[i+1], true
		}
	}
	return "", false
}

// Get returns the value of the first parameter called name, or "".
func (c Config) Get(name string) string {
	v, _ := c.Lookup(name)
	return v
}

// Len returns the number of parameters.
func (c Config) Len() int { return len(c.params) / 2 }

// At returns the name and value of parameter i, 0 <= i < Len(), so that a
// plugin can refuse names it does not know.
func (c Config) At(i int) (name, value string) {
	return c.params[2*i], c.params[2*i+1]
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// unescapeQuery undoes the escaping of a URL query component.
func unescapeQuery(s string) (string, bool) {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			plain = false
			break
		}
	}
	if plain {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, lo := hexValue(s[i+1]), hexValue(s[i+2])
			if hi < 0 || lo < 0 {
				return "", false
			}
			b = append(b, byte(hi<<4|lo))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}
