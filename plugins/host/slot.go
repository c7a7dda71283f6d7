package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Slot holds the current plugin of a role and swaps it for hot reload: a
// call takes the plugin current when it starts and finishes on it, and a
// call that meets a plugin closed by a swap is retried on the new one, so a
// reload never fails a decision. It is safe for concurrent use.
type Slot struct {
	cur  atomic.Pointer[Plugin]
	swap sync.Mutex // one swap at a time
}

// errEmptySlot is returned by calls on a Slot holding no plugin.
var errEmptySlot = errors.New("host: slot holds no plugin")

// NewSlot returns a Slot holding p.
func NewSlot(p *Plugin) *Slot {
	s := &Slot{}
	s.cur.Store(p)
	return s
}

// Current returns the plugin calls start on now.
func (s *Slot) Current() *Plugin { return s.cur.Load() }

// Authorize calls Authorize of the current plugin.
func (s *Slot) Authorize(ctx context.Context, req *Request) (Decision, error) {
	for {
		p := s.cur.Load()
		if p == nil {
			return Decision{}, errEmptySlot
		}
		d, err := p.Authorize(ctx, req)
		if errors.Is(err, ErrClosed) && s.cur.Load() != p {
			continue // swapped out between Load and the call
		}
		return d, err
	}
}

// Route calls Route of the current plugin.
func (s *Slot) Route(ctx context.Context, req *Request) (RouteDecision, error) {
	for {
		p := s.cur.Load()
		if p == nil {
			return RouteDecision{}, errEmptySlot
		}
		d, err := p.Route(ctx, req)
		if errors.Is(err, ErrClosed) && s.cur.Load() != p {
			continue
		}
		return d, err
	}
}

// Swap makes next current at once, then closes the previous plugin after
// its in-flight calls have finished (or ctx is done: see Plugin.Close). Load
// and self-test next before: a plugin that failed to load never reaches a
// Slot, and the old one keeps serving. It returns the error of closing the
// previous plugin.
func (s *Slot) Swap(ctx context.Context, next *Plugin) error {
	s.swap.Lock()
	defer s.swap.Unlock()
	old := s.cur.Swap(next)
	if old == nil || old == next {
		return nil
	}
	return old.Close(ctx)
}
