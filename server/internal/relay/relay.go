// Package relay assembles a relay node from its configuration: the hub, the
// authorizer, the session manager and the HTTP(S) listeners.
package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp"
	"github.com/hlsrelay/hlsrelay/server/internal/httpserver"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/registry"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
	"github.com/hlsrelay/hlsrelay/server/internal/upstream"
)

// Relay is one relay node.
type Relay struct {
	cfg      config.Config
	log      zerolog.Logger
	hub      *hub.Hub
	plugins  *policy.Plugins // nil when Options replaced both decisions
	sessions *session.Manager
	handler  *httpserver.Handler
	hls      *hlshttp.Handler // nil unless HLS_HTTP_ENABLED
	draining atomic.Bool
	started  time.Time

	drainState    drainState   // drain.go
	adminListener net.Listener // nil unless ADMIN_ENABLED

	httpListener net.Listener
	tlsListener  net.Listener
	certs        *certReloader

	registry *registry.Registry // nil unless PUB_REG_REDIS_ENABLED
	upstream *upstream.Manager
	url      string // this node's external WebSocket URL ("" if unknown)

	metrics         *metrics.Metrics // nil unless METRICS_ENABLED
	metricsListener net.Listener     // nil if the metrics are off or their address was taken
}

// Options replace parts of a relay, for tests and benchmarks.
type Options struct {
	// Authorizer and Router, when both are set, replace the policy plugins.
	Authorizer policy.Authorizer
	Router     policy.Router
}

// New builds a relay node: it loads the policy plugins (ctx bounds that),
// and Listen and Serve start it.
func New(ctx context.Context, cfg config.Config, log zerolog.Logger, opts Options) (*Relay, error) {
	r := &Relay{cfg: cfg, log: log, started: time.Now()}
	r.drainState.init()
	if err := r.checkAdmin(); err != nil {
		return nil, err
	}
	r.metrics = newMetrics(cfg.Metrics)
	if err := r.newCluster(); err != nil {
		return nil, err
	}
	var ann *announcer
	hubCfg := hub.Config{
		RingLength:     cfg.Buffer.MaxFragments,
		StreamMaxBytes: cfg.Buffer.StreamMaxBytes,
		TotalMaxBytes:  cfg.Buffer.GlobalMaxBytes(),
		PublisherGrace: cfg.Limits.PublisherGrace,
		MaxStreams:     cfg.Capacity.MaxStreams,
		MaxSubscribers: cfg.Capacity.MaxViewersPerStream,
		// A fragment in parts is bounded like one sent whole.
		MaxFragmentBytes: cfg.Limits.MaxBinaryMessageSize,
		Metrics:          r.metrics,
	}
	if r.registry != nil {
		ann = &announcer{reg: r.registry, url: r.url, log: log, draining: r.draining.Load}
		hubCfg.OnStreamEnd = ann.Withdraw
	}
	r.hub = hub.New(hubCfg)
	instance := newInstanceID()
	r.upstream = upstream.New(upstream.Config{
		Hub:               r.hub,
		Registry:          r.registryResolver(),
		SelfURL:           r.url,
		InstanceID:        instance,
		PullSecret:        cfg.Auth.PullSecret,
		Inactivity:        cfg.Relay.InactivityPeriod,
		Failover:          cfg.Relay.FailoverPeriod,
		HeartbeatInterval: cfg.Limits.HeartbeatInterval,
		MaxMessageSize:    cfg.Limits.MaxBinaryMessageSize,
		Log:               log.With().Str("component", "upstream").Logger(),
		Metrics:           r.metrics,
	})
	r.collectStreams()
	auth, router := opts.Authorizer, opts.Router
	if auth == nil || router == nil {
		plugins, err := loadPlugins(ctx, cfg, r.url, r.registry, r.metrics, log)
		if err != nil {
			return nil, err
		}
		r.plugins = plugins
		auth, router = plugins, plugins
	}
	sessionCfg := session.Config{
		Hub:                 r.hub,
		Authorizer:          auth,
		Router:              router,
		Log:                 log,
		LogRequests:         cfg.Log.Requests,
		MaxTextSize:         cfg.Limits.MaxTextMessageSize,
		MaxBinarySize:       cfg.Limits.MaxBinaryMessageSize,
		FirstMessageTimeout: cfg.Limits.FirstMessageTimeout,
		HeartbeatInterval:   cfg.Limits.HeartbeatInterval,
		HeartbeatTimeout:    cfg.Limits.HeartbeatTimeout,
		WriteTimeout:        cfg.Limits.WriteTimeout,
		Upstream:            r.upstream,
		InstanceID:          instance,
		Metrics:             r.metrics,
	}
	if ann != nil {
		ann.hub = r.hub
		sessionCfg.Announcer = ann
	}
	r.sessions = session.NewManager(sessionCfg)
	r.handler = &httpserver.Handler{
		WebSocketPath: cfg.Server.WebSocketPath,
		HealthPath:    cfg.Server.HealthPath,
		Sessions:      r.sessions,
		Log:           log,
		Ready:         func() bool { return !r.draining.Load() },
		Admission:     newAdmission(cfg, r.metrics),
	}
	r.attachHLS(auth, router)
	r.attachDemo()
	if cfg.TLS.Enabled {
		certs, err := newCertReloader(cfg.TLS.CertificateFile, cfg.TLS.PrivateKeyFile, cfg.TLS.CheckReloadInterval, log)
		if err != nil {
			return nil, err
		}
		r.certs = certs
	}
	return r, nil
}

// newCluster sets up the node's place in a cluster: its external URL and
// the publish registry.
func (r *Relay) newCluster() error {
	u, detected, err := externalURL(r.cfg)
	if err != nil && r.cfg.Registry.Enabled {
		return fmt.Errorf("publish registry: %w", err)
	}
	r.url = u
	if detected {
		r.log.Info().Str("external_url", u).Msg("external WebSocket URL detected; set EXTERNAL_WEBSOCKET_URL if other nodes reach this one differently")
	}
	if r.registry, err = newRegistry(r.cfg.Registry, r.metrics, r.log); err != nil {
		return err
	}
	return nil
}

// registryResolver is the registry as upstream pulls ask it, or nil.
func (r *Relay) registryResolver() upstream.Resolver {
	if r.registry == nil {
		return nil
	}
	return r.registry
}

// ReloadPlugins loads the policy plugins again and swaps them in; on error
// the running ones keep serving.
func (r *Relay) ReloadPlugins(ctx context.Context) error {
	if r.plugins == nil {
		return nil
	}
	return r.plugins.Reload(ctx)
}

// Hub returns the node's streams.
func (r *Relay) Hub() *hub.Hub { return r.hub }

// Listen opens the configured listeners, so that an address in use is
// reported before anything is served.
func (r *Relay) Listen() error {
	if r.cfg.HTTP.Enabled {
		l, err := net.Listen("tcp", r.cfg.HTTP.Addr())
		if err != nil {
			return fmt.Errorf("HTTP listener (HTTP_BIND_ADDRESS, HTTP_PORT): %w", err)
		}
		r.httpListener = l
	}
	if r.cfg.TLS.Enabled {
		l, err := net.Listen("tcp", r.cfg.TLS.Addr())
		if err != nil {
			r.closeListeners()
			return fmt.Errorf("TLS listener (TLS_BIND_ADDRESS, TLS_PORT): %w", err)
		}
		r.tlsListener = tls.NewListener(l, &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: r.certs.certificate,
		})
	}
	if err := r.listenAdmin(); err != nil {
		r.closeListeners()
		return err
	}
	r.listenMetrics()
	return nil
}

func (r *Relay) closeListeners() {
	for _, l := range []net.Listener{r.httpListener, r.tlsListener} {
		if l != nil {
			l.Close()
		}
	}
}

// HTTPAddr returns the plain HTTP listener's address, or nil.
func (r *Relay) HTTPAddr() net.Addr { return addr(r.httpListener) }

// TLSAddr returns the TLS listener's address, or nil.
func (r *Relay) TLSAddr() net.Addr { return addr(r.tlsListener) }

func addr(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

// Serve serves until ctx is done or a drain is requested (RequestDrain, the
// admin API), then drains the node within ShutdownTimeout (drain.go), closes
// the listeners and returns.
func (r *Relay) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { r.sessions.Run(ctx) })
	if r.certs != nil {
		wg.Go(func() { r.certs.run(ctx) })
	}
	wg.Go(func() { r.watchPluginFiles(ctx, r.cfg.Plugins.ReloadCheckInterval) })
	if r.registry != nil {
		wg.Go(func() { r.registry.Run(ctx) })
	}
	servers := make([]*http.Server, 0, 2)
	errs := make(chan error, 2)
	for _, l := range []net.Listener{r.httpListener, r.tlsListener} {
		if l == nil {
			continue
		}
		srv := r.newHTTPServer()
		servers = append(servers, srv)
		go func() { errs <- srv.Serve(l) }()
	}
	stopMetrics := r.serveMetrics()
	adminSrv := r.serveAdmin()
	var serveErr error
	select {
	case <-ctx.Done():
	case <-r.drainState.requested:
	case serveErr = <-errs:
	}
	r.shutdown(servers, adminSrv)
	stopMetrics() // after the drain, which the metrics show
	cancel()
	wg.Wait()
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

func (r *Relay) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           r.handler,
		ReadHeaderTimeout: r.cfg.Limits.HandshakeTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          newStdLogger(r.log),
	}
}

// shutdown drains the node's connections, then closes its listeners, the
// HTTP requests in progress and the plugins within finalStepsTimeout.
func (r *Relay) shutdown(servers []*http.Server, adminSrv *http.Server) {
	r.drainState.result = r.drainConnections()
	close(r.drainState.done) // the admin API's drain request answers now
	ctx, cancel := context.WithTimeout(context.Background(), finalStepsTimeout)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(ctx) // hijacked WebSockets are not waited for here
	}
	if adminSrv != nil {
		_ = adminSrv.Shutdown(ctx)
	}
	if r.plugins != nil {
		if err := r.plugins.Close(ctx); err != nil {
			r.log.Warn().Err(err).Msg("closing plugins")
		}
	}
}
