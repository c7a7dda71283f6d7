package cmaf

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// layout describes chunks as letters: K an independent chunk, d a
// dependent one, I an independent chunk with a new init segment.
func layout(s string, d time.Duration) []Chunk {
	var cs []Chunk
	for _, r := range s {
		c := Chunk{Duration: d, Independent: r != 'd'}
		if r == 'I' {
			c.Init = &Init{}
		}
		cs = append(cs, c)
	}
	return cs
}

// fragments runs a Fragmenter over chunks and describes the result as
// "parts/duration" per fragment, checking the per-chunk reports on the way.
func fragments(t *testing.T, f *Fragmenter, chunks []Chunk) string {
	t.Helper()
	var out []string
	var frag uint64
	index := 0
	closeFrag := func(closed Fragment) {
		if closed.Index != frag || closed.Parts != index {
			t.Fatalf("closed fragment %+v, want index %d with %d parts", closed, frag, index)
		}
		out = append(out, fmt.Sprintf("%d/%v", closed.Parts, closed.Duration))
		frag, index = frag+1, 0
	}
	for i, c := range chunks {
		p, closed, ok := f.Add(c)
		if ok {
			closeFrag(closed)
		}
		if p.Fragment != frag || p.Index != index || p.Duration != c.Duration || p.Independent != c.Independent {
			t.Fatalf("chunk %d: %+v, want fragment %d part %d", i, p, frag, index)
		}
		index++
	}
	if closed, ok := f.Close(); ok {
		closeFrag(closed)
	}
	if _, ok := f.Close(); ok {
		t.Fatal("Close closed a fragment twice")
	}
	return strings.Join(out, " ")
}

func TestFragmenter(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	tests := []struct {
		name   string
		target time.Duration
		chunks []Chunk
		want   string
	}{
		{"a key frame every second", 0, layout("KddddKddddKdd", 200*ms), "5/1s 5/1s 3/600ms"},
		{"key frames every 2 s: fragments wait for them", 0, layout("KdddddddddKddddddddd", 200*ms), "10/2s 10/2s"},
		{"a key frame every chunk", 0, layout("KKKKKKK", 200*ms), "5/1s 2/400ms"},
		{"an early key frame does not cut", 0, layout("KddKdKdddK", 200*ms), "5/1s 5/1s"},
		{"target 500 ms", 500 * ms, layout("KdKdKd", 250*ms), "2/500ms 2/500ms 2/500ms"},
		{"the first chunk opens a fragment even without a key frame", 0, layout("dddddKdddd", 200*ms), "5/1s 5/1s"},
		{"a new init segment cuts at once", 0, layout("KddIddddKd", 200*ms), "3/600ms 5/1s 2/400ms"},
		// 24 fps: 5 frames per chunk, 4 before each key frame; each chunk
		// rounds to the nanosecond, the margin absorbs it.
		{"rounding", 0, []Chunk{
			{Duration: 208333333, Independent: true}, {Duration: 208333333}, {Duration: 208333333}, {Duration: 208333333}, {Duration: 166666667},
			{Duration: 208333333, Independent: true}, {Duration: 208333333},
		}, "5/999.999999ms 2/416.666666ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &Fragmenter{Target: tt.target}
			if got := fragments(t, f, tt.chunks); got != tt.want {
				t.Errorf("fragments %s, want %s", got, tt.want)
			}
		})
	}
}

// TestFragmenterOnTestdata: the committed stream (key frames every second,
// 200 ms chunks) makes two fragments of 5 parts.
func TestFragmenterOnTestdata(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(testdataStream)
	if err != nil {
		t.Fatal(err)
	}
	_, chunks, err := readAll(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fragments(t, &Fragmenter{}, chunks); got != "5/1s 5/1s" {
		t.Errorf("fragments %s, want 5/1s 5/1s", got)
	}
}
