// Package config loads hlsrelay's settings from the command line, the
// process environment, a .env file and built-in defaults, in that order of
// precedence, and validates them before anything starts.
//
// Every environment variable of the existing HLS WebSocket CDN server is
// accepted unchanged, with the same default and meaning; each setting also
// has a command-line flag: the variable's name in lower case with "_"
// replaced by "-" (HTTP_PORT is --http-port). An empty value means the
// setting's default, as it did in the existing server. A bad value is an
// error that names the setting, its flag and the value; the existing server
// silently used the default instead.
//
// The sample file hlsrelay.env.example at the repository root lists every
// setting with its default; a test keeps it in step with this package.
package config

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is the relay's effective configuration. Load returns one that has
// been validated; Default returns the built-in defaults.
type Config struct {
	HTTP      HTTPConfig
	TLS       TLSConfig
	Server    ServerConfig
	Limits    LimitsConfig
	Auth      AuthConfig
	Plugins   PluginsConfig
	Buffer    BufferConfig
	Registry  RegistryConfig
	Relay     RelayConfig
	RateLimit RateLimitConfig
	Access    AccessConfig
	Capacity  CapacityConfig
	Log       LogConfig
	HLS       HLSConfig
	Demo      DemoConfig
	Admin     AdminConfig
	Metrics   MetricsConfig

	// EnvFile is the .env file that Load read settings from; empty when it
	// read none (no path, or the file does not exist).
	EnvFile string
}

// HTTPConfig is the plain-HTTP listener (ws://).
type HTTPConfig struct {
	Enabled     bool   // HTTP_ENABLED, default YES
	Port        int    // HTTP_PORT, default 80
	BindAddress string // HTTP_BIND_ADDRESS, default "" (all interfaces)
}

// Addr is the listen address, for net.Listen.
func (h HTTPConfig) Addr() string {
	return net.JoinHostPort(h.BindAddress, strconv.Itoa(h.Port))
}

// TLSConfig is the HTTPS listener (wss://).
type TLSConfig struct {
	Enabled         bool   // TLS_ENABLED, default NO
	Port            int    // TLS_PORT, default 443
	BindAddress     string // TLS_BIND_ADDRESS, default "" (all interfaces)
	CertificateFile string // TLS_CERTIFICATE: PEM certificate chain; required when Enabled
	PrivateKeyFile  string // TLS_PRIVATE_KEY: PEM private key; required when Enabled
	// CheckReloadInterval is how often the certificate and key files are
	// checked for changes (TLS_CHECK_RELOAD_SECONDS, default 60 s).
	CheckReloadInterval time.Duration
}

// Addr is the listen address, for net.Listen.
func (t TLSConfig) Addr() string {
	return net.JoinHostPort(t.BindAddress, strconv.Itoa(t.Port))
}

// ServerConfig holds the HTTP paths, the node's public URL and shutdown.
type ServerConfig struct {
	// WebSocketPath is the path of the WebSocket endpoint (WEBSOCKET_PREFIX,
	// default "/"). It starts with "/".
	WebSocketPath string
	// HealthPath is the path of the health endpoint (HEALTH_PATH, default
	// "/healthz"). It starts with "/" and differs from WebSocketPath.
	HealthPath string
	// ExternalURL is the ws:// or wss:// URL other nodes use to reach this
	// one, announced in the publish registry (EXTERNAL_WEBSOCKET_URL).
	// Empty means: detect it from the network interfaces.
	ExternalURL string
	// NodeID names this node in logs and to plugins (NODE_ID, default ""
	// meaning the host name).
	NodeID string
	// ShutdownTimeout is how long a graceful shutdown lets connections
	// finish before closing them (SHUTDOWN_TIMEOUT_SECONDS, default 10 s;
	// 0 closes them at once).
	ShutdownTimeout time.Duration
}

// LimitsConfig holds the per-connection protocol limits and timeouts. Every
// size and every duration except PublisherGrace is more than zero.
type LimitsConfig struct {
	// HandshakeTimeout bounds the TLS handshake and the HTTP request head of
	// every connection, WebSocket handshakes included
	// (HANDSHAKE_TIMEOUT_SECONDS, default 10 s).
	HandshakeTimeout time.Duration
	// MaxBinaryMessageSize bounds one binary message (one fragment), in
	// bytes (MAX_BINARY_MESSAGE_SIZE, default 50 MiB).
	MaxBinaryMessageSize int64
	// MaxTextMessageSize bounds one text message, in bytes
	// (MAX_TEXT_MESSAGE_SIZE, default 16 KiB).
	MaxTextMessageSize int64
	// FirstMessageTimeout: a connection that sends no PUSH or PULL within
	// this time is closed (FIRST_MESSAGE_TIMEOUT_SECONDS, default 30 s).
	FirstMessageTimeout time.Duration
	// HeartbeatInterval: the relay sends H after this long without sending
	// anything (HEARTBEAT_INTERVAL_SECONDS, default 30 s).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: a connection from which nothing arrived for this
	// long is closed (HEARTBEAT_TIMEOUT_SECONDS, default 60 s).
	HeartbeatTimeout time.Duration
	// WriteTimeout: a viewer whose socket accepts no message for this long
	// is disconnected (WRITE_TIMEOUT_SECONDS, default 10 s).
	WriteTimeout time.Duration
	// PublisherGrace: how long a stream stays live after its publisher's
	// socket dropped without CLOSE (PUBLISHER_GRACE_SECONDS, default 10 s;
	// 0 ends the stream at once).
	PublisherGrace time.Duration
}

// AuthConfig holds the token secrets. An empty secret disables the token
// check for that action, as in the existing server; Warnings says so.
type AuthConfig struct {
	PullSecret  string // PULL_SECRET: HS256 secret of PULL tokens
	PushSecret  string // PUSH_SECRET: HS256 secret of PUSH tokens
	PushAllowed bool   // PUSH_ALLOWED, default YES: this node accepts publishers
	// RequireSecrets refuses to start with an empty PULL_SECRET, or an empty
	// PUSH_SECRET while pushing is allowed (REQUIRE_SECRETS, default NO).
	RequireSecrets bool
}

// PluginsConfig selects and bounds the WebAssembly policy plugins.
type PluginsConfig struct {
	// AuthFile and RouteFile are .wasm files that replace the embedded
	// plugins (AUTH_PLUGIN, ROUTE_PLUGIN; empty: embedded).
	AuthFile, RouteFile string
	// AuthConfig and RouteConfig are handed to those plugins as their
	// configuration (AUTH_PLUGIN_CONFIG, ROUTE_PLUGIN_CONFIG). The embedded
	// plugins are configured from the existing settings instead.
	AuthConfig, RouteConfig string
	// ReloadCheckInterval is how often plugin files are checked for changes
	// (PLUGIN_RELOAD_CHECK_SECONDS, 5 s; 0: only on SIGHUP).
	ReloadCheckInterval time.Duration
	// PoolSize is the most instances of each plugin (PLUGIN_POOL_SIZE, 4).
	PoolSize int
	// CallTimeout is one call's deadline (PLUGIN_CALL_TIMEOUT_SECONDS, 50 ms).
	CallTimeout time.Duration
	// MaxMemoryBytes bounds one instance's memory (PLUGIN_MAX_MEMORY_MB, 64 MiB).
	MaxMemoryBytes int64
	// CacheEnabled and CacheDir: the on-disk compilation cache
	// (PLUGIN_CACHE_ENABLED, YES; PLUGIN_CACHE_DIR, "" = user cache dir).
	CacheEnabled bool
	CacheDir     string
	// DecisionCacheTTL bounds how long a cacheable decision is reused
	// (PLUGIN_DECISION_CACHE_SECONDS, 60 s; 0 disables the cache).
	DecisionCacheTTL time.Duration
}

// BufferConfig bounds the memory that buffered fragments use.
type BufferConfig struct {
	// MaxFragments is the ring length: the most fragments a stream keeps
	// for new viewers (FRAGMENT_BUFFER_MAX_LENGTH, default 10; at least 1).
	MaxFragments int
	// StreamMaxBytes bounds the bytes one stream keeps
	// (STREAM_BUFFER_MAX_MB, default 64 MiB).
	StreamMaxBytes int64
	// MemoryLimiterEnabled and MemoryLimitBytes are the global bound of
	// all streams together (BUFFER_MEMORY_LIMITER_ENABLED, default NO, and
	// BUFFER_MEMORY_LIMIT_MB, default 256 MiB). Use GlobalMaxBytes.
	MemoryLimiterEnabled bool
	MemoryLimitBytes     int64
}

// GlobalMaxBytes is the bound on the bytes of all streams together: 0 (no
// bound) unless the memory limiter is enabled.
func (b BufferConfig) GlobalMaxBytes() int64 {
	if !b.MemoryLimiterEnabled {
		return 0
	}
	return b.MemoryLimitBytes
}

// RegistryConfig is the Redis publish registry.
type RegistryConfig struct {
	Enabled  bool   // PUB_REG_REDIS_ENABLED, default NO
	Host     string // PUB_REG_REDIS_HOST, default 127.0.0.1
	Port     int    // PUB_REG_REDIS_PORT, default 6379
	Password string // PUB_REG_REDIS_PASSWORD, default "" (no AUTH)
	UseTLS   bool   // PUB_REG_REDIS_USE_TLS, default NO
	// RefreshInterval is how often a publishing node refreshes its entries
	// (PUB_REG_REFRESH_INTERVAL_SECONDS, default 60 s).
	RefreshInterval time.Duration
	// URL is a redis:// or rediss:// URL (PUB_REG_REDIS_URL, default "");
	// when set it replaces Host, Port, Password and UseTLS.
	URL string
	// Addresses lists several Redis servers, host:port, comma-separated
	// (PUB_REG_REDIS_ADDRESSES, default ""): the nodes of a Redis Cluster,
	// or the sentinels when MasterName is set. It replaces Host and Port.
	Addresses string
	// MasterName is the Sentinel master name (PUB_REG_REDIS_MASTER_NAME,
	// default "": no Sentinel).
	MasterName string
	// NodeTTL: a node that stopped refreshing its liveness entry for this
	// long counts as dead, and its streams can be published elsewhere
	// (PUB_REG_NODE_TTL_SECONDS, default 5 s).
	NodeTTL time.Duration
}

// AddressList returns Addresses split at commas, without blanks.
func (r RegistryConfig) AddressList() []string {
	var list []string
	for _, a := range strings.Split(r.Addresses, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	return list
}

// Addr is the Redis server's host:port.
func (r RegistryConfig) Addr() string {
	return net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
}

// EntryTTL is the lifetime of a registry entry: twice the refresh interval,
// as in the existing server.
func (r RegistryConfig) EntryTTL() time.Duration {
	return 2 * r.RefreshInterval
}

// RelayConfig is pulling streams from a fixed upstream node.
type RelayConfig struct {
	FromEnabled bool   // RELAY_FROM_ENABLED, default NO
	FromURL     string // RELAY_FROM_URL: ws:// or wss:// URL; required when FromEnabled
	// InactivityPeriod: a relayed stream with no local viewers is closed
	// after this long (RELAY_INACTIVITY_PERIOD_SEC, default 30 s).
	InactivityPeriod time.Duration
	// FailoverPeriod: a relayed stream whose source was lost is looked for
	// again for this long before it ends for its viewers
	// (RELAY_FAILOVER_SECONDS, default 30 s).
	FailoverPeriod time.Duration
}

// RateLimitConfig limits connections and requests per client IP address.
type RateLimitConfig struct {
	Enabled bool // RATE_LIMIT_ENABLED, default NO
	// Whitelist holds the addresses exempt from the limits
	// (RATE_LIMIT_WHITELIST, comma-separated IPs and CIDR ranges). A single
	// address is a /32 or /128 prefix. Prefixes are masked.
	Whitelist         []netip.Prefix
	MaxConnections    int // RATE_LIMIT_CONNECTIONS, default 0 (no limit)
	RequestsPerSecond int // RATE_LIMIT_REQ_PER_SEC, default 0 (no limit)
	RequestBurst      int // RATE_LIMIT_REQ_BURST, default 0
	// CleanupInterval is how often idle request counters are dropped
	// (RATE_LIMIT_REQ_CLEANUP, default 10 s).
	CleanupInterval time.Duration
	// MaxTrackedIPs bounds the client addresses whose counters are kept
	// (RATE_LIMIT_MAX_TRACKED_IPS, default 100000), so that a flood from
	// many addresses cannot grow the table without bound.
	MaxTrackedIPs int
}

// Whitelisted reports whether addr is in the whitelist. An IPv4-mapped IPv6
// address is compared as IPv4.
func (r RateLimitConfig) Whitelisted(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range r.Whitelist {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// LogConfig holds the log switches of the existing server and the format.
type LogConfig struct {
	Error    bool // LOG_ERROR, default YES
	Warning  bool // LOG_WARNING, default YES
	Info     bool // LOG_INFO, default YES
	Requests bool // LOG_REQUESTS, default YES: one info line per HTTP request (needs Info too)
	Debug    bool // LOG_DEBUG, default NO
	Trace    bool // LOG_TRACE, default NO
	// Format is "json" (default) or "console" (LOG_FORMAT).
	Format string
}

// Log level names, as MinLevel returns them and Enabled accepts them. They
// are zerolog's names.
const (
	LevelTrace    = "trace"
	LevelDebug    = "debug"
	LevelInfo     = "info"
	LevelWarn     = "warn"
	LevelError    = "error"
	LevelDisabled = "disabled"
)

// MinLevel is the lowest enabled level: "trace", "debug", "info", "warn" or
// "error", or "disabled" when every level is off. The switches are
// independent (LOG_INFO=NO with LOG_DEBUG=YES is allowed), so a logger set to
// MinLevel should also drop the levels that Enabled reports off.
func (l LogConfig) MinLevel() string {
	for _, lv := range []string{LevelTrace, LevelDebug, LevelInfo, LevelWarn, LevelError} {
		if l.Enabled(lv) {
			return lv
		}
	}
	return LevelDisabled
}

// Enabled reports whether messages of the named level are logged. Unknown
// names are off.
func (l LogConfig) Enabled(level string) bool {
	switch level {
	case LevelTrace:
		return l.Trace
	case LevelDebug:
		return l.Debug
	case LevelInfo:
		return l.Info
	case LevelWarn:
		return l.Warning
	case LevelError:
		return l.Error
	}
	return false
}
