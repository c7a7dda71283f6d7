package pdk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type member struct {
	key  string
	kind JSONKind
	text string
}

var jsonCases = []struct {
	name    string
	in      string
	members []member // nil with ok false: malformed
	ok      bool
}{
	{"empty object", `{}`, nil, true},
	{"empty array", ` [ ] `, nil, true},
	{"flat", `{"alg":"HS256","exp":1.5e9,"b":true,"n":null}`, []member{
		{"alg", JSONString, "HS256"}, {"exp", JSONNumber, "1.5e9"}, {"b", JSONBool, "true"}, {"n", JSONNull, "null"}}, true},
	{"nested skipped", `{"a":{"x":[1,{"y":[]}]},"b":[[],{}],"c":"d"}`, []member{
		{"a", JSONObject, `{"x":[1,{"y":[]}]}`}, {"b", JSONArray, `[[],{}]`}, {"c", JSONString, "d"}}, true},
	{"white space", "\t{ \"a\" :\n1 , \"b\"\r:[ 1 , 2 ] }\n", []member{
		{"a", JSONNumber, "1"}, {"b", JSONArray, "[ 1 , 2 ]"}}, true},
	{"escapes", `{"\u0073ub":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, []member{
		{"sub", JSONString, "a\"\\/\b\f\n\r\t\u00e9\U0001F600"}}, true},
	{"lone surrogates", `{"a":"\ud800x\udc00\ud800\u0041"}`, []member{{"a", JSONString, "\ufffdx\ufffd\ufffdA"}}, true},
	{"invalid UTF-8", "{\"a\":\"\xff\xed\xa0\x80\"}", []member{{"a", JSONString, "\ufffd\ufffd\ufffd\ufffd"}}, true},
	{"duplicates", `{"a":1,"a":2}`, []member{{"a", JSONNumber, "1"}, {"a", JSONNumber, "2"}}, true},
	{"array", `["a",1,null]`, []member{{"", JSONString, "a"}, {"", JSONNumber, "1"}, {"", JSONNull, "null"}}, true},
	{"numbers", `[0,-0,1.25,-1e+10,2E-3,10]`, []member{{"", JSONNumber, "0"}, {"", JSONNumber, "-0"},
		{"", JSONNumber, "1.25"}, {"", JSONNumber, "-1e+10"}, {"", JSONNumber, "2E-3"}, {"", JSONNumber, "10"}}, true},

	{"empty", ``, nil, false},
	{"scalar", `"a"`, nil, false},
	{"null", `null`, nil, false},
	{"unclosed", `{"a":1`, nil, false},
	{"trailing comma", `{"a":1,}`, nil, false},
	{"leading comma", `{,"a":1}`, nil, false},
	{"missing colon", `{"a" 1}`, nil, false},
	{"missing comma", `{"a":1 "b":2}`, nil, false},
	{"unquoted key", `{a:1}`, nil, false},
	{"single quotes", `{'a':1}`, nil, false},
	{"trailing data", `{}x`, nil, false},
	{"two values", `{} {}`, nil, false},
	{"leading zero", `[01]`, nil, false},
	{"plus", `[+1]`, nil, false},
	{"bare dot", `[1.]`, nil, false},
	{"bare exponent", `[1e]`, nil, false},
	{"hex", `[0x1]`, nil, false},
	{"NaN", `[NaN]`, nil, false},
	{"truncated literal", `[tru]`, nil, false},
	{"literal junk", `[nulll]`, nil, false},
	{"control character", "[\"a\x01\"]", nil, false},
	{"bad escape", `["\x41"]`, nil, false},
	{"short unicode escape", `["\u12"]`, nil, false},
	{"single-quote escape", `["\'"]`, nil, false},
	{"mismatched brackets", `{"a":[1}}`, nil, false},
	{"nested trailing comma", `{"a":[1,]}`, nil, false},
	{"nested missing value", `{"a":{"b":}}`, nil, false},
	{"BOM", "\ufeff{}", nil, false},
	{"comment", `{}//`, nil, false},
}

func scanAll(s *JSONScanner, in string) ([]member, error) {
	s.Reset([]byte(in))
	var got []member
	for s.Next() {
		got = append(got, member{string(s.Key()), s.Kind(), string(s.Text())})
	}
	return got, s.Err()
}

func TestJSONScanner(t *testing.T) {
	t.Parallel()
	var s JSONScanner
	for _, tt := range jsonCases {
		got, err := scanAll(&s, tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok %v", tt.name, err, tt.ok)
			continue
		}
		if tt.ok && !equalMembers(got, tt.members) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.members)
		}
		// A valid scalar is refused by the scanner, not by encoding/json.
		if trimmed := strings.TrimSpace(tt.in); json.Valid([]byte(tt.in)) != tt.ok && (tt.ok || trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[')) {
			t.Errorf("%s: the case disagrees with encoding/json", tt.name)
		}
	}
}

func equalMembers(a, b []member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestJSONScannerDepth(t *testing.T) {
	t.Parallel()
	var s JSONScanner
	for _, depth := range []int{maxJSONDepth - 1, maxJSONDepth, maxJSONDepth + 1} {
		in := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		_, err := scanAll(&s, in)
		if want := json.Valid([]byte(in)); (err == nil) != want || want != (depth <= maxJSONDepth) {
			t.Errorf("depth %d: error %v, encoding/json valid %v", depth, err, want)
		}
	}
}

func TestJSONScannerReuse(t *testing.T) {
	var s JSONScanner
	in := []byte(`{"k\u0065y":"v\u00e9","a":[{"b":"c"}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		s.Reset(in)
		for s.Next() {
			_ = s.Text()
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per document once warm", allocs)
	}
}

func TestIsJSONNumber(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e9": true, "-1.5E-9": true, "1e+9": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "+1": false, " 1": false, "1 ": false,
	} {
		if got := IsJSONNumber([]byte(s)); got != want {
			t.Errorf("IsJSONNumber(%q) = %v", s, got)
		}
	}
}

// FuzzJSONScanner: the scanner accepts an object or array exactly when
// encoding/json finds it valid, and reads the members encoding/json reads.
func FuzzJSONScanner(f *testing.F) {
	for _, tt := range jsonCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s JSONScanner
		got, err := scanAll(&s, in)
		trimmed := bytes.TrimLeft([]byte(in), " \t\r\n")
		container := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
		valid := json.Valid([]byte(in))
		if (err == nil) != (valid && container) {
			t.Fatalf("%q: scanner error %v, encoding/json valid %v", in, err, valid)
		}
		if err != nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(in))
		if _, err := dec.Token(); err != nil { // the opening bracket
			t.Fatal(err)
		}
		for i := 0; dec.More(); i++ {
			if i >= len(got) {
				t.Fatalf("%q: scanner read %d members, encoding/json more", in, len(got))
			}
			if trimmed[0] == '{' {
				key, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				if key.(string) != got[i].key {
					t.Fatalf("%q: key %q, encoding/json says %q", in, got[i].key, key)
				}
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			var v any
			vd := json.NewDecoder(bytes.NewReader(raw))
			vd.UseNumber() // 1e999 is valid JSON, but no float64
			if err := vd.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var kind JSONKind
			switch v := v.(type) {
			case string:
				kind = JSONString
				if v != got[i].text {
					t.Fatalf("%q: string %q, encoding/json says %q", in, got[i].text, v)
				}
			case json.Number:
				kind = JSONNumber
			case bool:
				kind = JSONBool
			case nil:
				kind = JSONNull
			case map[string]any:
				kind = JSONObject
			case []any:
				kind = JSONArray
			}
			if kind != got[i].kind {
				t.Fatalf("%q: member %d kind %d, encoding/json says %T", in, i, got[i].kind, v)
			}
			if kind != JSONString && !bytes.Equal(bytes.TrimSpace(raw), []byte(got[i].text)) {
				t.Fatalf("%q: raw %q, encoding/json says %q", in, got[i].text, raw)
			}
		}
		if len(got) != 0 && dec.More() {
			t.Fatalf("%q: more members", in)
		}
	})
}

func BenchmarkJSONScanner(b *testing.B) {
	in := []byte(`{"sub":"PULL:room1/cam/1280x720-30~2000","exp":1900000001,"iat":1800000000,"aud":["relay"]}`)
	var s JSONScanner
	for b.Loop() {
		s.Reset(in)
		for s.Next() {
			_ = s.Text()
		}
	}
}
