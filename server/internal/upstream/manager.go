// Package upstream pulls streams from other relay nodes into this node's
// hub: ONE connection per stream per node, however many local viewers watch
// it. A pull finds its source through the route decision (the node the
// publish registry names, or a fixed upstream URL), survives the loss of its
// source by resolving again (viewers see at most a discontinuity), and ends
// after a period without viewers.
package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// Resolver names the node that publishes a stream: the publish registry.
type Resolver interface {
	Lookup(ctx context.Context, stream string) (nodeURL string, found bool, err error)
}

// Config configures a Manager. Zero durations take the defaults.
type Config struct {
	Hub *hub.Hub
	// Registry resolves registry sources; nil means they find nothing.
	Registry Resolver
	// SelfURL is this node's external URL: a registry entry naming it is
	// not pulled from.
	SelfURL string
	// InstanceID names this process in the Via header of its pulls.
	InstanceID string
	// PullSecret signs the PULL tokens of upstream pulls. Empty forwards
	// the token of the viewer whose PULL started the pull.
	PullSecret string
	// Inactivity: a pull with no viewers for this long is closed. Defaults
	// to 30 s.
	Inactivity time.Duration
	// Failover: after losing its source, a pull looks for the stream again
	// for this long before it ends the stream for its viewers. Defaults to
	// 30 s.
	Failover time.Duration
	// DialTimeout bounds connecting to a source and its answer to the
	// PULL. Defaults to 5 s.
	DialTimeout time.Duration
	// HeartbeatInterval: H is sent upstream this often. Defaults to 30 s.
	HeartbeatInterval time.Duration
	// MaxMessageSize bounds a message from upstream. Defaults to 50 MB.
	MaxMessageSize int64
	Log            zerolog.Logger
	// Metrics counts pulls, connection attempts, failovers and the
	// fragments received. Nil: nothing is counted.
	Metrics *metrics.Metrics
}

func (c *Config) setDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Inactivity, 30*time.Second)
	def(&c.Failover, 30*time.Second)
	def(&c.DialTimeout, 5*time.Second)
	def(&c.HeartbeatInterval, 30*time.Second)
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 50 << 20
	}
}

// Request is a viewer's PULL as far as an upstream pull needs it.
type Request struct {
	Stream string
	// Token is the viewer's PULL token, forwarded when no PullSecret is
	// configured.
	Token string
	// Via is the viewer's Via header (the relays its PULL passed through).
	Via []string
}

// Manager runs the upstream pulls of one node. It is safe for concurrent
// use.
type Manager struct {
	cfg Config
	ctx context.Context // cancelled by Close
	end context.CancelFunc

	mu    sync.Mutex
	pulls map[string]*pull
	wg    sync.WaitGroup
}

// New returns a Manager; Close stops its pulls.
func New(cfg Config) *Manager {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, ctx: ctx, end: cancel, pulls: make(map[string]*pull)}
}

// Ensure returns the local stream for req: the one this node has (published
// here or already pulled), or a new pull from the first of sources that has
// the stream. It returns hub.ErrNotFound if no source has it, and the error
// of the last source that failed otherwise. Every call counts as viewer
// activity for an existing pull.
func (m *Manager) Ensure(ctx context.Context, req Request, sources []policy.Source) (*hub.Stream, error) {
	for {
		if s := m.cfg.Hub.Stream(req.Stream); s != nil {
			m.touch(req.Stream)
			return s, nil
		}
		p, leader := m.join(req.Stream)
		if leader {
			s, err := p.start(ctx, req, sources)
			m.settle(p, err)
			return s, err
		}
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.err != nil {
			return nil, p.err
		}
		// The pull started: the stream is in the hub (or already ended
		// again, in which case the next round finds out).
	}
}

// join returns the pull of stream, creating it (leader) if there is none.
func (m *Manager) join(stream string) (p *pull, leader bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.pulls[stream]; p != nil {
		return p, false
	}
	p = &pull{m: m, stream: stream, ready: make(chan struct{})}
	p.touch()
	m.pulls[stream] = p
	return p, true
}

// settle publishes the outcome of a pull's start to the callers waiting
// for it and forgets a pull that did not start.
func (m *Manager) settle(p *pull, err error) {
	p.err = err
	if err != nil {
		m.forget(p)
	}
	close(p.ready)
}

func (m *Manager) forget(p *pull) {
	m.mu.Lock()
	if m.pulls[p.stream] == p {
		delete(m.pulls, p.stream)
	}
	m.mu.Unlock()
}

func (m *Manager) touch(stream string) {
	m.mu.Lock()
	p := m.pulls[stream]
	m.mu.Unlock()
	if p != nil {
		p.touch()
	}
}

// Relayed reports whether stream is being pulled from upstream by this node.
func (m *Manager) Relayed(stream string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pulls[stream]
	return ok
}

// Yield stops pulling stream without ending it, so that a publisher who
// moved to this node can continue it (within the publisher grace period).
// It reports whether there was a pull to stop; it returns once the pull has
// let go of the stream.
func (m *Manager) Yield(stream string) bool {
	m.mu.Lock()
	p := m.pulls[stream]
	m.mu.Unlock()
	if p == nil {
		return false
	}
	<-p.ready
	p.stop(true)
	return true
}

// Count returns the number of upstream pulls.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pulls)
}

// Close ends every pull (their streams end for local viewers) and waits for
// them.
func (m *Manager) Close() {
	m.end()
	m.wg.Wait()
}

// token returns the auth parameter of an upstream PULL for stream.
func (m *Manager) token(stream, viewerToken string) (string, error) {
	if m.cfg.PullSecret == "" {
		return viewerToken, nil
	}
	t, err := token.Sign([]byte(m.cfg.PullSecret), token.Pull, stream, 10*time.Minute)
	if err != nil {
		return "", fmt.Errorf("upstream: sign PULL token: %w", err)
	}
	return t, nil
}

// Locate returns the local stream for a PULL from the first of sources that
// has it: this node's own streams, or, from the first other source on, a
// pull from another node (Ensure). onlyLocal (only_source, or a looped
// relay chain) skips the other nodes. It returns hub.ErrNotFound if no
// source has the stream.
func (m *Manager) Locate(ctx context.Context, req Request, sources []policy.Source, onlyLocal bool) (*hub.Stream, error) {
	for i, src := range sources {
		if src.Kind != policy.SourceLocal {
			if onlyLocal {
				continue
			}
			return m.Ensure(ctx, req, remote(sources[i:]))
		}
		if s := m.cfg.Hub.Stream(req.Stream); s != nil {
			m.touch(req.Stream)
			return s, nil
		}
	}
	return nil, hub.ErrNotFound
}

// remote returns the sources other than this node, in order.
func remote(sources []policy.Source) []policy.Source {
	out := make([]policy.Source, 0, len(sources))
	for _, s := range sources {
		if s.Kind != policy.SourceLocal {
			out = append(out, s)
		}
	}
	return out
}
