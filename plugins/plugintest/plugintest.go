// Package plugintest lets a plugin author unit-test an hlsrelay plugin with
// `go test`, without a relay: it loads the .wasm file with the relay's own
// host (package host, real wazero, the same checks, limits and self-test),
// builds requests, and captures the plugin's log lines.
//
//	func TestAllowsPublicStreams(t *testing.T) {
//		p := plugintest.Load(t, "allowlist.wasm", plugintest.Options{Config: "public/"})
//		if d := p.Authorize(t, plugintest.Pull("public/cam", "")); !d.Allowed {
//			t.Fatalf("denied: %s %s", d.Code, d.Reason)
//		}
//	}
//
// Options.Now gives the plugin a fixed clock (time_now_ms and the WASI wall
// clock) that the test moves with SetNow and Advance; the relay has no such
// knob. Runtimes are shared by the tests of a binary, and compiled plugins
// are cached on disk in the user's cache directory, so loading the same
// plugin in many tests compiles it once.
package plugintest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/internal/testclock"
)

// Options configure a plugin under test. The zero value loads it as an
// authorisation and routing plugin with an empty configuration.
type Options struct {
	// Config is what the plugin reads with field_get(FieldConfig).
	Config string
	// Role is the plugin's role. Defaults to authorisation if the module
	// exports only hlsrelay_authorize, routing if only hlsrelay_route, both
	// if both.
	Role host.Role
	// NodeID and NodeURL are the relay node the plugin runs on. NodeID
	// defaults to "test-node".
	NodeID, NodeURL string
	// Registry is the publish registry registry_lookup reads. Nil: the
	// registry is unavailable (abi.Unavailable).
	Registry map[string]string
	// RegistryPrefixes are the keys the plugin may read. Nil allows all.
	RegistryPrefixes []string
	// Now, if not zero, is the plugin's clock; SetNow and Advance move it.
	Now time.Time
	// MaxCacheTTL enables the decision cache (zero: disabled, so every
	// call reaches the plugin).
	MaxCacheTTL time.Duration
	// PoolSize defaults to 1, so that successive calls meet the same
	// instance; set more to test concurrency.
	PoolSize int
	// CallTimeout defaults to the relay's 50 ms.
	CallTimeout time.Duration
	// MaxMemoryPages defaults to the relay's 1024 (64 MiB).
	MaxMemoryPages uint32
}

// LogLine is one line the plugin logged.
type LogLine struct {
	Level int // abi.LogDebug .. abi.LogError
	Msg   string
}

// Plugin is a loaded plugin under test. It is safe for concurrent use.
type Plugin struct {
	p     *host.Plugin
	clock *clock

	mu   sync.Mutex
	logs []LogLine
}

var (
	runtimesMu sync.Mutex
	runtimes   = map[uint32]*host.Runtime{}
)

// runtime returns the shared Runtime for a memory limit.
func runtime(ctx context.Context, pages uint32) (*host.Runtime, error) {
	runtimesMu.Lock()
	defer runtimesMu.Unlock()
	if r, ok := runtimes[pages]; ok {
		return r, nil
	}
	cfg := host.RuntimeConfig{MaxMemoryPages: pages}
	if dir, err := os.UserCacheDir(); err == nil {
		cfg.CacheDir = filepath.Join(dir, "hlsrelay-plugintest")
	}
	r, err := host.NewRuntime(ctx, cfg)
	if err != nil && cfg.CacheDir != "" {
		cfg.CacheDir = "" // an unusable cache directory only costs time
		r, err = host.NewRuntime(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	runtimes[pages] = r
	return r, nil
}

// Load reads and loads the plugin at path, failing the test if the relay
// would refuse it. The plugin is closed when the test ends.
func Load(t testing.TB, path string, opts Options) *Plugin {
	t.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	p, err := LoadBytes(t, filepath.Base(path), wasm, opts)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return p
}

// LoadBytes loads a plugin from its bytes and returns the error the relay
// would give if it refused it: use it to test that a plugin is refused. A
// loaded plugin is closed when the test ends.
func LoadBytes(t testing.TB, name string, wasm []byte, opts Options) (*Plugin, error) {
	t.Helper()
	ctx := context.Background()
	r, err := runtime(ctx, opts.MaxMemoryPages)
	if err != nil {
		return nil, err
	}
	tp := &Plugin{}
	if !opts.Now.IsZero() {
		tp.clock = &clock{now: opts.Now}
		ctx = testclock.With(ctx, tp.clock.get)
	}
	cfg := host.PluginConfig{
		Name:             name,
		Wasm:             wasm,
		Config:           []byte(opts.Config),
		Role:             opts.Role,
		PoolSize:         opts.PoolSize,
		CallTimeout:      opts.CallTimeout,
		NodeID:           opts.NodeID,
		NodeURL:          opts.NodeURL,
		RegistryPrefixes: opts.RegistryPrefixes,
		MaxCacheTTL:      opts.MaxCacheTTL,
		Log:              tp.log,
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 1
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "test-node"
	}
	if opts.Registry != nil {
		cfg.Registry = mapRegistry(opts.Registry)
	}
	if cfg.RegistryPrefixes == nil {
		cfg.RegistryPrefixes = []string{""}
	}
	if cfg.Role == 0 {
		cfg.Role = roleOf(wasm)
	}
	p, err := r.Load(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tp.p = p
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return tp, nil
}

// Authorize runs an authorisation call and fails the test if the call
// fails (the relay would deny with UNAVAILABLE).
func (p *Plugin) Authorize(t testing.TB, req *host.Request) host.Decision {
	t.Helper()
	d, err := p.p.Authorize(context.Background(), req)
	if err != nil {
		t.Fatalf("plugintest: Authorize(%s %s): %v", req.Action, req.Stream, err)
	}
	return d
}

// Route runs a routing call and fails the test if the call fails (the
// relay would fall back to its built-in order).
func (p *Plugin) Route(t testing.TB, req *host.Request) host.RouteDecision {
	t.Helper()
	d, err := p.p.Route(context.Background(), req)
	if err != nil {
		t.Fatalf("plugintest: Route(%s %s): %v", req.Action, req.Stream, err)
	}
	return d
}

// TryAuthorize runs an authorisation call and returns its error: use it to
// test that a request makes the plugin fail (a *host.CallError).
func (p *Plugin) TryAuthorize(req *host.Request) (host.Decision, error) {
	return p.p.Authorize(context.Background(), req)
}

// TryRoute runs a routing call and returns its error.
func (p *Plugin) TryRoute(req *host.Request) (host.RouteDecision, error) {
	return p.p.Route(context.Background(), req)
}

// Logs returns the lines logged so far (with the log import, or written to
// stdout or stderr at debug level), including the host's reports of failed
// calls at error level.
func (p *Plugin) Logs() []LogLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]LogLine(nil), p.logs...)
}

// Stats returns the host's counters for the plugin.
func (p *Plugin) Stats() host.Stats { return p.p.Stats() }

// Host returns the underlying host plugin.
func (p *Plugin) Host() *host.Plugin { return p.p }

// SetNow sets the plugin's clock. It panics unless Options.Now was set.
func (p *Plugin) SetNow(now time.Time) { p.mustClock().set(now) }

// Advance moves the plugin's clock forward. It panics unless Options.Now
// was set.
func (p *Plugin) Advance(d time.Duration) {
	c := p.mustClock()
	c.set(c.get().Add(d))
}

func (p *Plugin) mustClock() *clock {
	if p.clock == nil {
		panic("plugintest: the plugin uses the real clock; set Options.Now to control it")
	}
	return p.clock
}

func (p *Plugin) log(level int, _ string, msg string) {
	p.mu.Lock()
	p.logs = append(p.logs, LogLine{Level: level, Msg: msg})
	p.mu.Unlock()
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

type mapRegistry map[string]string

func (m mapRegistry) Lookup(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := m[key]
	return []byte(v), ok, nil
}
