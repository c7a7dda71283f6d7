package upstream

import (
	"fmt"
	"sync"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// recorder is a hub.Sink that remembers what it was given.
type recorder struct {
	mu     sync.Mutex
	frames []string
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) WriteFragment(f *hub.Fragment, disc bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, fmt.Sprintf("%s disc=%v", f.Data, disc || f.Disc))
	return nil
}

func (r *recorder) WriteEnd() {}

// sawDiscAfter reports whether a fragment with data b, marked disc, came
// after one with data a.
func (r *recorder) sawDiscAfter(a, b string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	seenA := false
	for _, f := range r.frames {
		if f == a+" disc=false" || f == a+" disc=true" {
			seenA = true
		}
		if seenA && f == b+" disc=true" {
			return true
		}
	}
	return false
}

func (r *recorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.frames...)
}
