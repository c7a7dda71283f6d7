package relay

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/registry"
)

// loadPlugins starts the policy plugins the configuration names. The
// embedded defaults are configured from the existing settings, so a
// deployment of the existing server behaves as before.
func loadPlugins(ctx context.Context, cfg config.Config, nodeURL string, reg *registry.Registry, m *metrics.Metrics, log zerolog.Logger) (*policy.Plugins, error) {
	upstream := ""
	if cfg.Relay.FromEnabled {
		upstream = cfg.Relay.FromURL
	}
	auth := policy.PluginSource{File: cfg.Plugins.AuthFile, Config: []byte(cfg.Plugins.AuthConfig)}
	if auth.File == "" {
		auth.Config = jwtauthConfig(cfg.Auth)
	}
	route := policy.PluginSource{File: cfg.Plugins.RouteFile, Config: []byte(cfg.Plugins.RouteConfig)}
	if route.File == "" {
		route.Config = routeConfig(cfg.Registry.Enabled, upstream)
	}
	pcfg := policy.PluginsConfig{
		Auth:             auth,
		Route:            route,
		PoolSize:         cfg.Plugins.PoolSize,
		CallTimeout:      cfg.Plugins.CallTimeout,
		MaxMemoryBytes:   cfg.Plugins.MaxMemoryBytes,
		CacheDir:         pluginCacheDir(cfg.Plugins, log),
		DecisionCacheTTL: cfg.Plugins.DecisionCacheTTL,
		NodeID:           nodeID(cfg.Server.NodeID),
		NodeURL:          nodeURL,
		Fallback:         policy.BuiltinOrder(cfg.Registry.Enabled, upstream),
		Log:              log,
		Metrics:          m,
	}
	if reg != nil {
		pcfg.Registry = pluginRegistry{reg}
		pcfg.RegistryPrefixes = []string{reg.StreamKeyPrefix()}
	}
	return policy.NewPlugins(ctx, pcfg)
}

// query encodes params as the default plugins read their configuration:
// URL query form with every reserved byte percent-encoded (never "+").
func query(params ...string) []byte {
	var b strings.Builder
	for i := 0; i+1 < len(params); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(params[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(params[i+1]), "+", "%20"))
	}
	return []byte(b.String())
}

func jwtauthConfig(a config.AuthConfig) []byte {
	return query("pull_secret", a.PullSecret, "push_secret", a.PushSecret,
		"push_allowed", strconv.FormatBool(a.PushAllowed))
}

func routeConfig(registry bool, upstream string) []byte {
	return query("local", "true", "registry", strconv.FormatBool(registry), "upstream", upstream)
}

// pluginCacheDir is where compiled plugins are kept, or "" for none.
func pluginCacheDir(p config.PluginsConfig, log zerolog.Logger) string {
	if !p.CacheEnabled {
		return ""
	}
	dir := p.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			log.Warn().Err(err).Msg("no user cache directory: plugins are compiled at every start (set PLUGIN_CACHE_DIR)")
			return ""
		}
		dir = filepath.Join(base, "hlsrelay", "plugins")
	}
	// A cache that cannot be written would fail every plugin load (a
	// read-only root file system, a directory of another user): do without.
	if err := checkWritable(dir); err != nil {
		log.Warn().Err(err).Str("dir", dir).Msg("the plugin cache directory is not writable: plugins are compiled at every start (mount a writable PLUGIN_CACHE_DIR)")
		return ""
	}
	return dir
}

// checkWritable creates dir if needed and a file in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func nodeID(configured string) string {
	if configured != "" {
		return configured
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "hlsrelay"
}
