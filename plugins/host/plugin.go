package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/hlsrelay/hlsrelay/plugins/internal/testclock"
)

// Role says which decisions a plugin makes, and so which exports it must
// have. Roles are bit flags: a plugin may do both.
type Role uint8

const (
	RoleAuthorize Role = 1 << iota // exports hlsrelay_authorize
	RoleRoute                      // exports hlsrelay_route
)

func (r Role) String() string {
	switch r {
	case RoleAuthorize:
		return "authorisation"
	case RoleRoute:
		return "routing"
	case RoleAuthorize | RoleRoute:
		return "authorisation and routing"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Registry is the publish registry as registry_lookup sees it.
type Registry interface {
	// Lookup returns the value of key. found is false for a key that does
	// not exist; err means the registry could not be asked. ctx carries the
	// look-up's deadline.
	Lookup(ctx context.Context, key string) (value []byte, found bool, err error)
}

// Logger receives the lines a plugin logs (level is one of abi.Log*), the
// lines it writes to WASI stdout or stderr (at abi.LogDebug), and the
// host's reports of the plugin's faults (at abi.LogError). It must be safe
// for concurrent use and should not block.
type Logger func(level int, plugin string, msg string)

// Defaults of PluginConfig.
const (
	DefaultPoolSize        = 4
	DefaultCallTimeout     = 50 * time.Millisecond
	DefaultRegistryTimeout = 200 * time.Millisecond
	DefaultInitTimeout     = 2 * time.Second
)

// PluginConfig configures one plugin. Load copies it.
type PluginConfig struct {
	// Name identifies the plugin in logs, errors and statistics, e.g.
	// "jwtauth". Defaults to "plugin".
	Name string
	// Wasm is the module's binary.
	Wasm []byte
	// Config is what field_get(FieldConfig) returns, bytes as given.
	Config []byte
	// Role says which exports are required. It must not be zero.
	Role Role
	// PoolSize is the most instances that run at once. One is created and
	// initialised by Load, the others when concurrent calls need them.
	// Defaults to 4.
	PoolSize int
	// CallTimeout bounds one call of the guest. The wait for a free
	// instance, when all are busy, is bounded by it too, separately.
	// Defaults to 50 ms.
	CallTimeout time.Duration
	// InitTimeout bounds the creation of one instance: instantiation,
	// _initialize and hlsrelay_init. It also bounds Load's self-test call.
	// Defaults to 2 s.
	InitTimeout time.Duration
	// NodeID and NodeURL are what field_get returns for FieldNodeID and
	// FieldNodeURL.
	NodeID, NodeURL string
	// Registry answers registry_lookup. Nil makes every look-up return
	// abi.Unavailable.
	Registry Registry
	// RegistryPrefixes are the key prefixes registry_lookup may read; any
	// other key returns abi.Denied. Empty allows none; "" allows all.
	RegistryPrefixes []string
	// RegistryTimeout bounds one look-up (and the call deadline bounds it
	// too). Defaults to 200 ms.
	RegistryTimeout time.Duration
	// Log receives the plugin's log lines; nil discards them.
	Log Logger
	// MaxCacheTTL bounds the TTL a plugin asks for with decision_cache.
	// Zero disables the decision cache.
	MaxCacheTTL time.Duration
}

// Request is what a plugin sees of a PUSH or PULL. The host reads it only
// during the call; Header and Query may be nil.
type Request struct {
	Action     string // "PUSH" or "PULL"
	Stream     string
	Token      string // the auth parameter, possibly empty
	RemoteAddr string // the client's "ip:port"
	Header     http.Header
	Query      url.Values
	OnlySource bool // the PULL asked not to be fetched from another node
}

// Plugin is a loaded plugin: its compiled module and a pool of instances.
// It is safe for concurrent use.
type Plugin struct {
	r        *Runtime
	cfg      PluginConfig
	compiled wazero.CompiledModule
	now      func() time.Time // nil: the real clock

	idle  chan *instance // idle instances, at most PoolSize
	slots chan struct{}  // one token per live instance

	mu       sync.RWMutex // guards closed against enter
	closed   bool
	inflight sync.WaitGroup

	stats     counters
	cache     *decisionCache // nil: disabled
	guestLog  bucket         // the plugin's own lines
	faultLog  bucket         // the host's reports of its faults
	closeOnce sync.Once
	closeErr  error

	liveMu      sync.Mutex
	live        map[*instance]struct{} // every instance not yet discarded
	interrupted atomic.Bool            // Close interrupted in-flight calls
}

// ErrClosed is returned by calls to a plugin after Close.
var ErrClosed = errors.New("plugin closed")

var wasmMagic = []byte("\x00asm")

// Load compiles (or takes from the cache), validates, instantiates and
// initialises a plugin, then self-tests it with one call per role on a
// synthetic request: a plugin that faults on it is refused. Errors name the
// plugin and say what is wrong.
func (r *Runtime) Load(ctx context.Context, cfg PluginConfig) (*Plugin, error) {
	if cfg.Name == "" {
		cfg.Name = "plugin"
	}
	p, err := r.load(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", cfg.Name, err)
	}
	return p, nil
}

func (r *Runtime) load(ctx context.Context, cfg PluginConfig) (*Plugin, error) {
	if cfg.Role == 0 || cfg.Role&^(RoleAuthorize|RoleRoute) != 0 {
		return nil, fmt.Errorf("invalid role %d", cfg.Role)
	}
	setDefaults(&cfg)
	if !bytes.HasPrefix(cfg.Wasm, wasmMagic) {
		return nil, errors.New("not a WebAssembly module (no \\0asm header)")
	}
	wasm := cfg.Wasm
	if r.mode == deadlineInstrument {
		var err error
		if wasm, err = instrument(wasm); err != nil {
			return nil, fmt.Errorf("invalid WebAssembly module: %w", err)
		}
	}
	cm, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("invalid WebAssembly module: %w", err)
	}
	if err := checkExports(cm, cfg.Role, r.maxPages); err != nil {
		_ = cm.Close(ctx)
		return nil, err
	}
	if err := r.checkImports(cm); err != nil {
		_ = cm.Close(ctx)
		return nil, err
	}
	cfg.Wasm = nil // compiled; not kept
	p := &Plugin{
		r:        r,
		cfg:      cfg,
		compiled: cm,
		now:      testclock.From(ctx),
		idle:     make(chan *instance, cfg.PoolSize),
		slots:    make(chan struct{}, cfg.PoolSize),
		guestLog: newBucket(logRate),
		faultLog: newBucket(logRate),
		live:     make(map[*instance]struct{}),
	}
	if cfg.MaxCacheTTL > 0 {
		p.cache = newDecisionCache(decisionCacheSize)
	}
	p.slots <- struct{}{}
	in, err := p.newInstance(ctx)
	if err != nil {
		<-p.slots
		_ = cm.Close(ctx)
		return nil, err
	}
	p.idle <- in
	r.remember(p)
	if err := p.selfTest(ctx); err != nil {
		_ = p.Close(ctx)
		return nil, err
	}
	return p, nil
}

func setDefaults(c *PluginConfig) {
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.RegistryTimeout <= 0 {
		c.RegistryTimeout = DefaultRegistryTimeout
	}
	c.Config = bytes.Clone(c.Config)
	c.RegistryPrefixes = append([]string(nil), c.RegistryPrefixes...)
}

// selfTestRequest is the synthetic request of Load's self-test.
var selfTestRequest = Request{
	Action:     "PULL",
	Stream:     "hlsrelay-selftest",
	RemoteAddr: "127.0.0.1:0",
}

// selfTest makes one call per role; the decision does not matter, a fault
// refuses the plugin. The call is not counted in the statistics.
func (p *Plugin) selfTest(ctx context.Context) error {
	req := selfTestRequest
	for _, ph := range []phase{phaseAuthorize, phaseRoute} {
		if p.cfg.Role&ph.role() == 0 {
			continue
		}
		deadline := time.Now().Add(p.cfg.InitTimeout)
		in, err := p.acquire(ctx, deadline)
		if err != nil {
			return fmt.Errorf("self-test: %w", err)
		}
		healthy, err := in.call(ctx, ph, &req, deadline)
		p.release(in, healthy)
		var ce *CallError
		if errors.As(err, &ce) {
			return fmt.Errorf("self-test %s call on a synthetic request failed: %s: %w", ph, ce.Kind, ce.Err)
		}
		if err != nil {
			return fmt.Errorf("self-test %s call: %w", ph, err)
		}
	}
	return nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Role returns the plugin's role.
func (p *Plugin) Role() Role { return p.cfg.Role }

// enter registers an in-flight call; it fails once Close has begun.
func (p *Plugin) enter() bool {
	p.mu.RLock()
	ok := !p.closed
	if ok {
		p.inflight.Add(1)
	}
	p.mu.RUnlock()
	return ok
}

func (p *Plugin) leave() { p.inflight.Done() }

// Close refuses new calls and waits for in-flight ones; if ctx is done
// first, it interrupts them (they fail as timeouts, within microseconds
// unless blocked in a registry look-up) and still waits for them, so that
// no guest runs on a closed instance. Then it closes the instances and the
// compiled module, and returns ctx's error if it had to interrupt. Later
// calls of Close return the first result.
func (p *Plugin) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		done := make(chan struct{})
		go func() {
			p.inflight.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			p.closeErr = fmt.Errorf("plugin %q: close: %w", p.cfg.Name, ctx.Err())
			p.interruptAll()
			<-done
		}
		ctx = context.WithoutCancel(ctx) // closing releases; a done ctx stops nothing
		p.drain(ctx)
		_ = p.compiled.Close(ctx)
		p.r.forget(p)
	})
	return p.closeErr
}

// interruptAll stops the guest code of every live instance.
func (p *Plugin) interruptAll() {
	p.interrupted.Store(true)
	p.liveMu.Lock()
	defer p.liveMu.Unlock()
	for in := range p.live {
		if in.interrupt != nil {
			in.interrupt.Set(1)
		}
	}
}

// drain closes the idle instances.
func (p *Plugin) drain(ctx context.Context) {
	for {
		select {
		case in := <-p.idle:
			p.discard(ctx, in)
		default:
			return
		}
	}
}

func (p *Plugin) isClosed() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.closed
}
