package config

import (
	"net/netip"
	"strings"
	"time"
)

// A setting is one configuration key: its environment variable, flag,
// default (as text, as it would be written in the environment), --help line
// and type.
type setting struct {
	env    string
	def    string
	usage  string // one line for --help
	group  string
	compat bool // the existing server has this variable
	secret bool // value never printed
	val    value
}

// flagName is the setting's flag without dashes: the variable's name in
// lower case with "_" replaced by "-".
func (s *setting) flagName() string {
	return strings.ReplaceAll(strings.ToLower(s.env), "_", "-")
}

func (s *setting) flag() string { return "--" + s.flagName() }

func (s *setting) isBool() bool {
	_, ok := s.val.(boolValue)
	return ok
}

// display is how a value of this setting may appear in messages.
func (s *setting) display(v string) string {
	if s.secret && v != "" {
		return "***"
	}
	if sv, ok := s.val.(stringValue); ok && sv.shape == "URL" {
		return redactURL(v)
	}
	return v
}

// Setting groups, in --help order.
const (
	groupListeners = "HTTP and TLS listeners"
	groupServer    = "Endpoints and shutdown"
	groupLimits    = "Protocol limits and timeouts"
	groupAuth      = "Authentication"
	groupPlugins   = "Policy plugins"
	groupBuffer    = "Stream buffers and memory"
	groupRegistry  = "Publish registry (Redis)"
	groupRelay     = "Relay from an upstream node"
	groupRateLimit = "Rate limit (per client IP address)"
	groupCapacity  = "Node capacity"
	groupAccess    = "Client addresses and origins"
	groupLog       = "Logging"
	groupHLS       = "HLS over HTTP"
	groupDemo      = "Demo page"
	groupAdmin     = "Admin API"
	groupMetrics   = "Metrics"
)

var groups = []string{
	groupListeners, groupServer, groupLimits, groupAuth, groupPlugins, groupBuffer,
	groupRegistry, groupRelay, groupRateLimit, groupCapacity, groupAccess, groupLog, groupHLS, groupDemo, groupAdmin, groupMetrics,
}

func seconds(field func(*Config) *time.Duration) value {
	return secondsValue{field: field}
}

func secondsOrZero(field func(*Config) *time.Duration) value {
	return secondsValue{field: field, allowZero: true}
}

func text(shape string, check func(string) string, field func(*Config) *string) value {
	return stringValue{field: field, shape: shape, check: check}
}

// settings is every setting, in --help order. Defaults are the existing
// server's where it has the variable.
var settings = []setting{
	// Listeners.
	{env: "HTTP_ENABLED", def: "YES", compat: true, group: groupListeners,
		usage: "serve HTTP and ws:// on HTTP_PORT",
		val:   boolValue(func(c *Config) *bool { return &c.HTTP.Enabled })},
	{env: "HTTP_PORT", def: "80", compat: true, group: groupListeners,
		usage: "port of the HTTP listener",
		val:   portValue(func(c *Config) *int { return &c.HTTP.Port })},
	{env: "HTTP_BIND_ADDRESS", def: "", compat: true, group: groupListeners,
		usage: "IP address or host name the HTTP listener binds to (empty: all interfaces)",
		val:   text("ADDRESS", checkHost, func(c *Config) *string { return &c.HTTP.BindAddress })},
	{env: "TLS_ENABLED", def: "NO", compat: true, group: groupListeners,
		usage: "serve HTTPS and wss:// on TLS_PORT (needs TLS_CERTIFICATE and TLS_PRIVATE_KEY)",
		val:   boolValue(func(c *Config) *bool { return &c.TLS.Enabled })},
	{env: "TLS_PORT", def: "443", compat: true, group: groupListeners,
		usage: "port of the HTTPS listener",
		val:   portValue(func(c *Config) *int { return &c.TLS.Port })},
	{env: "TLS_BIND_ADDRESS", def: "", compat: true, group: groupListeners,
		usage: "IP address or host name the HTTPS listener binds to (empty: all interfaces)",
		val:   text("ADDRESS", checkHost, func(c *Config) *string { return &c.TLS.BindAddress })},
	{env: "TLS_CERTIFICATE", def: "", compat: true, group: groupListeners,
		usage: "path of the PEM certificate chain",
		val:   text("FILE", nil, func(c *Config) *string { return &c.TLS.CertificateFile })},
	{env: "TLS_PRIVATE_KEY", def: "", compat: true, group: groupListeners,
		usage: "path of the PEM private key",
		val:   text("FILE", nil, func(c *Config) *string { return &c.TLS.PrivateKeyFile })},
	{env: "TLS_CHECK_RELOAD_SECONDS", def: "60", compat: true, group: groupListeners,
		usage: "how often to check the certificate and key files for changes and reload them",
		val:   seconds(func(c *Config) *time.Duration { return &c.TLS.CheckReloadInterval })},

	// Endpoints and shutdown.
	{env: "WEBSOCKET_PREFIX", def: "/", compat: true, group: groupServer,
		usage: "path of the WebSocket endpoint",
		val:   text("PATH", checkPath, func(c *Config) *string { return &c.Server.WebSocketPath })},
	{env: "HEALTH_PATH", def: "/healthz", group: groupServer,
		usage: "path of the health endpoint (200 while serving, 503 while draining)",
		val:   text("PATH", checkPath, func(c *Config) *string { return &c.Server.HealthPath })},
	{env: "EXTERNAL_WEBSOCKET_URL", def: "", compat: true, group: groupServer,
		usage: "ws:// or wss:// URL other nodes use to reach this one (empty: detected from the network interfaces)",
		val:   text("URL", checkWebSocketURL, func(c *Config) *string { return &c.Server.ExternalURL })},
	{env: "NODE_ID", def: "", group: groupServer,
		usage: "this node's name in logs and for plugins (empty: the host name)",
		val:   text("NAME", nil, func(c *Config) *string { return &c.Server.NodeID })},
	{env: "SHUTDOWN_TIMEOUT_SECONDS", def: "10", group: groupServer,
		usage: "bound of the graceful drain on SIGTERM, SIGINT or the admin API: publishers finish their fragment, viewers are sent elsewhere, the rest is closed (0: at once)",
		val:   secondsOrZero(func(c *Config) *time.Duration { return &c.Server.ShutdownTimeout })},

	// Protocol limits and timeouts.
	{env: "HANDSHAKE_TIMEOUT_SECONDS", def: "10", group: groupLimits,
		usage: "a connection must finish its TLS handshake and send its HTTP request head (the WebSocket handshake) within this time",
		val:   seconds(func(c *Config) *time.Duration { return &c.Limits.HandshakeTimeout })},
	{env: "MAX_BINARY_MESSAGE_SIZE", def: "52428800", compat: true, group: groupLimits,
		usage: "largest binary message (one fragment) accepted, in bytes (52428800 is 50 MiB)",
		val:   bytesValue(func(c *Config) *int64 { return &c.Limits.MaxBinaryMessageSize })},
	{env: "MAX_TEXT_MESSAGE_SIZE", def: "16384", group: groupLimits,
		usage: "largest text message accepted, in bytes",
		val:   bytesValue(func(c *Config) *int64 { return &c.Limits.MaxTextMessageSize })},
	{env: "FIRST_MESSAGE_TIMEOUT_SECONDS", def: "30", group: groupLimits,
		usage: "a connection that sends no PUSH or PULL within this time is closed",
		val:   seconds(func(c *Config) *time.Duration { return &c.Limits.FirstMessageTimeout })},
	{env: "HEARTBEAT_INTERVAL_SECONDS", def: "30", group: groupLimits,
		usage: "send a heartbeat (H) after this long without sending anything",
		val:   seconds(func(c *Config) *time.Duration { return &c.Limits.HeartbeatInterval })},
	{env: "HEARTBEAT_TIMEOUT_SECONDS", def: "60", group: groupLimits,
		usage: "close a connection from which nothing arrived for this long",
		val:   seconds(func(c *Config) *time.Duration { return &c.Limits.HeartbeatTimeout })},
	{env: "WRITE_TIMEOUT_SECONDS", def: "10", group: groupLimits,
		usage: "disconnect a viewer whose socket accepts no message for this long",
		val:   seconds(func(c *Config) *time.Duration { return &c.Limits.WriteTimeout })},
	{env: "PUBLISHER_GRACE_SECONDS", def: "10", group: groupLimits,
		usage: "a stream stays live this long after its publisher's socket drops without CLOSE (0: ends at once)",
		val:   secondsOrZero(func(c *Config) *time.Duration { return &c.Limits.PublisherGrace })},

	// Authentication.
	{env: "PULL_SECRET", def: "", compat: true, secret: true, group: groupAuth,
		usage: "HS256 secret of PULL tokens (empty: pulls are NOT checked)",
		val:   text("SECRET", nil, func(c *Config) *string { return &c.Auth.PullSecret })},
	{env: "PUSH_SECRET", def: "", compat: true, secret: true, group: groupAuth,
		usage: "HS256 secret of PUSH tokens (empty: pushes are NOT checked)",
		val:   text("SECRET", nil, func(c *Config) *string { return &c.Auth.PushSecret })},
	{env: "PUSH_ALLOWED", def: "YES", compat: true, group: groupAuth,
		usage: "accept publishers on this node",
		val:   boolValue(func(c *Config) *bool { return &c.Auth.PushAllowed })},
	{env: "REQUIRE_SECRETS", def: "NO", group: groupAuth,
		usage: "refuse to start with an empty PULL_SECRET, or an empty PUSH_SECRET while PUSH_ALLOWED",
		val:   boolValue(func(c *Config) *bool { return &c.Auth.RequireSecrets })},

	// Policy plugins.
	{env: "AUTH_PLUGIN", def: "", group: groupPlugins,
		usage: "authorisation plugin (.wasm file); empty: the embedded jwtauth, configured by PULL_SECRET, PUSH_SECRET and PUSH_ALLOWED",
		val:   text("FILE", nil, func(c *Config) *string { return &c.Plugins.AuthFile })},
	{env: "AUTH_PLUGIN_CONFIG", def: "", secret: true, group: groupPlugins,
		usage: "configuration handed to AUTH_PLUGIN (its field 6); may hold secrets, never logged",
		val:   text("TEXT", nil, func(c *Config) *string { return &c.Plugins.AuthConfig })},
	{env: "ROUTE_PLUGIN", def: "", group: groupPlugins,
		usage: "routing plugin (.wasm file); empty: the embedded route (local, registry, upstream)",
		val:   text("FILE", nil, func(c *Config) *string { return &c.Plugins.RouteFile })},
	{env: "ROUTE_PLUGIN_CONFIG", def: "", secret: true, group: groupPlugins,
		usage: "configuration handed to ROUTE_PLUGIN (its field 6); never logged",
		val:   text("TEXT", nil, func(c *Config) *string { return &c.Plugins.RouteConfig })},
	{env: "PLUGIN_RELOAD_CHECK_SECONDS", def: "5", group: groupPlugins,
		usage: "how often AUTH_PLUGIN and ROUTE_PLUGIN files are checked for changes and reloaded (0: only on SIGHUP)",
		val:   secondsOrZero(func(c *Config) *time.Duration { return &c.Plugins.ReloadCheckInterval })},
	{env: "PLUGIN_POOL_SIZE", def: "4", group: groupPlugins,
		usage: "most instances of each plugin (concurrent decisions)",
		val:   countValue{field: func(c *Config) *int { return &c.Plugins.PoolSize }, min: 1}},
	{env: "PLUGIN_CALL_TIMEOUT_SECONDS", def: "0.05", group: groupPlugins,
		usage: "deadline of one plugin call; a call past it fails (authorisation then denies)",
		val:   seconds(func(c *Config) *time.Duration { return &c.Plugins.CallTimeout })},
	{env: "PLUGIN_MAX_MEMORY_MB", def: "64", group: groupPlugins,
		usage: "most memory of one plugin instance, in MiB",
		val:   mibValue(func(c *Config) *int64 { return &c.Plugins.MaxMemoryBytes })},
	{env: "PLUGIN_CACHE_DIR", def: "", group: groupPlugins,
		usage: "directory of the compiled-plugin cache (empty: the user cache directory, e.g. ~/.cache/hlsrelay)",
		val:   text("DIR", nil, func(c *Config) *string { return &c.Plugins.CacheDir })},
	{env: "PLUGIN_CACHE_ENABLED", def: "YES", group: groupPlugins,
		usage: "keep compiled plugins on disk so that later starts skip compilation",
		val:   boolValue(func(c *Config) *bool { return &c.Plugins.CacheEnabled })},
	{env: "PLUGIN_DECISION_CACHE_SECONDS", def: "60", group: groupPlugins,
		usage: "longest time a decision a plugin marked cacheable is reused (bounded by the token's expiry; 0: no cache)",
		val:   secondsOrZero(func(c *Config) *time.Duration { return &c.Plugins.DecisionCacheTTL })},

	// Stream buffers and memory.
	{env: "FRAGMENT_BUFFER_MAX_LENGTH", def: "10", compat: true, group: groupBuffer,
		usage: "fragments a stream keeps for new viewers (at least 1)",
		val:   countValue{field: func(c *Config) *int { return &c.Buffer.MaxFragments }, min: 1}},
	{env: "STREAM_BUFFER_MAX_MB", def: "64", group: groupBuffer,
		usage: "most bytes a stream keeps, in MiB; the oldest fragments go first",
		val:   mibValue(func(c *Config) *int64 { return &c.Buffer.StreamMaxBytes })},
	{env: "BUFFER_MEMORY_LIMITER_ENABLED", def: "NO", compat: true, group: groupBuffer,
		usage: "bound the bytes of all streams together by BUFFER_MEMORY_LIMIT_MB",
		val:   boolValue(func(c *Config) *bool { return &c.Buffer.MemoryLimiterEnabled })},
	{env: "BUFFER_MEMORY_LIMIT_MB", def: "256", compat: true, group: groupBuffer,
		usage: "most bytes all streams keep together, in MiB, when the limiter is enabled",
		val:   mibValue(func(c *Config) *int64 { return &c.Buffer.MemoryLimitBytes })},

	// Publish registry.
	{env: "PUB_REG_REDIS_ENABLED", def: "NO", compat: true, group: groupRegistry,
		usage: "announce published streams in Redis and look up other nodes' streams there",
		val:   boolValue(func(c *Config) *bool { return &c.Registry.Enabled })},
	{env: "PUB_REG_REDIS_HOST", def: "127.0.0.1", compat: true, group: groupRegistry,
		usage: "Redis host name or IP address",
		val: text("HOST", func(s string) string {
			if p := checkHost(s); p != "" {
				return p + "; set the port with PUB_REG_REDIS_PORT"
			}
			return ""
		}, func(c *Config) *string { return &c.Registry.Host })},
	{env: "PUB_REG_REDIS_PORT", def: "6379", compat: true, group: groupRegistry,
		usage: "Redis port",
		val:   portValue(func(c *Config) *int { return &c.Registry.Port })},
	{env: "PUB_REG_REDIS_PASSWORD", def: "", compat: true, secret: true, group: groupRegistry,
		usage: "Redis password (empty: none)",
		val:   text("SECRET", nil, func(c *Config) *string { return &c.Registry.Password })},
	{env: "PUB_REG_REDIS_USE_TLS", def: "NO", compat: true, group: groupRegistry,
		usage: "connect to Redis over TLS",
		val:   boolValue(func(c *Config) *bool { return &c.Registry.UseTLS })},
	{env: "PUB_REG_REFRESH_INTERVAL_SECONDS", def: "60", compat: true, group: groupRegistry,
		usage: "how often a publishing node refreshes its entries; entries expire after twice this",
		val:   seconds(func(c *Config) *time.Duration { return &c.Registry.RefreshInterval })},
	{env: "PUB_REG_REDIS_URL", def: "", group: groupRegistry,
		usage: "redis:// or rediss:// URL of the Redis server; replaces host, port, password and TLS",
		val:   text("URL", checkRedisURL, func(c *Config) *string { return &c.Registry.URL })},
	{env: "PUB_REG_REDIS_ADDRESSES", def: "", group: groupRegistry,
		usage: "comma-separated host:port of Redis Cluster nodes, or of the sentinels with PUB_REG_REDIS_MASTER_NAME",
		val:   text("HOST:PORT,...", checkHostPortList, func(c *Config) *string { return &c.Registry.Addresses })},
	{env: "PUB_REG_REDIS_MASTER_NAME", def: "", group: groupRegistry,
		usage: "Redis Sentinel master name (empty: no Sentinel)",
		val:   text("NAME", nil, func(c *Config) *string { return &c.Registry.MasterName })},
	{env: "PUB_REG_NODE_TTL_SECONDS", def: "5", group: groupRegistry,
		usage: "a node silent in the registry this long counts as dead and its streams may be published elsewhere",
		val:   seconds(func(c *Config) *time.Duration { return &c.Registry.NodeTTL })},

	// Relay.
	{env: "RELAY_FROM_ENABLED", def: "NO", compat: true, group: groupRelay,
		usage: "pull streams this node cannot find elsewhere from RELAY_FROM_URL",
		val:   boolValue(func(c *Config) *bool { return &c.Relay.FromEnabled })},
	{env: "RELAY_FROM_URL", def: "", compat: true, group: groupRelay,
		usage: "ws:// or wss:// URL of the upstream node",
		val:   text("URL", checkWebSocketURL, func(c *Config) *string { return &c.Relay.FromURL })},
	{env: "RELAY_INACTIVITY_PERIOD_SEC", def: "30", compat: true, group: groupRelay,
		usage: "close a relayed stream that has had no viewers for this long",
		val:   seconds(func(c *Config) *time.Duration { return &c.Relay.InactivityPeriod })},
	{env: "RELAY_FAILOVER_SECONDS", def: "30", group: groupRelay,
		usage: "how long a relayed stream that lost its source is looked for again before it ends for its viewers",
		val:   seconds(func(c *Config) *time.Duration { return &c.Relay.FailoverPeriod })},

	// Rate limit.
	{env: "RATE_LIMIT_ENABLED", def: "NO", compat: true, group: groupRateLimit,
		usage: "limit connections and requests per client IP address",
		val:   boolValue(func(c *Config) *bool { return &c.RateLimit.Enabled })},
	{env: "RATE_LIMIT_WHITELIST", def: "", compat: true, group: groupRateLimit,
		usage: "comma-separated IP addresses and CIDR ranges exempt from the limits",
		val:   prefixListValue(func(c *Config) *[]netip.Prefix { return &c.RateLimit.Whitelist })},
	{env: "RATE_LIMIT_CONNECTIONS", def: "0", compat: true, group: groupRateLimit,
		usage: "most open connections per IP address (0: no limit)",
		val:   countValue{field: func(c *Config) *int { return &c.RateLimit.MaxConnections }}},
	{env: "RATE_LIMIT_REQ_PER_SEC", def: "0", compat: true, group: groupRateLimit,
		usage: "most requests per second per IP address (0: no limit)",
		val:   countValue{field: func(c *Config) *int { return &c.RateLimit.RequestsPerSecond }}},
	{env: "RATE_LIMIT_REQ_BURST", def: "0", compat: true, group: groupRateLimit,
		usage: "requests an IP address may make above the rate before it must wait",
		val:   countValue{field: func(c *Config) *int { return &c.RateLimit.RequestBurst }}},
	{env: "RATE_LIMIT_REQ_CLEANUP", def: "10", compat: true, group: groupRateLimit,
		usage: "how often idle request counters are dropped, in seconds",
		val:   seconds(func(c *Config) *time.Duration { return &c.RateLimit.CleanupInterval })},
	{env: "RATE_LIMIT_MAX_TRACKED_IPS", def: "100000", group: groupRateLimit,
		usage: "most client addresses (IPv6: /64 networks) whose counters are kept; a new one beyond it is refused while all hold connections",
		val:   countValue{field: func(c *Config) *int { return &c.RateLimit.MaxTrackedIPs }, min: 1}},

	// Node capacity.
	{env: "MAX_CONNECTIONS", def: "0", group: groupCapacity,
		usage: "most WebSocket connections of this node; one more handshake is answered 503 NODE_FULL (0: no limit)",
		val:   countValue{field: func(c *Config) *int { return &c.Capacity.MaxConnections }}},
	{env: "MAX_STREAMS", def: "0", group: groupCapacity,
		usage: "most live streams on this node, published or relayed; one more is refused with TOO_MANY_STREAMS (0: no limit)",
		val:   countValue{field: func(c *Config) *int { return &c.Capacity.MaxStreams }}},
	{env: "MAX_VIEWERS_PER_STREAM", def: "0", group: groupCapacity,
		usage: "most WebSocket viewers of one stream on this node; one more is refused with TOO_MANY_VIEWERS (0: no limit)",
		val:   countValue{field: func(c *Config) *int { return &c.Capacity.MaxViewersPerStream }}},

	// Client addresses and origins.
	{env: "TRUSTED_PROXIES", def: "", group: groupAccess,
		usage: "comma-separated IPs and CIDR ranges of reverse proxies whose X-Forwarded-For is believed (empty: none, the client is the socket's peer)",
		val:   prefixListValue(func(c *Config) *[]netip.Prefix { return &c.Access.TrustedProxies })},
	{env: "WEBSOCKET_ALLOWED_ORIGINS", def: "", group: groupAccess,
		usage: "comma-separated origins whose web pages may open the WebSocket, e.g. https://player.example.com, https://*.example.com (empty or *: any)",
		val:   text("ORIGINS", checkWebSocketOrigins, func(c *Config) *string { return &c.Access.AllowedOrigins })},

	// Logging.
	{env: "LOG_ERROR", def: "YES", compat: true, group: groupLog,
		usage: "log errors",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Error })},
	{env: "LOG_WARNING", def: "YES", compat: true, group: groupLog,
		usage: "log warnings",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Warning })},
	{env: "LOG_INFO", def: "YES", compat: true, group: groupLog,
		usage: "log informational messages",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Info })},
	{env: "LOG_REQUESTS", def: "YES", compat: true, group: groupLog,
		usage: "log one info line per HTTP request (needs LOG_INFO)",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Requests })},
	{env: "LOG_DEBUG", def: "NO", compat: true, group: groupLog,
		usage: "log debug messages",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Debug })},
	{env: "LOG_TRACE", def: "NO", compat: true, group: groupLog,
		usage: "log trace messages (very verbose)",
		val:   boolValue(func(c *Config) *bool { return &c.Log.Trace })},
	{env: "LOG_FORMAT", def: "json", group: groupLog,
		usage: "json (one object per line) or console (for people)",
		val:   enumValue{field: func(c *Config) *string { return &c.Log.Format }, options: []string{"json", "console"}, what: "log format"}},

	// HLS over HTTP.
	{env: "HLS_HTTP_ENABLED", def: "YES", group: groupHLS,
		usage: "serve every stream as HLS over HTTP (playlist and segments), authorised by the same PULL tokens",
		val:   boolValue(func(c *Config) *bool { return &c.HLS.Enabled })},
	{env: "HLS_HTTP_PATH_PREFIX", def: "/hls/", group: groupHLS,
		usage: "path below which playlists ({stream}/index.m3u8) and segments are served",
		val:   text("PATH", checkPath, func(c *Config) *string { return &c.HLS.PathPrefix })},
	{env: "HLS_HTTP_CORS_ORIGINS", def: "*", group: groupHLS,
		usage: "origins whose pages may read the HLS output: * for any, or comma-separated origins (empty: no CORS headers)",
		val:   text("ORIGINS", checkOrigins, func(c *Config) *string { return &c.HLS.CORSOrigins })},
	{env: "HLS_HTTP_MAX_BLOCKED_REQUESTS", def: "10000", group: groupHLS,
		usage: "most playlist requests waiting for a new segment at the same time on this node; more are answered 503",
		val:   countValue{field: func(c *Config) *int { return &c.HLS.MaxBlockedRequests }, min: 1}},
	{env: "HLS_HTTP_MAX_BLOCK_SECONDS", def: "20", group: groupHLS,
		usage: "longest wait of a blocking playlist request (also at most three target durations); then 503",
		val:   seconds(func(c *Config) *time.Duration { return &c.HLS.MaxBlockWait })},

	// Demo page.
	{env: "DEMO_PAGE_ENABLED", def: "NO", group: groupDemo,
		usage: "serve the player demo page at /demo/ (a browser plays ?stream=...&token=... from this node)",
		val:   boolValue(func(c *Config) *bool { return &c.Demo.Enabled })},

	// Admin API.
	{env: "ADMIN_ENABLED", def: "NO", group: groupAdmin,
		usage: "serve the admin API (list and close streams and connections, reload plugins, drain) on ADMIN_LISTEN_ADDRESS; needs ADMIN_TOKEN",
		val:   boolValue(func(c *Config) *bool { return &c.Admin.Enabled })},
	{env: "ADMIN_LISTEN_ADDRESS", def: "127.0.0.1:9091", group: groupAdmin,
		usage: "host:port of the admin API's own listener (plain HTTP; keep it on loopback or a private network)",
		val:   text("HOST:PORT", checkListenAddress, func(c *Config) *string { return &c.Admin.ListenAddress })},
	{env: "ADMIN_TOKEN", def: "", secret: true, group: groupAdmin,
		usage: "bearer token every admin request must carry (Authorization: Bearer ...); never logged",
		val:   text("SECRET", nil, func(c *Config) *string { return &c.Admin.Token })},

	// Metrics.
	{env: "METRICS_ENABLED", def: "YES", group: groupMetrics,
		usage: "serve Prometheus metrics at /metrics on METRICS_LISTEN_ADDRESS",
		val:   boolValue(func(c *Config) *bool { return &c.Metrics.Enabled })},
	{env: "METRICS_LISTEN_ADDRESS", def: "127.0.0.1:9090", group: groupMetrics,
		usage: "host:port of the metrics listener, apart from the public port (no authentication; keep it on loopback or a private network)",
		val:   text("HOST:PORT", checkListenAddress, func(c *Config) *string { return &c.Metrics.ListenAddress })},
	{env: "METRICS_TOP_STREAMS", def: "50", group: groupMetrics,
		usage: "streams with the most viewers that get a viewer series of their own; the others are summed as stream=\"_other\"",
		val:   countValue{field: func(c *Config) *int { return &c.Metrics.TopStreams }}},
}

// lookupSetting finds a setting by its environment variable.
func lookupSetting(env string) *setting {
	for i := range settings {
		if settings[i].env == env {
			return &settings[i]
		}
	}
	return nil
}
