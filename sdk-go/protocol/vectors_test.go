package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json and the fuzz seed corpus from the codec table")

// vector is one entry of testdata/vectors.json, the test vectors shared
// with the TypeScript codec. See testdata/README.md for their meaning.
type vector struct {
	Name   string            `json:"name"`
	Text   string            `json:"text"`
	Type   string            `json:"type"`
	Params map[string]string `json:"params"`
	Valid  bool              `json:"valid"`
}

const vectorsFile = "testdata/vectors.json"

// vectorOf describes what this codec makes of text.
func vectorOf(name, text string) vector {
	v := vector{Name: name, Text: text, Params: map[string]string{}}
	m, err := Parse([]byte(text))
	if err != nil {
		return v
	}
	v.Type = m.Type
	for k := range m.Params {
		v.Params[k] = m.Get(k)
	}
	_, err = decode(m)
	v.Valid = err == nil
	return v
}

func TestVectors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []vector
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vectors); err != nil {
		t.Fatalf("%s: %v", vectorsFile, err)
	}
	if len(vectors) < 50 {
		t.Fatalf("%s holds only %d vectors", vectorsFile, len(vectors))
	}
	texts := map[string]bool{}
	for _, want := range vectors {
		texts[want.Text] = true
		t.Run(want.Name, func(t *testing.T) {
			t.Parallel()
			if want.Params == nil {
				want.Params = map[string]string{}
			}
			if !want.Valid && want.Type == "" && len(want.Params) > 0 {
				t.Fatalf("a vector that does not parse has params")
			}
			if got := vectorOf(want.Name, want.Text); !reflect.DeepEqual(got, want) {
				t.Fatalf("text %q:\n got %+v\nwant %+v", want.Text, got, want)
			}
		})
	}
	// The vectors cover the codec table, so the TypeScript codec is held to
	// every case the Go codec is (texts JSON cannot carry excepted).
	for _, tc := range codecCases() {
		if utf8.ValidString(tc.text) && !texts[tc.text] {
			t.Errorf("case %q (%q) is missing from %s; run go test -run TestVectors -update", tc.name, tc.text, vectorsFile)
		}
	}
}

// TestUpdateTestdata rewrites the generated test data when run with -update.
func TestUpdateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata")
	}
	var vectors []vector
	for _, tc := range codecCases() {
		if !utf8.ValidString(tc.text) {
			continue // JSON strings cannot carry it
		}
		vectors = append(vectors, vectorOf(tc.name, tc.text))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(vectors); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"FuzzParse", "FuzzRoundTrip"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tc := range codecCases() {
			name := "seed-" + strings.Map(func(r rune) rune {
				if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
					return r
				}
				return '-'
			}, strings.ToLower(tc.name))
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", tc.text)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
