package hlscheck

import (
	"errors"
	"fmt"
	"strings"
)

// attribute is one AttributeName=AttributeValue of an attribute list.
type attribute struct {
	Name  string
	Value string // without the quotes of a quoted-string
	// Quoted: the value is a quoted-string.
	Quoted bool
}

// parseAttributes parses an attribute list (RFC 8216 section 4.2):
// comma-separated AttributeName=AttributeValue pairs, names of [A-Z0-9-],
// each at most once; a value is a quoted-string (no CR, LF or '"' inside)
// or an unquoted string without '"', ',' or white space. It returns the
// attributes it could read and an error naming the first violation.
func parseAttributes(s string) ([]attribute, error) {
	if s == "" {
		return nil, errors.New("an empty attribute list")
	}
	var out []attribute
	seen := map[string]bool{}
	for rest := s; ; {
		name, after, found := strings.Cut(rest, "=")
		if !found {
			return out, fmt.Errorf("attribute %q without a value", rest)
		}
		if err := checkAttributeName(name); err != nil {
			return out, err
		}
		if seen[name] {
			return out, fmt.Errorf("attribute %s appears twice", name)
		}
		seen[name] = true
		a := attribute{Name: name}
		if inner, ok := strings.CutPrefix(after, `"`); ok {
			end := strings.IndexByte(inner, '"')
			if end < 0 {
				return out, fmt.Errorf("attribute %s: an unterminated quoted-string", name)
			}
			a.Value, a.Quoted, rest = inner[:end], true, inner[end+1:]
			if strings.ContainsAny(a.Value, "\r\n") {
				return out, fmt.Errorf("attribute %s: a quoted-string with a line break", name)
			}
			if rest != "" && rest[0] != ',' {
				return out, fmt.Errorf("attribute %s: %q after the quoted-string", name, rest)
			}
		} else {
			end := strings.IndexByte(after, ',')
			if end < 0 {
				end = len(after)
			}
			a.Value, rest = after[:end], after[end:]
			if a.Value == "" {
				return out, fmt.Errorf("attribute %s: an empty value", name)
			}
			if strings.ContainsAny(a.Value, "\" \t\r\n") {
				return out, fmt.Errorf("attribute %s: value %q has a quote or white space", name, a.Value)
			}
		}
		out = append(out, a)
		if rest == "" {
			return out, nil
		}
		rest = rest[1:] // the comma
		if rest == "" {
			return out, errors.New("a comma at the end of the attribute list")
		}
	}
}

func checkAttributeName(name string) error {
	if name == "" {
		return errors.New("an attribute without a name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("attribute name %q has a character other than A-Z, 0-9 and -", name)
		}
	}
	return nil
}
