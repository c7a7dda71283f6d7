package config

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDefault pins every default, typed. The existing server's defaults come
// from its source; the others are hlsrelay's.
func TestDefault(t *testing.T) {
	t.Parallel()
	want := Config{
		HTTP: HTTPConfig{Enabled: true, Port: 80},
		TLS:  TLSConfig{Port: 443, CheckReloadInterval: 60 * time.Second},
		Server: ServerConfig{
			WebSocketPath:   "/",
			HealthPath:      "/healthz",
			ShutdownTimeout: 10 * time.Second,
		},
		Limits: LimitsConfig{
			HandshakeTimeout:     10 * time.Second,
			MaxBinaryMessageSize: 50 << 20,
			MaxTextMessageSize:   16 << 10,
			FirstMessageTimeout:  30 * time.Second,
			HeartbeatInterval:    30 * time.Second,
			HeartbeatTimeout:     60 * time.Second,
			WriteTimeout:         10 * time.Second,
			PublisherGrace:       10 * time.Second,
		},
		Auth: AuthConfig{PushAllowed: true},
		Plugins: PluginsConfig{
			ReloadCheckInterval: 5 * time.Second,
			PoolSize:            4, CallTimeout: 50 * time.Millisecond, MaxMemoryBytes: 64 << 20,
			CacheEnabled: true, DecisionCacheTTL: 60 * time.Second,
		},
		Buffer: BufferConfig{MaxFragments: 10, StreamMaxBytes: 64 << 20, MemoryLimitBytes: 256 << 20},
		Registry: RegistryConfig{
			Host: "127.0.0.1", Port: 6379, RefreshInterval: 60 * time.Second, NodeTTL: 5 * time.Second,
		},
		Relay:     RelayConfig{InactivityPeriod: 30 * time.Second, FailoverPeriod: 30 * time.Second},
		RateLimit: RateLimitConfig{CleanupInterval: 10 * time.Second, MaxTrackedIPs: 100000},
		Log:       LogConfig{Error: true, Warning: true, Info: true, Requests: true, Format: "json"},
		HLS: HLSConfig{
			Enabled: true, PathPrefix: "/hls/", CORSOrigins: "*",
			MaxBlockedRequests: 10000, MaxBlockWait: 20 * time.Second,
		},
		Admin: AdminConfig{ListenAddress: "127.0.0.1:9091"},
		Metrics: MetricsConfig{
			Enabled: true, ListenAddress: "127.0.0.1:9090", TopStreams: 50,
		},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	got, err := Load(nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load with nothing set =\n%+v\nwant\n%+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

// valid is one accepted value of one setting and the field it yields.
type valid struct {
	env   string
	value string
	field func(Config) any
	want  any
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

// validCases covers every setting at least once (TestValidCoversEverySetting).
var validCases = []valid{
	{"HTTP_ENABLED", "NO", func(c Config) any { return c.HTTP.Enabled }, false},
	{"HTTP_ENABLED", "yes", func(c Config) any { return c.HTTP.Enabled }, true},
	{"HTTP_PORT", "8080", func(c Config) any { return c.HTTP.Port }, 8080},
	{"HTTP_PORT", " 8080 ", func(c Config) any { return c.HTTP.Port }, 8080},
	{"HTTP_PORT", "65535", func(c Config) any { return c.HTTP.Port }, 65535},
	{"HTTP_BIND_ADDRESS", "127.0.0.1", func(c Config) any { return c.HTTP.BindAddress }, "127.0.0.1"},
	{"HTTP_BIND_ADDRESS", "::1", func(c Config) any { return c.HTTP.BindAddress }, "::1"},
	{"HTTP_BIND_ADDRESS", "localhost", func(c Config) any { return c.HTTP.BindAddress }, "localhost"},
	{"TLS_ENABLED", "YES", func(c Config) any { return c.TLS.Enabled }, true},
	{"TLS_PORT", "8443", func(c Config) any { return c.TLS.Port }, 8443},
	{"TLS_BIND_ADDRESS", "0.0.0.0", func(c Config) any { return c.TLS.BindAddress }, "0.0.0.0"},
	{"TLS_CERTIFICATE", "/etc/ssl/cert.pem", func(c Config) any { return c.TLS.CertificateFile }, "/etc/ssl/cert.pem"},
	{"TLS_PRIVATE_KEY", "/etc/ssl/key.pem", func(c Config) any { return c.TLS.PrivateKeyFile }, "/etc/ssl/key.pem"},
	{"TLS_CHECK_RELOAD_SECONDS", "300", func(c Config) any { return c.TLS.CheckReloadInterval }, 5 * time.Minute},
	{"WEBSOCKET_PREFIX", "/ws", func(c Config) any { return c.Server.WebSocketPath }, "/ws"},
	{"HEALTH_PATH", "/health/live", func(c Config) any { return c.Server.HealthPath }, "/health/live"},
	{"EXTERNAL_WEBSOCKET_URL", "wss://cdn1.example.com/", func(c Config) any { return c.Server.ExternalURL }, "wss://cdn1.example.com/"},
	{"EXTERNAL_WEBSOCKET_URL", "ws://10.0.0.5:8080", func(c Config) any { return c.Server.ExternalURL }, "ws://10.0.0.5:8080"},
	{"SHUTDOWN_TIMEOUT_SECONDS", "0", func(c Config) any { return c.Server.ShutdownTimeout }, time.Duration(0)},
	{"SHUTDOWN_TIMEOUT_SECONDS", "2.5", func(c Config) any { return c.Server.ShutdownTimeout }, 2500 * time.Millisecond},
	{"MAX_BINARY_MESSAGE_SIZE", "1048576", func(c Config) any { return c.Limits.MaxBinaryMessageSize }, int64(1 << 20)},
	{"MAX_TEXT_MESSAGE_SIZE", "4096", func(c Config) any { return c.Limits.MaxTextMessageSize }, int64(4096)},
	{"FIRST_MESSAGE_TIMEOUT_SECONDS", "5", func(c Config) any { return c.Limits.FirstMessageTimeout }, 5 * time.Second},
	{"HEARTBEAT_INTERVAL_SECONDS", "15", func(c Config) any { return c.Limits.HeartbeatInterval }, 15 * time.Second},
	{"HEARTBEAT_TIMEOUT_SECONDS", "90", func(c Config) any { return c.Limits.HeartbeatTimeout }, 90 * time.Second},
	{"WRITE_TIMEOUT_SECONDS", "0.25", func(c Config) any { return c.Limits.WriteTimeout }, 250 * time.Millisecond},
	{"PUBLISHER_GRACE_SECONDS", "0", func(c Config) any { return c.Limits.PublisherGrace }, time.Duration(0)},
	{"PUBLISHER_GRACE_SECONDS", "30", func(c Config) any { return c.Limits.PublisherGrace }, 30 * time.Second},
	{"PULL_SECRET", "pull-secret", func(c Config) any { return c.Auth.PullSecret }, "pull-secret"},
	{"PULL_SECRET", " spaced ", func(c Config) any { return c.Auth.PullSecret }, " spaced "},
	{"PUSH_SECRET", "push-secret", func(c Config) any { return c.Auth.PushSecret }, "push-secret"},
	{"PUSH_ALLOWED", "false", func(c Config) any { return c.Auth.PushAllowed }, false},
	{"REQUIRE_SECRETS", "NO", func(c Config) any { return c.Auth.RequireSecrets }, false},
	{"FRAGMENT_BUFFER_MAX_LENGTH", "1", func(c Config) any { return c.Buffer.MaxFragments }, 1},
	{"FRAGMENT_BUFFER_MAX_LENGTH", "120", func(c Config) any { return c.Buffer.MaxFragments }, 120},
	{"STREAM_BUFFER_MAX_MB", "16", func(c Config) any { return c.Buffer.StreamMaxBytes }, int64(16 << 20)},
	{"BUFFER_MEMORY_LIMITER_ENABLED", "1", func(c Config) any { return c.Buffer.MemoryLimiterEnabled }, true},
	{"BUFFER_MEMORY_LIMITER_ENABLED", "1", func(c Config) any { return c.Buffer.GlobalMaxBytes() }, int64(256 << 20)},
	{"BUFFER_MEMORY_LIMIT_MB", "1024", func(c Config) any { return c.Buffer.MemoryLimitBytes }, int64(1 << 30)},
	{"BUFFER_MEMORY_LIMIT_MB", "1024", func(c Config) any { return c.Buffer.GlobalMaxBytes() }, int64(0)},
	{"PUB_REG_REDIS_ENABLED", "TRUE", func(c Config) any { return c.Registry.Enabled }, true},
	{"PUB_REG_REDIS_HOST", "redis.internal", func(c Config) any { return c.Registry.Host }, "redis.internal"},
	{"PUB_REG_REDIS_HOST", "redis.internal", func(c Config) any { return c.Registry.Addr() }, "redis.internal:6379"},
	{"PUB_REG_REDIS_PORT", "6380", func(c Config) any { return c.Registry.Port }, 6380},
	{"PUB_REG_REDIS_PASSWORD", "p@ss word", func(c Config) any { return c.Registry.Password }, "p@ss word"},
	{"PUB_REG_REDIS_USE_TLS", "Yes", func(c Config) any { return c.Registry.UseTLS }, true},
	{"PUB_REG_REFRESH_INTERVAL_SECONDS", "20", func(c Config) any { return c.Registry.RefreshInterval }, 20 * time.Second},
	{"PUB_REG_REFRESH_INTERVAL_SECONDS", "20", func(c Config) any { return c.Registry.EntryTTL() }, 40 * time.Second},
	{"PUB_REG_REDIS_URL", "rediss://user:pw@redis.example:6380/2", func(c Config) any { return c.Registry.URL }, "rediss://user:pw@redis.example:6380/2"},
	{"PUB_REG_REDIS_ADDRESSES", "10.0.0.1:7000, 10.0.0.2:7000", func(c Config) any { return c.Registry.AddressList() }, []string{"10.0.0.1:7000", "10.0.0.2:7000"}},
	{"PUB_REG_REDIS_MASTER_NAME", "mymaster", func(c Config) any { return c.Registry.MasterName }, "mymaster"},
	{"PUB_REG_NODE_TTL_SECONDS", "3", func(c Config) any { return c.Registry.NodeTTL }, 3 * time.Second},
	{"RELAY_FAILOVER_SECONDS", "12", func(c Config) any { return c.Relay.FailoverPeriod }, 12 * time.Second},
	{"RELAY_FROM_ENABLED", "NO", func(c Config) any { return c.Relay.FromEnabled }, false},
	{"RELAY_FROM_URL", "wss://origin.example.com/ws", func(c Config) any { return c.Relay.FromURL }, "wss://origin.example.com/ws"},
	{"RELAY_INACTIVITY_PERIOD_SEC", "45", func(c Config) any { return c.Relay.InactivityPeriod }, 45 * time.Second},
	{"RATE_LIMIT_ENABLED", "YES", func(c Config) any { return c.RateLimit.Enabled }, true},
	{"RATE_LIMIT_WHITELIST", "127.0.0.1, 10.0.0.0/8,,::1,192.168.1.7/16",
		func(c Config) any { return c.RateLimit.Whitelist },
		prefixes("127.0.0.1/32", "10.0.0.0/8", "::1/128", "192.168.0.0/16")},
	{"RATE_LIMIT_WHITELIST", " , ", func(c Config) any { return c.RateLimit.Whitelist }, []netip.Prefix(nil)},
	{"RATE_LIMIT_CONNECTIONS", "20", func(c Config) any { return c.RateLimit.MaxConnections }, 20},
	{"RATE_LIMIT_REQ_PER_SEC", "5", func(c Config) any { return c.RateLimit.RequestsPerSecond }, 5},
	{"RATE_LIMIT_REQ_BURST", "10", func(c Config) any { return c.RateLimit.RequestBurst }, 10},
	{"RATE_LIMIT_REQ_CLEANUP", "60", func(c Config) any { return c.RateLimit.CleanupInterval }, time.Minute},
	// "*" whitelists everyone, as in the existing server.
	{"RATE_LIMIT_WHITELIST", "*", func(c Config) any { return c.RateLimit.Whitelist }, prefixes("0.0.0.0/0", "::/0")},
	{"RATE_LIMIT_MAX_TRACKED_IPS", "5000", func(c Config) any { return c.RateLimit.MaxTrackedIPs }, 5000},
	{"HANDSHAKE_TIMEOUT_SECONDS", "2.5", func(c Config) any { return c.Limits.HandshakeTimeout }, 2500 * time.Millisecond},
	{"MAX_CONNECTIONS", "20000", func(c Config) any { return c.Capacity.MaxConnections }, 20000},
	{"MAX_STREAMS", "100", func(c Config) any { return c.Capacity.MaxStreams }, 100},
	{"MAX_VIEWERS_PER_STREAM", "0", func(c Config) any { return c.Capacity.MaxViewersPerStream }, 0},
	{"MAX_VIEWERS_PER_STREAM", "5000", func(c Config) any { return c.Capacity.MaxViewersPerStream }, 5000},
	{"TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7, 2001:db8::/32",
		func(c Config) any { return c.Access.TrustedProxies }, prefixes("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")},
	{"WEBSOCKET_ALLOWED_ORIGINS", "https://player.example.com, https://*.example.org, http://localhost:8080",
		func(c Config) any { return c.Access.AllowedOriginList() },
		[]string{"https://player.example.com", "https://*.example.org", "http://localhost:8080"}},
	{"WEBSOCKET_ALLOWED_ORIGINS", "*", func(c Config) any { return c.Access.AllowedOriginList() }, []string{"*"}},
	{"LOG_ERROR", "no", func(c Config) any { return c.Log.Error }, false},
	{"LOG_WARNING", "0", func(c Config) any { return c.Log.Warning }, false},
	{"LOG_INFO", "False", func(c Config) any { return c.Log.Info }, false},
	{"LOG_REQUESTS", "NO", func(c Config) any { return c.Log.Requests }, false},
	{"LOG_DEBUG", "YES", func(c Config) any { return c.Log.Debug }, true},
	{"LOG_TRACE", "true", func(c Config) any { return c.Log.Trace }, true},
	{"LOG_FORMAT", "Console", func(c Config) any { return c.Log.Format }, "console"},
	{"NODE_ID", "edge-1", func(c Config) any { return c.Server.NodeID }, "edge-1"},
	{"AUTH_PLUGIN", "/etc/hlsrelay/auth.wasm", func(c Config) any { return c.Plugins.AuthFile }, "/etc/hlsrelay/auth.wasm"},
	{"AUTH_PLUGIN_CONFIG", "a=1&b=x y", func(c Config) any { return c.Plugins.AuthConfig }, "a=1&b=x y"},
	{"ROUTE_PLUGIN", "route.wasm", func(c Config) any { return c.Plugins.RouteFile }, "route.wasm"},
	{"ROUTE_PLUGIN_CONFIG", "local=true", func(c Config) any { return c.Plugins.RouteConfig }, "local=true"},
	{"PLUGIN_RELOAD_CHECK_SECONDS", "0", func(c Config) any { return c.Plugins.ReloadCheckInterval }, time.Duration(0)},
	{"PLUGIN_POOL_SIZE", "8", func(c Config) any { return c.Plugins.PoolSize }, 8},
	{"PLUGIN_CALL_TIMEOUT_SECONDS", "0.2", func(c Config) any { return c.Plugins.CallTimeout }, 200 * time.Millisecond},
	{"PLUGIN_MAX_MEMORY_MB", "32", func(c Config) any { return c.Plugins.MaxMemoryBytes }, int64(32 << 20)},
	{"PLUGIN_CACHE_DIR", "/var/cache/hlsrelay", func(c Config) any { return c.Plugins.CacheDir }, "/var/cache/hlsrelay"},
	{"PLUGIN_CACHE_ENABLED", "NO", func(c Config) any { return c.Plugins.CacheEnabled }, false},
	{"PLUGIN_DECISION_CACHE_SECONDS", "0", func(c Config) any { return c.Plugins.DecisionCacheTTL }, time.Duration(0)},
	{"HLS_HTTP_ENABLED", "NO", func(c Config) any { return c.HLS.Enabled }, false},
	{"HLS_HTTP_PATH_PREFIX", "/live/", func(c Config) any { return c.HLS.PathPrefix }, "/live/"},
	{"HLS_HTTP_CORS_ORIGINS", "https://player.example.com, http://localhost:8080",
		func(c Config) any { return c.HLS.CORSOriginList() }, []string{"https://player.example.com", "http://localhost:8080"}},
	{"HLS_HTTP_CORS_ORIGINS", "*", func(c Config) any { return c.HLS.CORSOriginList() }, []string{"*"}},
	{"HLS_HTTP_MAX_BLOCKED_REQUESTS", "500", func(c Config) any { return c.HLS.MaxBlockedRequests }, 500},
	{"HLS_HTTP_MAX_BLOCK_SECONDS", "6.5", func(c Config) any { return c.HLS.MaxBlockWait }, 6500 * time.Millisecond},
	{"DEMO_PAGE_ENABLED", "YES", func(c Config) any { return c.Demo.Enabled }, true},
	{"ADMIN_ENABLED", "YES", func(c Config) any { return c.Admin.Enabled }, true},
	{"ADMIN_LISTEN_ADDRESS", "10.0.0.5:9000", func(c Config) any { return c.Admin.ListenAddress }, "10.0.0.5:9000"},
	{"ADMIN_LISTEN_ADDRESS", "[::1]:9091", func(c Config) any { return c.Admin.ListenAddress }, "[::1]:9091"},
	{"ADMIN_LISTEN_ADDRESS", ":9091", func(c Config) any { return c.Admin.ListenAddress }, ":9091"},
	{"ADMIN_LISTEN_ADDRESS", "admin.internal:9091", func(c Config) any { return c.Admin.ListenAddress }, "admin.internal:9091"},
	{"ADMIN_TOKEN", "0123456789abcdef0123456789abcdef", func(c Config) any { return c.Admin.Token }, "0123456789abcdef0123456789abcdef"},
	{"METRICS_ENABLED", "NO", func(c Config) any { return c.Metrics.Enabled }, false},
	{"METRICS_LISTEN_ADDRESS", "0.0.0.0:9100", func(c Config) any { return c.Metrics.ListenAddress }, "0.0.0.0:9100"},
	{"METRICS_LISTEN_ADDRESS", "[::1]:9090", func(c Config) any { return c.Metrics.ListenAddress }, "[::1]:9090"},
	{"METRICS_LISTEN_ADDRESS", ":9090", func(c Config) any { return c.Metrics.ListenAddress }, ":9090"},
	{"METRICS_LISTEN_ADDRESS", "metrics.internal:9090", func(c Config) any { return c.Metrics.ListenAddress }, "metrics.internal:9090"},
	{"METRICS_TOP_STREAMS", "0", func(c Config) any { return c.Metrics.TopStreams }, 0},
	{"METRICS_TOP_STREAMS", "200", func(c Config) any { return c.Metrics.TopStreams }, 200},
	// An empty value is the default, as in the existing server.
	{"HTTP_PORT", "", func(c Config) any { return c.HTTP.Port }, 80},
	{"WEBSOCKET_PREFIX", "", func(c Config) any { return c.Server.WebSocketPath }, "/"},
	{"PUB_REG_REDIS_HOST", "  ", func(c Config) any { return c.Registry.Host }, "127.0.0.1"},
}

// validNeeds holds the other settings that a valid case needs to pass the
// checks of combinations.
var validNeeds = map[string][]string{
	"HTTP_ENABLED=NO":   {"TLS_ENABLED=YES", "TLS_CERTIFICATE=c.pem", "TLS_PRIVATE_KEY=k.pem"},
	"TLS_ENABLED=YES":   {"TLS_CERTIFICATE=c.pem", "TLS_PRIVATE_KEY=k.pem"},
	"ADMIN_ENABLED=YES": {"ADMIN_TOKEN=0123456789abcdef0123456789abcdef"},
}

func TestValidValues(t *testing.T) {
	t.Parallel()
	for _, tc := range validCases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			needs := validNeeds[tc.env+"="+tc.value]
			for _, src := range []struct {
				name string
				load func() (Config, error)
			}{
				{"environment", func() (Config, error) {
					return Load(nil, append([]string{tc.env + "=" + tc.value}, needs...), "")
				}},
				{"flag", func() (Config, error) {
					return Load([]string{"--" + lookupSetting(tc.env).flagName() + "=" + tc.value}, needs, "")
				}},
			} {
				c, err := src.load()
				if err != nil {
					t.Fatalf("%s: %v", src.name, err)
				}
				if got := tc.field(c); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: got %#v, want %#v", src.name, got, tc.want)
				}
			}
		})
	}
}

func TestValidCoversEverySetting(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range validCases {
		if lookupSetting(tc.env) == nil {
			t.Errorf("validCases: %s is not a setting", tc.env)
		}
		seen[tc.env] = true
	}
	for _, tc := range invalidCases {
		if lookupSetting(tc.env) == nil {
			t.Errorf("invalidCases: %s is not a setting", tc.env)
		}
	}
	for _, s := range settings {
		if !seen[s.env] {
			t.Errorf("no valid-value test for %s", s.env)
		}
	}
}

// invalid is one rejected value and the exact message. The value comes from
// the environment.
type invalid struct {
	env, value, want string
}

var invalidCases = []invalid{
	{"HTTP_PORT", "80x", `HTTP_PORT (--http-port): "80x" is not a port number (1-65535) [set in the environment]`},
	{"HTTP_PORT", "0", `HTTP_PORT (--http-port): "0" is not a port number (1-65535) [set in the environment]`},
	{"HTTP_PORT", "65536", `HTTP_PORT (--http-port): "65536" is not a port number (1-65535) [set in the environment]`},
	{"TLS_PORT", "-1", `TLS_PORT (--tls-port): "-1" is not a port number (1-65535) [set in the environment]`},
	{"PUB_REG_REDIS_PORT", "redis", `PUB_REG_REDIS_PORT (--pub-reg-redis-port): "redis" is not a port number (1-65535) [set in the environment]`},
	{"HTTP_ENABLED", "maybe", `HTTP_ENABLED (--http-enabled): "maybe" is not a boolean (YES or NO) [set in the environment]`},
	{"TLS_ENABLED", "on", `TLS_ENABLED (--tls-enabled): "on" is not a boolean (YES or NO) [set in the environment]`},
	{"LOG_DEBUG", "Y", `LOG_DEBUG (--log-debug): "Y" is not a boolean (YES or NO) [set in the environment]`},
	{"HTTP_BIND_ADDRESS", "0.0.0.0:80", `HTTP_BIND_ADDRESS (--http-bind-address): "0.0.0.0:80" is not an IP address or host name (without a port) [set in the environment]`},
	{"TLS_BIND_ADDRESS", "my host", `TLS_BIND_ADDRESS (--tls-bind-address): "my host" is not an IP address or host name (without a port) [set in the environment]`},
	{"PUB_REG_REDIS_HOST", "redis:6379", `PUB_REG_REDIS_HOST (--pub-reg-redis-host): "redis:6379" is not an IP address or host name (without a port); set the port with PUB_REG_REDIS_PORT [set in the environment]`},
	{"TLS_CHECK_RELOAD_SECONDS", "0", `TLS_CHECK_RELOAD_SECONDS (--tls-check-reload-seconds): "0" must be more than 0 seconds [set in the environment]`},
	{"TLS_CHECK_RELOAD_SECONDS", "1m", `TLS_CHECK_RELOAD_SECONDS (--tls-check-reload-seconds): "1m" is not a number of seconds (e.g. 10 or 0.5) [set in the environment]`},
	{"WRITE_TIMEOUT_SECONDS", "-5", `WRITE_TIMEOUT_SECONDS (--write-timeout-seconds): "-5" must not be negative [set in the environment]`},
	{"FIRST_MESSAGE_TIMEOUT_SECONDS", "1e3", `FIRST_MESSAGE_TIMEOUT_SECONDS (--first-message-timeout-seconds): "1e3" is not a number of seconds (e.g. 10 or 0.5) [set in the environment]`},
	{"HEARTBEAT_INTERVAL_SECONDS", "0.0000001", `HEARTBEAT_INTERVAL_SECONDS (--heartbeat-interval-seconds): "0.0000001" must be more than 0 seconds [set in the environment]`},
	{"HEARTBEAT_TIMEOUT_SECONDS", "99999999999", `HEARTBEAT_TIMEOUT_SECONDS (--heartbeat-timeout-seconds): "99999999999" is too large [set in the environment]`},
	{"PUBLISHER_GRACE_SECONDS", "-1", `PUBLISHER_GRACE_SECONDS (--publisher-grace-seconds): "-1" must not be negative [set in the environment]`},
	{"SHUTDOWN_TIMEOUT_SECONDS", "NaN", `SHUTDOWN_TIMEOUT_SECONDS (--shutdown-timeout-seconds): "NaN" is not a number of seconds (e.g. 10 or 0.5) [set in the environment]`},
	{"PUB_REG_REFRESH_INTERVAL_SECONDS", ".", `PUB_REG_REFRESH_INTERVAL_SECONDS (--pub-reg-refresh-interval-seconds): "." is not a number of seconds (e.g. 10 or 0.5) [set in the environment]`},
	{"RELAY_INACTIVITY_PERIOD_SEC", "0", `RELAY_INACTIVITY_PERIOD_SEC (--relay-inactivity-period-sec): "0" must be more than 0 seconds [set in the environment]`},
	{"RATE_LIMIT_REQ_CLEANUP", "ten", `RATE_LIMIT_REQ_CLEANUP (--rate-limit-req-cleanup): "ten" is not a number of seconds (e.g. 10 or 0.5) [set in the environment]`},
	{"MAX_BINARY_MESSAGE_SIZE", "50MB", `MAX_BINARY_MESSAGE_SIZE (--max-binary-message-size): "50MB" is not a whole number of bytes [set in the environment]`},
	{"MAX_BINARY_MESSAGE_SIZE", "0", `MAX_BINARY_MESSAGE_SIZE (--max-binary-message-size): "0" must be at least 1 [set in the environment]`},
	{"MAX_TEXT_MESSAGE_SIZE", "99999999999999999999", `MAX_TEXT_MESSAGE_SIZE (--max-text-message-size): "99999999999999999999" is too large [set in the environment]`},
	{"STREAM_BUFFER_MAX_MB", "0.5", `STREAM_BUFFER_MAX_MB (--stream-buffer-max-mb): "0.5" is not a whole number of megabytes [set in the environment]`},
	{"BUFFER_MEMORY_LIMIT_MB", "-256", `BUFFER_MEMORY_LIMIT_MB (--buffer-memory-limit-mb): "-256" must be at least 1 [set in the environment]`},
	{"BUFFER_MEMORY_LIMIT_MB", "9000000000000", `BUFFER_MEMORY_LIMIT_MB (--buffer-memory-limit-mb): "9000000000000" is too large [set in the environment]`},
	{"FRAGMENT_BUFFER_MAX_LENGTH", "0", `FRAGMENT_BUFFER_MAX_LENGTH (--fragment-buffer-max-length): "0" must be at least 1 [set in the environment]`},
	{"FRAGMENT_BUFFER_MAX_LENGTH", "ten", `FRAGMENT_BUFFER_MAX_LENGTH (--fragment-buffer-max-length): "ten" is not a whole number [set in the environment]`},
	{"RATE_LIMIT_CONNECTIONS", "-1", `RATE_LIMIT_CONNECTIONS (--rate-limit-connections): "-1" must be at least 0 [set in the environment]`},
	{"RATE_LIMIT_REQ_PER_SEC", "1.5", `RATE_LIMIT_REQ_PER_SEC (--rate-limit-req-per-sec): "1.5" is not a whole number [set in the environment]`},
	{"RATE_LIMIT_REQ_BURST", "99999999999999999999", `RATE_LIMIT_REQ_BURST (--rate-limit-req-burst): "99999999999999999999" is too large [set in the environment]`},
	{"RATE_LIMIT_WHITELIST", "127.0.0.1,10.0.0/8", `RATE_LIMIT_WHITELIST (--rate-limit-whitelist): "127.0.0.1,10.0.0/8" has "10.0.0/8", which is not an IP address or CIDR range [set in the environment]`},
	{"RATE_LIMIT_WHITELIST", "10.0.0.0/33", `RATE_LIMIT_WHITELIST (--rate-limit-whitelist): "10.0.0.0/33" has "10.0.0.0/33", which is not an IP address or CIDR range [set in the environment]`},
	{"RATE_LIMIT_WHITELIST", "localhost", `RATE_LIMIT_WHITELIST (--rate-limit-whitelist): "localhost" has "localhost", which is not an IP address or CIDR range [set in the environment]`},
	{"RATE_LIMIT_MAX_TRACKED_IPS", "0", `RATE_LIMIT_MAX_TRACKED_IPS (--rate-limit-max-tracked-ips): "0" must be at least 1 [set in the environment]`},
	{"HANDSHAKE_TIMEOUT_SECONDS", "0", `HANDSHAKE_TIMEOUT_SECONDS (--handshake-timeout-seconds): "0" must be more than 0 seconds [set in the environment]`},
	{"MAX_CONNECTIONS", "-1", `MAX_CONNECTIONS (--max-connections): "-1" must be at least 0 [set in the environment]`},
	{"MAX_STREAMS", "many", `MAX_STREAMS (--max-streams): "many" is not a whole number [set in the environment]`},
	{"MAX_VIEWERS_PER_STREAM", "1e3", `MAX_VIEWERS_PER_STREAM (--max-viewers-per-stream): "1e3" is not a whole number [set in the environment]`},
	{"TRUSTED_PROXIES", "10.0.0.1:8080", `TRUSTED_PROXIES (--trusted-proxies): "10.0.0.1:8080" has "10.0.0.1:8080", which is not an IP address or CIDR range [set in the environment]`},
	{"WEBSOCKET_ALLOWED_ORIGINS", "player.example.com", `WEBSOCKET_ALLOWED_ORIGINS (--websocket-allowed-origins): "player.example.com" has "player.example.com", which is not * or an origin such as https://player.example.com or https://*.example.com [set in the environment]`},
	{"WEBSOCKET_ALLOWED_ORIGINS", "https://a.example/app", `WEBSOCKET_ALLOWED_ORIGINS (--websocket-allowed-origins): "https://a.example/app" has "https://a.example/app", which is not * or an origin such as https://player.example.com or https://*.example.com [set in the environment]`},
	{"WEBSOCKET_ALLOWED_ORIGINS", "wss://a.example", `WEBSOCKET_ALLOWED_ORIGINS (--websocket-allowed-origins): "wss://a.example" has "wss://a.example", which is not * or an origin such as https://player.example.com or https://*.example.com [set in the environment]`},
	{"WEBSOCKET_ALLOWED_ORIGINS", "https://a.*.example", `WEBSOCKET_ALLOWED_ORIGINS (--websocket-allowed-origins): "https://a.*.example" has "https://a.*.example", which is not * or an origin such as https://player.example.com or https://*.example.com [set in the environment]`},
	{"ADMIN_LISTEN_ADDRESS", "9091", `ADMIN_LISTEN_ADDRESS (--admin-listen-address): "9091" is not host:port (e.g. 127.0.0.1:9090) [set in the environment]`},
	{"ADMIN_LISTEN_ADDRESS", "127.0.0.1:65536", `ADMIN_LISTEN_ADDRESS (--admin-listen-address): "127.0.0.1:65536" has port "65536", which is not 0 to 65535 [set in the environment]`},
	{"ADMIN_LISTEN_ADDRESS", "bad host:9091", `ADMIN_LISTEN_ADDRESS (--admin-listen-address): "bad host:9091" has host "bad host", which is not an IP address or host name [set in the environment]`},
	{"METRICS_ENABLED", "sometimes", `METRICS_ENABLED (--metrics-enabled): "sometimes" is not a boolean (YES or NO) [set in the environment]`},
	{"METRICS_LISTEN_ADDRESS", "9090", `METRICS_LISTEN_ADDRESS (--metrics-listen-address): "9090" is not host:port (e.g. 127.0.0.1:9090) [set in the environment]`},
	{"METRICS_LISTEN_ADDRESS", "127.0.0.1:-1", `METRICS_LISTEN_ADDRESS (--metrics-listen-address): "127.0.0.1:-1" has port "-1", which is not 0 to 65535 [set in the environment]`},
	{"METRICS_LISTEN_ADDRESS", "http://127.0.0.1:9090/metrics", `METRICS_LISTEN_ADDRESS (--metrics-listen-address): "http://127.0.0.1:9090/metrics" is not host:port (e.g. 127.0.0.1:9090) [set in the environment]`},
	{"METRICS_LISTEN_ADDRESS", "bad host:9090", `METRICS_LISTEN_ADDRESS (--metrics-listen-address): "bad host:9090" has host "bad host", which is not an IP address or host name [set in the environment]`},
	{"METRICS_TOP_STREAMS", "-1", `METRICS_TOP_STREAMS (--metrics-top-streams): "-1" must be at least 0 [set in the environment]`},
	{"WEBSOCKET_PREFIX", "ws", `WEBSOCKET_PREFIX (--websocket-prefix): "ws" must start with "/" [set in the environment]`},
	{"WEBSOCKET_PREFIX", "/ws?x=1", `WEBSOCKET_PREFIX (--websocket-prefix): "/ws?x=1" must be a plain path (no spaces, "?" or "#") [set in the environment]`},
	{"HEALTH_PATH", "healthz", `HEALTH_PATH (--health-path): "healthz" must start with "/" [set in the environment]`},
	{"EXTERNAL_WEBSOCKET_URL", "http://cdn.example.com", `EXTERNAL_WEBSOCKET_URL (--external-websocket-url): "http://cdn.example.com" is not a ws:// or wss:// URL [set in the environment]`},
	{"EXTERNAL_WEBSOCKET_URL", "cdn.example.com:80", `EXTERNAL_WEBSOCKET_URL (--external-websocket-url): "cdn.example.com:80" is not a ws:// or wss:// URL [set in the environment]`},
	{"RELAY_FROM_URL", "ws://", `RELAY_FROM_URL (--relay-from-url): "ws://" has no host [set in the environment]`},
	{"RELAY_FROM_URL", "wss://origin:99999/", `RELAY_FROM_URL (--relay-from-url): "wss://origin:99999/" has a bad port number [set in the environment]`},
	{"RELAY_FROM_URL", "wss://origin/#x", `RELAY_FROM_URL (--relay-from-url): "wss://origin/#x" must not have a #fragment [set in the environment]`},
	// The password of a URL is never printed.
	{"RELAY_FROM_URL", "https://user:hunter2@origin/", `RELAY_FROM_URL (--relay-from-url): "https://user:***@origin/" is not a ws:// or wss:// URL [set in the environment]`},
	{"LOG_FORMAT", "text", `LOG_FORMAT (--log-format): "text" is not a log format (json or console) [set in the environment]`},
	{"HLS_HTTP_PATH_PREFIX", "hls", `HLS_HTTP_PATH_PREFIX (--hls-http-path-prefix): "hls" must start with "/" [set in the environment]`},
	{"HLS_HTTP_CORS_ORIGINS", "player.example.com", `HLS_HTTP_CORS_ORIGINS (--hls-http-cors-origins): "player.example.com" has "player.example.com", which is not * or an origin such as https://player.example.com [set in the environment]`},
	{"HLS_HTTP_CORS_ORIGINS", "https://a.example/path", `HLS_HTTP_CORS_ORIGINS (--hls-http-cors-origins): "https://a.example/path" has "https://a.example/path", which is not * or an origin such as https://player.example.com [set in the environment]`},
	{"HLS_HTTP_MAX_BLOCKED_REQUESTS", "0", `HLS_HTTP_MAX_BLOCKED_REQUESTS (--hls-http-max-blocked-requests): "0" must be at least 1 [set in the environment]`},
	{"HLS_HTTP_MAX_BLOCK_SECONDS", "0", `HLS_HTTP_MAX_BLOCK_SECONDS (--hls-http-max-block-seconds): "0" must be more than 0 seconds [set in the environment]`},
}

func TestInvalidValues(t *testing.T) {
	t.Parallel()
	for _, tc := range invalidCases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := Load(nil, []string{tc.env + "=" + tc.value}, "")
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestSettingErrorFields(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"--http-port=80x"}, nil, "")
	var se *SettingError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SettingError", err)
	}
	want := SettingError{Env: "HTTP_PORT", Flag: "--http-port", Value: "80x",
		Problem: "is not a port number (1-65535)", Source: "command line"}
	if *se != want {
		t.Errorf("got %+v, want %+v", *se, want)
	}
	if got := se.Error(); got != `HTTP_PORT (--http-port): "80x" is not a port number (1-65535) [set on the command line]` {
		t.Errorf("Error() = %s", got)
	}
}

// TestAllErrorsAtOnce: every bad value is reported, so an operator fixes
// them in one go.
func TestAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"--tls-port=x"}, []string{"HTTP_PORT=y", "LOG_INFO=z"}, "")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 errors, got:\n%v", err)
	}
	for i, prefix := range []string{"HTTP_PORT ", "TLS_PORT ", "LOG_INFO "} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    bool
		wantOK  bool
		comment string
	}{
		{"YES", true, true, "existing server"},
		{"NO", false, true, "existing server"},
		{"yes", true, true, ""},
		{"No", false, true, ""},
		{"TRUE", true, true, "existing server"},
		{"false", false, true, ""},
		{"1", true, true, ""},
		{"0", false, true, ""},
		{"", false, false, ""},
		{"y", false, false, ""},
		{"on", false, false, ""},
		{"2", false, false, ""},
	} {
		got, ok := parseBool(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                              "",
		"wss://origin.example.com/":     "wss://origin.example.com/",
		"wss://user@origin/":            "wss://user@origin/",
		"wss://user:secret@origin/ws":   "wss://user:***@origin/ws",
		"wss://:secret@origin:443/":     "wss://:***@origin:443/",
		"ws://u:p@[::1]:99999999999/%%": "***",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
