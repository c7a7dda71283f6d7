package host

import (
	"context"
	"errors"
	"time"
)

// errNoInstance is the cause of a FailBusy: every instance stayed busy.
var errNoInstance = errors.New("all instances busy until the call deadline")

// acquire takes an idle instance, creates one if fewer than PoolSize exist,
// or waits for either until deadline.
func (p *Plugin) acquire(ctx context.Context, deadline time.Time) (*instance, error) {
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return p.spawn(ctx)
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case in := <-p.idle:
		return in, nil
	case p.slots <- struct{}{}:
		return p.spawn(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, &CallError{Plugin: p.cfg.Name, Kind: FailBusy, Err: errNoInstance}
	}
}

// spawn creates an instance in a slot the caller has taken.
func (p *Plugin) spawn(ctx context.Context) (*instance, error) {
	in, err := p.newInstance(ctx)
	if err != nil {
		<-p.slots
		return nil, &CallError{Plugin: p.cfg.Name, Kind: FailInit, Err: err}
	}
	return in, nil
}

// release returns a healthy instance to the pool and discards any other.
func (p *Plugin) release(in *instance, healthy bool) {
	if !healthy || p.isClosed() {
		p.discard(context.Background(), in)
		return
	}
	p.idle <- in // never blocks: at most PoolSize instances exist
	if p.isClosed() {
		p.drain(context.Background()) // Close gave up waiting and drained already
	}
}

// discard closes an instance and frees its slot.
func (p *Plugin) discard(ctx context.Context, in *instance) {
	p.liveMu.Lock()
	delete(p.live, in)
	p.liveMu.Unlock()
	in.timer.Stop()
	_ = in.mod.Close(ctx)
	<-p.slots
	p.stats.instancesDiscarded.Add(1)
}

// Warm creates instances until the pool holds PoolSize of them, so that a
// burst of requests finds them initialised instead of paying for creation
// (about 10 ms for a Go guest) on the request path. Load creates only one,
// to keep start-up short; call Warm afterwards, e.g. in the background.
func (p *Plugin) Warm(ctx context.Context) error {
	for !p.isClosed() {
		select {
		case p.slots <- struct{}{}:
		default:
			return nil // the pool is full
		}
		in, err := p.newInstance(ctx)
		if err != nil {
			<-p.slots
			if p.isClosed() {
				return ErrClosed // closed while warming (a reload swapped it out)
			}
			return &CallError{Plugin: p.cfg.Name, Kind: FailInit, Err: err}
		}
		p.release(in, true)
	}
	return ErrClosed
}
