package config

import (
	"reflect"
	"strings"
	"testing"
)

type dotenvCase struct {
	name string
	src  string
	want []dotenvEntry // nil with err set
	err  string        // the error, exactly
}

func e(key, value string, line int) dotenvEntry {
	return dotenvEntry{Key: key, Value: value, Line: line}
}

// dotenvCases drive TestParseDotenv and seed FuzzParseDotenv.
var dotenvCases = []dotenvCase{
	{name: "empty", src: "", want: nil},
	{name: "blank lines and comments", src: "\n  \n# comment\n\t# indented comment\n", want: nil},
	{name: "simple", src: "A=1\nB=two\n", want: []dotenvEntry{e("A", "1", 1), e("B", "two", 2)}},
	{name: "no final newline", src: "A=1", want: []dotenvEntry{e("A", "1", 1)}},
	{name: "CRLF", src: "A=1\r\nB=2\r\n", want: []dotenvEntry{e("A", "1", 1), e("B", "2", 2)}},
	{name: "byte order mark", src: "\uFEFFA=1\n", want: []dotenvEntry{e("A", "1", 1)}},
	{name: "export", src: "export A=1\nexport\tB=2\n", want: []dotenvEntry{e("A", "1", 1), e("B", "2", 2)}},
	{name: "a key named export", src: "export=1\nexport = 2\n", want: []dotenvEntry{e("export", "1", 1), e("export", "2", 2)}},
	{name: "spaces around =", src: "  A = 1  \n", want: []dotenvEntry{e("A", "1", 1)}},
	{name: "empty values", src: "A=\nB=   \nC= # comment\n", want: []dotenvEntry{e("A", "", 1), e("B", "", 2), e("C", "", 3)}},
	{name: "inline comment", src: "A=1 # one\nB=2\t# two\n", want: []dotenvEntry{e("A", "1", 1), e("B", "2", 2)}},
	{name: "hash inside a value", src: "A=a#b\nB=#x\n", want: []dotenvEntry{e("A", "a#b", 1), e("B", "#x", 2)}},
	{name: "unquoted keeps inner spaces and quotes", src: `A=a b "c" 'd'` + "\n", want: []dotenvEntry{e("A", `a b "c" 'd'`, 1)}},
	{name: "unquoted equals sign", src: "A=b=c\n", want: []dotenvEntry{e("A", "b=c", 1)}},
	{name: "single quotes are literal", src: `A='x\ny $B "q" # not comment'` + "\n", want: []dotenvEntry{e("A", `x\ny $B "q" # not comment`, 1)}},
	{name: "double-quote escapes", src: `A="l1\nl2\r\t\"q\" \\ \$HOME"` + "\n", want: []dotenvEntry{e("A", "l1\nl2\r\t\"q\" \\ $HOME", 1)}},
	{name: "unknown escape kept", src: `A="a\qb\'c"` + "\n", want: []dotenvEntry{e("A", `a\qb\'c`, 1)}},
	{name: "no interpolation", src: "A=${HOME}/x\nB=\"$HOME\"\n", want: []dotenvEntry{e("A", "${HOME}/x", 1), e("B", "$HOME", 2)}},
	{name: "comment after quotes", src: `A="x" # c` + "\n" + `B='y'	#c` + "\n", want: []dotenvEntry{e("A", "x", 1), e("B", "y", 2)}},
	{name: "empty quotes", src: "A=\"\"\nB=''\n", want: []dotenvEntry{e("A", "", 1), e("B", "", 2)}},
	{name: "multi-line double quotes", src: "A=\"line 1\nline 2\"\nB=3\n", want: []dotenvEntry{e("A", "line 1\nline 2", 1), e("B", "3", 3)}},
	{name: "multi-line single quotes", src: "A='1\n2\n3'\nB=4\n", want: []dotenvEntry{e("A", "1\n2\n3", 1), e("B", "4", 4)}},
	{name: "quoted value keeps spaces", src: `A="  x  "` + "\n", want: []dotenvEntry{e("A", "  x  ", 1)}},
	{name: "duplicates are all returned", src: "A=1\nA=2\n", want: []dotenvEntry{e("A", "1", 1), e("A", "2", 2)}},
	{name: "lower case and underscores", src: "_a_b9=1\n", want: []dotenvEntry{e("_a_b9", "1", 1)}},
	{name: "utf-8 value", src: "A=caf\u00e9 \u2713\n", want: []dotenvEntry{e("A", "caf\u00e9 \u2713", 1)}},

	{name: "no equals sign", src: "A=1\nB\n", err: "line 2: expected KEY=VALUE after B"},
	{name: "export without assignment", src: "export A\n", err: "line 1: expected KEY=VALUE after A"},
	{name: "key starts with a digit", src: "1A=x\n", err: "line 1: expected a variable name (letters, digits and _)"},
	{name: "key with a dash", src: "A-B=x\n", err: "line 1: expected KEY=VALUE after A"},
	{name: "no key", src: "=x\n", err: "line 1: expected a variable name (letters, digits and _)"},
	{name: "yaml style", src: "A: 1\n", err: "line 1: expected KEY=VALUE after A"},
	{name: "unterminated double quote", src: "A=1\nB=\"abc\nC=2\n", err: "line 2: the double-quoted value of B has no closing quote"},
	{name: "unterminated single quote", src: "\n\nB='abc", err: "line 3: the single-quoted value of B has no closing quote"},
	{name: "backslash at the end", src: `B="abc\`, err: "line 1: the double-quoted value of B has no closing quote"},
	{name: "text after the closing quote", src: "A=\"x\"y\n", err: "line 1: unexpected text after the closing quote of A"},
	{name: "text after a multi-line value", src: "A='x\n'y\n", err: "line 2: unexpected text after the closing quote of A"},
}

func TestParseDotenv(t *testing.T) {
	t.Parallel()
	for _, tc := range dotenvCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDotenv(tc.src)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDotenvErrorsHideValues: a malformed file may hold secrets, so errors
// name keys and lines, never values.
func TestDotenvErrorsHideValues(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"PULL_SECRET=\"TOPSECRET",
		"PULL_SECRET='TOPSECRET",
		"PULL_SECRET=\"TOPSECRET\"x",
		"TOPSECRET",
	} {
		_, err := parseDotenv(src)
		if err == nil {
			t.Fatalf("%q: no error", src)
		}
		if strings.Contains(err.Error(), "TOPSECRET") && src != "TOPSECRET" {
			t.Errorf("%q: error shows the value: %v", src, err)
		}
	}
}

func TestQuoteDotenv(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "plain", `a"b\c`, "x\ny\r\tz", "$HOME # ' \\n", "\x00\xff"} {
		got, err := parseDotenv("K=" + quoteDotenv(v))
		if err != nil || len(got) != 1 || got[0].Value != v {
			t.Errorf("quoteDotenv(%q) does not read back: %+v, %v", v, got, err)
		}
	}
}

// FuzzParseDotenv checks that the parser never panics, that what it accepts
// is well formed, and that writing the entries back and parsing again gives
// the same keys and values.
func FuzzParseDotenv(f *testing.F) {
	for _, tc := range dotenvCases {
		f.Add(tc.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		entries, err := parseDotenv(src)
		if err != nil {
			if _, ok := err.(*dotenvSyntaxError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		lines := strings.Count(strings.ReplaceAll(src, "\r\n", "\n"), "\n") + 1
		var b strings.Builder
		prev := 0
		for _, en := range entries {
			if en.Key == "" || !isKeyStart(en.Key[0]) {
				t.Fatalf("bad key %q", en.Key)
			}
			for i := 0; i < len(en.Key); i++ {
				if !isKeyChar(en.Key[i]) {
					t.Fatalf("bad key %q", en.Key)
				}
			}
			if en.Line <= prev || en.Line > lines {
				t.Fatalf("entry %q on line %d after line %d (of %d)", en.Key, en.Line, prev, lines)
			}
			prev = en.Line
			b.WriteString("export " + en.Key + " = " + quoteDotenv(en.Value) + " # again\n")
		}
		again, err := parseDotenv(b.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if len(again) != len(entries) {
			t.Fatalf("re-parse: %d entries, want %d", len(again), len(entries))
		}
		for i := range entries {
			if again[i].Key != entries[i].Key || again[i].Value != entries[i].Value {
				t.Fatalf("re-parse: %+v, want %+v", again[i], entries[i])
			}
		}
	})
}
