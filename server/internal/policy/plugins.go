package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/defaultplugins"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// PluginSource names a plugin: a .wasm file, or (File empty) the embedded
// default of that role, with the configuration handed to it.
type PluginSource struct {
	File   string
	Config []byte
}

// PluginsConfig configures the policy plugins of a node.
type PluginsConfig struct {
	Auth, Route      PluginSource
	PoolSize         int
	CallTimeout      time.Duration
	MaxMemoryBytes   int64
	CacheDir         string // compilation cache; "" = none
	DecisionCacheTTL time.Duration
	NodeID, NodeURL  string
	// Registry answers the plugins' registry_lookup, for keys under
	// RegistryPrefixes only. Nil: look-ups report the registry unavailable.
	Registry         host.Registry
	RegistryPrefixes []string
	// Fallback is the route order used when the routing plugin fails.
	Fallback func(onlySource bool) []Source
	Log      zerolog.Logger
	// Metrics counts every decision with its duration, and reads the
	// plugins' own counters (cache hits, failures by kind) at each scrape.
	// Nil: nothing is counted.
	Metrics *metrics.Metrics
}

// Plugins makes every authorisation and routing decision through WASM
// plugins. It implements Authorizer and Router and is safe for concurrent
// use; Reload replaces the plugins without interrupting decisions.
type Plugins struct {
	cfg   PluginsConfig
	rt    *host.Runtime
	auth  *host.Slot
	route *host.Slot

	reloadMu sync.Mutex
	// Pool warming runs in the background until Close.
	warmCtx   context.Context
	stopWarm  context.CancelFunc
	warmGroup sync.WaitGroup
}

// NewPlugins compiles, loads and self-tests both plugins.
func NewPlugins(ctx context.Context, cfg PluginsConfig) (*Plugins, error) {
	pages := uint32(cfg.MaxMemoryBytes / (64 << 10))
	rt, err := host.NewRuntime(ctx, host.RuntimeConfig{CacheDir: cfg.CacheDir, MaxMemoryPages: pages})
	if err != nil {
		return nil, fmt.Errorf("plugin runtime: %w", err)
	}
	p := &Plugins{cfg: cfg, rt: rt}
	p.warmCtx, p.stopWarm = context.WithCancel(context.Background())
	auth, route, err := p.loadBoth(ctx)
	if err != nil {
		p.stopWarm()
		_ = rt.Close(ctx)
		return nil, err
	}
	p.auth, p.route = host.NewSlot(auth), host.NewSlot(route)
	p.warm(auth, route)
	if err := cfg.Metrics.CollectPlugins(p.stats); err != nil {
		cfg.Log.Warn().Err(err).Msg("plugin counters are not exported as metrics")
	}
	return p, nil
}

// Plugin labels of the metrics.
const (
	metricAuth  = "auth"
	metricRoute = "route"
)

// stats returns the counters of the plugins serving now; they restart
// from zero at a reload.
func (p *Plugins) stats() []metrics.PluginStats {
	return []metrics.PluginStats{
		pluginStats(metricAuth, p.auth.Current().Stats()),
		pluginStats(metricRoute, p.route.Current().Stats()),
	}
}

func pluginStats(name string, s host.Stats) metrics.PluginStats {
	f := s.Failures
	return metrics.PluginStats{
		Plugin: name, CacheHits: s.CacheHits,
		InstancesCreated: s.InstancesCreated, InstancesDiscarded: s.InstancesDiscarded,
		Failures: map[string]uint64{
			"trap": f.Trap, "timeout": f.Timeout, "memory": f.Memory,
			"bad_result": f.BadResult, "busy": f.Busy, "init": f.Init,
		},
	}
}

// warm fills the plugins' pools in the background: start-up waits for one
// instance each, the first burst of viewers should not wait for the rest.
func (p *Plugins) warm(plugins ...*host.Plugin) {
	for _, pl := range plugins {
		p.warmGroup.Go(func() {
			ctx, cancel := context.WithTimeout(p.warmCtx, 30*time.Second)
			defer cancel()
			if err := pl.Warm(ctx); err != nil && !errors.Is(err, host.ErrClosed) && ctx.Err() == nil {
				p.cfg.Log.Warn().Err(err).Str("plugin", pl.Name()).Msg("could not fill the plugin's pool; instances are created on demand")
			}
		})
	}
}

// loadBoth loads the two plugins concurrently: compiling is the slow part
// of a cold start, and each compile uses one core.
func (p *Plugins) loadBoth(ctx context.Context) (auth, route *host.Plugin, err error) {
	var wg sync.WaitGroup
	var authErr, routeErr error
	wg.Go(func() { auth, authErr = p.load(ctx, defaultplugins.JWTAuth, host.RoleAuthorize, p.cfg.Auth) })
	wg.Go(func() { route, routeErr = p.load(ctx, defaultplugins.Route, host.RoleRoute, p.cfg.Route) })
	wg.Wait()
	if err := errors.Join(authErr, routeErr); err != nil {
		for _, pl := range []*host.Plugin{auth, route} {
			if pl != nil {
				_ = pl.Close(ctx)
			}
		}
		return nil, nil, err
	}
	return auth, route, nil
}

func (p *Plugins) load(ctx context.Context, defaultName string, role host.Role, src PluginSource) (*host.Plugin, error) {
	name, wasm, err := readPlugin(defaultName, src.File)
	if err != nil {
		return nil, err
	}
	pl, err := p.rt.Load(ctx, host.PluginConfig{
		Name:        name,
		Wasm:        wasm,
		Config:      src.Config,
		Role:        role,
		PoolSize:    p.cfg.PoolSize,
		CallTimeout: p.cfg.CallTimeout,
		NodeID:      p.cfg.NodeID,
		NodeURL:     p.cfg.NodeURL,
		Registry:    p.cfg.Registry,
		// Empty allows no key; a nil Registry makes the prefixes moot.
		RegistryPrefixes: p.cfg.RegistryPrefixes,
		Log:              p.pluginLog,
		MaxCacheTTL:      p.cfg.DecisionCacheTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("load plugin %s: %w", name, err)
	}
	return pl, nil
}

func readPlugin(defaultName, file string) (name string, wasm []byte, err error) {
	if file == "" {
		wasm, err = defaultplugins.Wasm(defaultName)
		return defaultName, wasm, err
	}
	wasm, err = os.ReadFile(file)
	if err != nil {
		return file, nil, fmt.Errorf("read plugin: %w", err)
	}
	return file, wasm, nil
}

func (p *Plugins) pluginLog(level int, plugin, msg string) {
	zl := zerolog.DebugLevel
	switch level {
	case abi.LogInfo:
		zl = zerolog.InfoLevel
	case abi.LogWarn:
		zl = zerolog.WarnLevel
	case abi.LogError:
		zl = zerolog.ErrorLevel
	}
	p.cfg.Log.WithLevel(zl).Str("plugin", plugin).Msg(msg)
}

// Reload loads both plugins again (files are read anew) and swaps them in.
// If either fails to load, neither is swapped and the old ones keep serving.
func (p *Plugins) Reload(ctx context.Context) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	auth, route, err := p.loadBoth(ctx)
	if err != nil {
		return err
	}
	p.warm(auth, route)
	// The new plugins serve from here on; an error closing an old one is
	// reported but does not undo the swap.
	return errors.Join(p.auth.Swap(ctx, auth), p.route.Swap(ctx, route))
}

// Close releases the plugins and the runtime.
func (p *Plugins) Close(ctx context.Context) error {
	p.stopWarm()
	p.warmGroup.Wait()
	return errors.Join(p.auth.Current().Close(ctx), p.route.Current().Close(ctx), p.rt.Close(ctx))
}

// onFreshStack runs f on a short-lived goroutine and waits for it. A plugin
// call grows the stack it runs on (wazero's call path is deep); on the
// session's long-lived goroutine that stack would stay grown for the life of
// the connection: measured 2.5-3 KiB more per idle viewer. The extra
// goroutine costs about a microsecond per call.
func onFreshStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func hostRequest(req *Request) *host.Request {
	return &host.Request{
		Action: string(req.Action), Stream: req.Stream, Token: req.Token,
		RemoteAddr: req.RemoteAddr, Header: req.Header, Query: req.Query,
		OnlySource: req.OnlySource,
	}
}

// Authorize implements Authorizer. A failed plugin call denies (fail closed).
func (p *Plugins) Authorize(ctx context.Context, req *Request) Decision {
	var d host.Decision
	var err error
	start := time.Now()
	onFreshStack(func() { d, err = p.auth.Authorize(ctx, hostRequest(req)) })
	p.cfg.Metrics.PluginCall(metricAuth, authResult(d, err), time.Since(start))
	if err != nil {
		p.cfg.Log.Warn().Err(err).Str("stream", req.Stream).Str("action", string(req.Action)).
			Msg("authorisation plugin failed; request denied")
		return Decision{Code: protocol.CodeUnavailable, Reason: "authorisation unavailable"}
	}
	if d.Allowed {
		return Allow
	}
	return Decision{Code: d.Code, Reason: d.Reason}
}

// Route implements Router. A failed plugin call falls back to the built-in
// order.
func (p *Plugins) Route(ctx context.Context, req *Request) RouteDecision {
	var d host.RouteDecision
	var err error
	start := time.Now()
	onFreshStack(func() { d, err = p.route.Route(ctx, hostRequest(req)) })
	p.cfg.Metrics.PluginCall(metricRoute, routeResult(d, err), time.Since(start))
	if err != nil {
		p.cfg.Log.Warn().Err(err).Str("stream", req.Stream).Msg("routing plugin failed; using the built-in order")
		return RouteDecision{Sources: p.cfg.Fallback(req.OnlySource)}
	}
	if d.Rejected {
		return RouteDecision{Rejected: true, Code: d.Code, Reason: d.Reason}
	}
	out := RouteDecision{Sources: make([]Source, len(d.Sources))}
	for i, s := range d.Sources {
		out.Sources[i] = Source{Kind: SourceKind(s.Kind), URL: s.URL}
	}
	return out
}

func authResult(d host.Decision, err error) string {
	switch {
	case err != nil:
		return metrics.ResultError
	case d.Allowed:
		return "allow"
	}
	return "deny"
}

func routeResult(d host.RouteDecision, err error) string {
	switch {
	case err != nil:
		return metrics.ResultError
	case d.Rejected:
		return "reject"
	}
	return metrics.ResultOK
}
