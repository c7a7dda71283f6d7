package upstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// pull is one stream pulled from upstream into the hub.
type pull struct {
	m      *Manager
	stream string
	ready  chan struct{} // closed when start has an outcome
	err    error         // start's error; read after ready

	lastActive   atomic.Int64 // Unix ns of the last sign of a viewer
	lastFragment atomic.Int64 // Unix ns of the last fragment received

	// Set by start, before ready closes.
	req     Request
	sources []policy.Source
	pub     *hub.Publication
	cancel  context.CancelFunc
	done    chan struct{} // closed when run returns
	yield   atomic.Bool   // stop lets go of the stream without ending it
	// caughtUp is closed once the first connection's backlog is in (see
	// conn.reachedEdge), or the connection ended.
	caughtUp     chan struct{}
	caughtUpOnce sync.Once

	mu      sync.Mutex
	current *conn // the connection being read
	moveTo  string
}

func (p *pull) touch() { p.lastActive.Store(time.Now().UnixNano()) }

// start connects to the first source that has the stream and starts
// pumping its fragments into a new local stream.
func (p *pull) start(ctx context.Context, req Request, sources []policy.Source) (*hub.Stream, error) {
	p.req, p.sources = req, sources
	c, err := p.connect(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	pub, err := p.m.cfg.Hub.Publish(p.stream, hub.PublishOptions{})
	if err != nil {
		// A publisher connected here meanwhile: it wins.
		c.close()
		if s := p.m.cfg.Hub.Stream(p.stream); s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("upstream: stream %s: %w", p.stream, err)
	}
	p.pub = pub
	p.m.cfg.Metrics.UpstreamPull(1)
	runCtx, cancel := context.WithCancel(p.m.ctx)
	p.cancel, p.done = cancel, make(chan struct{})
	p.lastFragment.Store(time.Now().UnixNano())
	p.caughtUp = make(chan struct{})
	if !c.hasEdge {
		p.markCaughtUp()
	}
	p.m.wg.Add(2)
	go p.run(runCtx, c)
	go p.watch(runCtx)
	p.m.cfg.Log.Info().Str("stream", p.stream).Str("upstream", c.url).Str("epoch", pub.Epoch()).Msg("relaying from upstream")
	// A viewer in parts starts at the stream's latest independent part:
	// let the upstream's backlog (a burst) arrive first, so that is the
	// live one, not the oldest buffered.
	select {
	case <-p.caughtUp:
	case <-ctx.Done():
	case <-time.After(backlogWait):
	}
	return pub.Stream(), nil
}

// backlogWait bounds how long a new pull waits for the upstream's backlog.
const backlogWait = 2 * time.Second

func (p *pull) markCaughtUp() { p.caughtUpOnce.Do(func() { close(p.caughtUp) }) }

// stop ends the pull and waits for it; with yield the stream stays live
// (for its grace period) for a local publisher to continue.
func (p *pull) stop(yield bool) {
	if p.cancel == nil {
		return
	}
	p.yield.Store(yield)
	p.cancel()
	<-p.done
}

// connect tries the sources in order. prefer, if set, is tried first (a node
// the registry now names); resume continues after the last fragment if the
// source still has the same stream instance.
func (p *pull) connect(ctx context.Context, prefer string, resume *protocol.Resume) (*conn, error) {
	auth, err := p.m.token(p.stream, p.req.Token)
	if err != nil {
		return nil, err
	}
	var failed error
	try := func(url string, onlySource bool) (*conn, error) {
		// Parts are relayed as parts; every buffered fragment from its
		// first part (not only from the latest independent part, where a
		// new viewer starts), so that this node's ring fills at once.
		pull := protocol.Pull{Stream: p.stream, Auth: auth, OnlySource: onlySource, MaxInitialFragments: protocol.MaxInteger, Ext: true, Parts: true}
		if resume != nil {
			pull.Resume = *resume
		}
		c, err := dial(ctx, dialParams{
			url: url, pull: pull, via: p.via(), timeout: p.m.cfg.DialTimeout,
			maxMessage: p.m.cfg.MaxMessageSize,
		})
		p.m.cfg.Metrics.UpstreamConnect(connectResult(err))
		return c, err
	}
	if prefer != "" {
		if c, err := try(prefer, true); err == nil {
			return c, nil
		}
	}
	for _, src := range p.sources {
		url, onlySource, err := p.resolve(ctx, src)
		if err == nil {
			var c *conn
			if c, err = try(url, onlySource); err == nil {
				return c, nil
			}
		}
		if !errors.Is(err, errNotFound) {
			failed = err
			p.m.cfg.Log.Debug().Err(err).Str("stream", p.stream).Stringer("source", src.Kind).Msg("upstream source failed")
		}
	}
	if failed != nil {
		return nil, failed
	}
	return nil, hub.ErrNotFound
}

// connectResult is the result label of a connection attempt that ended
// with err.
func connectResult(err error) string {
	var perr *protocol.Error
	switch {
	case err == nil:
		return metrics.ResultOK
	case errors.Is(err, errNotFound):
		return metrics.ResultNotFound
	case errors.As(err, &perr):
		return metrics.ResultRefused
	}
	return metrics.ResultError
}

// resolve returns the URL of src and whether to pull from it with
// only_source. A registry entry names the publishing node itself, so it is
// asked only for its own streams; a fixed upstream may relay in turn.
func (p *pull) resolve(ctx context.Context, src policy.Source) (url string, onlySource bool, err error) {
	switch src.Kind {
	case policy.SourceRegistry:
		if p.m.cfg.Registry == nil {
			return "", false, errNotFound
		}
		url, found, err := p.m.cfg.Registry.Lookup(ctx, p.stream)
		switch {
		case err != nil:
			return "", false, err
		case !found:
			return "", false, errNotFound
		case url == p.m.cfg.SelfURL:
			return "", false, errNotFound
		}
		return url, true, nil
	case policy.SourceUpstream:
		return src.URL, false, nil
	}
	return "", false, errNotFound
}

// via is the Via header of this node's pulls: the viewer's chain and this
// node.
func (p *pull) via() string {
	return strings.Join(append(append([]string(nil), p.req.Via...), p.m.cfg.InstanceID), ",")
}

func (p *pull) setCurrent(c *conn) {
	p.mu.Lock()
	p.current = c
	p.mu.Unlock()
}

// moveTo closes the current connection so that run reconnects to url.
func (p *pull) move(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moveTo = url
	if p.current != nil {
		p.current.close()
	}
}

func (p *pull) takeMove() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	url := p.moveTo
	p.moveTo = ""
	return url
}
