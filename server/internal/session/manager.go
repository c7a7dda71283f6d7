// Package session runs the protocol on each WebSocket connection: the first
// message (PUSH or PULL), authorisation, then a publisher's fragments into
// the hub or the hub's fragments out to a viewer.
package session

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/upstream"
	"github.com/hlsrelay/hlsrelay/server/internal/wsconn"
)

// Config is what sessions need. Zero durations and sizes take the defaults
// of the base protocol.
type Config struct {
	Hub        *hub.Hub
	Authorizer policy.Authorizer
	// Router orders where a PULL's stream is looked for. Nil: this node
	// only.
	Router policy.Router
	Log    zerolog.Logger
	// LogRequests logs every accepted or refused PUSH and PULL at info level
	// (otherwise at debug).
	LogRequests bool

	// MaxTextSize bounds a text message. Defaults to 16 KiB.
	MaxTextSize int64
	// MaxBinarySize bounds a fragment. Defaults to 50 MB.
	MaxBinarySize int64
	// FirstMessageTimeout bounds the wait for PUSH or PULL. Defaults to 30 s.
	FirstMessageTimeout time.Duration
	// HeartbeatInterval: H is sent after this long without sending.
	// Defaults to 30 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: a connection silent this long is closed. Defaults to
	// 60 s.
	HeartbeatTimeout time.Duration
	// WriteTimeout: a viewer that accepts no message for this long is
	// disconnected. Defaults to 10 s.
	WriteTimeout time.Duration
	// AuthTimeout bounds one authorisation decision. Defaults to 5 s.
	AuthTimeout time.Duration

	// Upstream pulls streams from other nodes. Nil: PULLs are served from
	// this node's streams only.
	Upstream Upstream
	// Announcer claims the streams published here in the publish registry.
	// Nil: nothing is announced.
	Announcer Announcer
	// InstanceID names this process in the Via header of relayed pulls: a
	// PULL that already passed through it is served from local streams only.
	InstanceID string
	// Metrics counts connections by role, refusals, fragments in and out,
	// delivery latency and dropped viewers. Nil: nothing is counted.
	Metrics *metrics.Metrics
}

// Upstream is the cluster side of a PULL (implemented by upstream.Manager).
type Upstream interface {
	// Locate returns the local stream from the first of sources that has
	// it, pulling it from another node if need be (unless onlyLocal);
	// hub.ErrNotFound if none has.
	Locate(ctx context.Context, req upstream.Request, sources []policy.Source, onlyLocal bool) (*hub.Stream, error)
	// Yield stops pulling a stream so that a local publisher can take it
	// over; it reports whether there was such a pull.
	Yield(stream string) bool
}

// Announcer is the publish registry as the PUSH path sees it.
type Announcer interface {
	// Claim announces that this node publishes stream. An error that is a
	// *protocol.Error refuses the PUSH; other errors (the registry is
	// unreachable) are logged and the PUSH goes on.
	Claim(ctx context.Context, stream string) error
	// Idle says the stream's publisher left without ending it.
	Idle(stream string)
	// Withdraw says the stream ended.
	Withdraw(stream string)
}

func (c *Config) setDefaults() {
	setDefault(&c.MaxTextSize, 16<<10)
	setDefault(&c.MaxBinarySize, 50<<20)
	setDefault(&c.FirstMessageTimeout, 30*time.Second)
	setDefault(&c.HeartbeatInterval, 30*time.Second)
	setDefault(&c.HeartbeatTimeout, 60*time.Second)
	setDefault(&c.WriteTimeout, 10*time.Second)
	setDefault(&c.AuthTimeout, 5*time.Second)
}

func setDefault[T int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Manager owns the sessions of a node. It is safe for concurrent use.
type Manager struct {
	cfg Config

	mu       sync.Mutex
	sessions map[*session]struct{}
	wg       sync.WaitGroup
	ctl      managerControl // ids and the drain (control.go)
}

// NewManager returns a Manager; call Run to start its heartbeats.
func NewManager(cfg Config) *Manager {
	cfg.setDefaults()
	return &Manager{cfg: cfg, sessions: make(map[*session]struct{})}
}

// Serve runs the protocol on an accepted WebSocket in a new goroutine and
// returns at once, so the HTTP handler's goroutine (and its large stack) is
// released. netConn is the connection under conn, used for deadlines and to
// coalesce a fragment's frames into one write.
func (m *Manager) Serve(conn *websocket.Conn, netConn *wsconn.Conn, r *http.Request) {
	s := &session{m: m, conn: conn, netConn: netConn, remote: r.RemoteAddr, header: r.Header, query: r.URL.Query()}
	s.lastWrite.Store(time.Now().UnixNano())
	s.leaveRole = m.cfg.Metrics.Connected(metrics.RolePending)
	s.ctl.id, s.ctl.since = m.ctl.nextID.Add(1), time.Now()
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	if m.ctl.draining {
		s.requestStop(errDraining, false, time.Time{})
	}
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.run()
		s.leaveRole()
		m.mu.Lock()
		delete(m.sessions, s)
		m.mu.Unlock()
	}()
}

// Count returns the number of open sessions.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Run sends heartbeats until ctx is done. One sweep serves every session,
// so a session needs no timer of its own.
func (m *Manager) Run(ctx context.Context) {
	tick := time.NewTicker(m.cfg.HeartbeatInterval / 6)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			m.sweep(now)
		}
	}
}

func (m *Manager) sweep(now time.Time) {
	idleSince := now.Add(-m.cfg.HeartbeatInterval).UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.sessions {
		if s.started.Load() && s.lastWrite.Load() <= idleSince && s.wmu.TryLock() {
			// A session busy writing needs no heartbeat; this one gets
			// its H from a short-lived goroutine, never from the sweep.
			go s.heartbeat()
		}
	}
}

// CloseAll closes every session and waits for their goroutines to end or
// ctx to expire.
func (m *Manager) CloseAll(ctx context.Context) {
	m.mu.Lock()
	for s := range m.sessions {
		s.conn.CloseNow()
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
