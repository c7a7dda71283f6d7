package pdk

import (
	"encoding/base64"
	"testing"
)

var base64Cases = []struct {
	in   string
	want string
	ok   bool
}{
	{"", "", true},
	{"QQ", "A", true},
	{"QUI", "AB", true},
	{"QUJD", "ABC", true},
	{"QR", "A", true}, // non-zero trailing bits are accepted, as by RawURLEncoding
	{"Q", "", false},
	{"QUJDR", "", false},
	{"QQ==", "", false},
	{"-_-_", "\xfb\xff\xbf", true},
	{"+/+/", "", false},
	{"QU\nJ\rD", "ABC", true},
	{"\n", "", true},
	{"QU JD", "", false},
	{"eyJhbGciOiJIUzI1NiJ9", `{"alg":"HS256"}`, true},
}

func TestAppendBase64URL(t *testing.T) {
	t.Parallel()
	for _, tt := range base64Cases {
		got, err := AppendBase64URL([]byte("x"), []byte(tt.in))
		if (err == nil) != tt.ok || tt.ok && string(got) != "x"+tt.want {
			t.Errorf("AppendBase64URL(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzAppendBase64URL: the decoder accepts exactly what
// base64.RawURLEncoding accepts, with the same result.
func FuzzAppendBase64URL(f *testing.F) {
	for _, tt := range base64Cases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := base64.RawURLEncoding.DecodeString(s)
		got, err := AppendBase64URL(nil, []byte(s))
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, encoding/base64 says %v", s, err, werr)
		}
		if err == nil && string(got) != string(want) {
			t.Fatalf("%q: %q, encoding/base64 says %q", s, got, want)
		}
	})
}

func BenchmarkAppendBase64URL(b *testing.B) {
	src := []byte("eyJzdWIiOiJQVUxMOnJvb20xL2NhbS8xMjgweDcyMC0zMH4yMDAwIiwiZXhwIjoxOTAwMDAwMDAxfQ")
	var dst []byte
	for b.Loop() {
		dst, _ = AppendBase64URL(dst[:0], src)
	}
}
