package protocol

import "testing"

func BenchmarkParsePull(b *testing.B) {
	text := []byte("PULL:stream=room1%2Fcam%2F1280x720-30~2000&auth=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQVUxMOnJvb20xIn0.sig&max_initial_fragments=3&ext=1")
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParsePull(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendFragment is the relay's per-fragment header cost (paid once
// per fragment, not per viewer).
func BenchmarkAppendFragment(b *testing.B) {
	f := Fragment{Duration: 1.001, Seq: 123456, HasSeq: true, Time: 1764000000123}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFragment(buf[:0], f, true)
	}
}
