package protocol

import "testing"

// FuzzParse checks that Parse never panics, that its errors wrap
// ErrMalformed, and that every message it accepts re-encodes canonically
// into a text that parses to the same message.
// Seeds: the codec table and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, tc := range codecCases() {
		f.Add([]byte(tc.text))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkMessageRoundTrip(t, text)
	})
}

// FuzzRoundTrip checks the typed decoders and the Append* encoders: anything
// that decodes must re-encode and decode again to the same value.
// Seeds: the codec table and testdata/fuzz/FuzzRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range codecCases() {
		f.Add([]byte(tc.text))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkTypedRoundTrip(t, text)
	})
}
