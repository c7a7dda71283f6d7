package config

import (
	"slices"
	"strconv"
	"time"
)

// Redacted returns a copy of c that is safe to log: secrets (PULL_SECRET,
// PUSH_SECRET, PUB_REG_REDIS_PASSWORD) and the passwords of URLs are
// replaced by "***". An empty secret stays empty, which shows that its
// check is disabled.
func (c Config) Redacted() Config {
	r := c
	for _, p := range []*string{&r.Auth.PullSecret, &r.Auth.PushSecret, &r.Registry.Password, &r.Plugins.AuthConfig, &r.Plugins.RouteConfig, &r.Admin.Token} {
		if *p != "" {
			*p = "***"
		}
	}
	r.Server.ExternalURL = redactURL(r.Server.ExternalURL)
	r.Relay.FromURL = redactURL(r.Relay.FromURL)
	r.RateLimit.Whitelist = slices.Clone(r.RateLimit.Whitelist)
	r.Access.TrustedProxies = slices.Clone(r.Access.TrustedProxies)
	return r
}

// Setting is one setting's effective value, for logging the configuration at
// start-up.
type Setting struct {
	Group   string // e.g. "HTTP and TLS listeners"
	Env     string // e.g. "HTTP_PORT"
	Flag    string // e.g. "--http-port"
	Value   string // as it would be written in the environment; secrets are "***"
	Default bool   // Value is the default
}

// Settings lists every setting of c, redacted, in --help order.
func (c Config) Settings() []Setting {
	r := c.Redacted()
	out := make([]Setting, 0, len(settings))
	for i := range settings {
		s := &settings[i]
		v := s.val.get(&r)
		out = append(out, Setting{
			Group:   s.group,
			Env:     s.env,
			Flag:    s.flag(),
			Value:   v,
			Default: v == s.def,
		})
	}
	return out
}

// Warnings lists start-up warnings: settings that work but are risky or
// probably not what the operator meant. The caller logs each at warning
// level.
func (c Config) Warnings() []string {
	var w []string
	if c.Auth.PullSecret == "" {
		w = append(w, "PULL_SECRET is empty: PULL tokens are NOT checked, anyone can watch any stream of this node"+
			" (set PULL_SECRET, and REQUIRE_SECRETS=YES to refuse to start without it)")
	}
	if c.Auth.PushAllowed && c.Auth.PushSecret == "" {
		w = append(w, "PUSH_SECRET is empty and PUSH_ALLOWED is YES: PUSH tokens are NOT checked, anyone can publish any stream on this node"+
			" (set PUSH_SECRET, or PUSH_ALLOWED=NO on nodes that only relay)")
	}
	for _, s := range []struct{ env, v string }{{"PULL_SECRET", c.Auth.PullSecret}, {"PUSH_SECRET", c.Auth.PushSecret}} {
		if s.v != "" && len(s.v) < minSecretLen {
			w = append(w, s.env+" is shorter than "+strconv.Itoa(minSecretLen)+
				" bytes: HS256 tokens signed with it can be guessed offline; use 32 random bytes or more")
		}
	}
	if c.Auth.PullSecret != "" && c.Auth.PullSecret == c.Auth.PushSecret && c.Auth.PushAllowed {
		w = append(w, "PULL_SECRET and PUSH_SECRET are equal: whoever may watch a stream can also publish it")
	}
	if c.Buffer.StreamMaxBytes < c.Limits.MaxBinaryMessageSize {
		w = append(w, "STREAM_BUFFER_MAX_MB is smaller than MAX_BINARY_MESSAGE_SIZE: a stream's buffer cannot hold its largest fragment")
	}
	if g := c.Buffer.GlobalMaxBytes(); g != 0 && g < c.Buffer.StreamMaxBytes {
		w = append(w, "BUFFER_MEMORY_LIMIT_MB is smaller than STREAM_BUFFER_MAX_MB: one stream can use up the global buffer limit")
	}
	if c.Limits.HeartbeatTimeout <= baseHeartbeat {
		w = append(w, "HEARTBEAT_TIMEOUT_SECONDS is "+formatSeconds(c.Limits.HeartbeatTimeout)+
			": clients of the base protocol send a heartbeat only every 30 s, so idle viewers will be disconnected")
	}
	if c.Limits.HeartbeatTimeout <= c.Limits.HeartbeatInterval {
		w = append(w, "HEARTBEAT_TIMEOUT_SECONDS is not more than HEARTBEAT_INTERVAL_SECONDS: hlsrelay peers with these settings disconnect each other when idle")
	}
	if c.Registry.Enabled && c.Server.ExternalURL == "" {
		w = append(w, "EXTERNAL_WEBSOCKET_URL is empty: the URL announced in the registry is guessed from the network interfaces;"+
			" set it when other nodes reach this one through NAT, a proxy or TLS")
	}
	if c.Registry.Enabled && c.Registry.Password != "" && !c.Registry.UseTLS && !isLoopbackHost(c.Registry.Host) {
		w = append(w, "PUB_REG_REDIS_PASSWORD is sent to "+c.Registry.Host+" without TLS (PUB_REG_REDIS_USE_TLS=NO)")
	}
	w = append(w, c.adminWarnings()...)
	w = append(w, c.metricsWarnings()...)
	return append(w, c.accessWarnings()...)
}

// accessWarnings are the warnings about abuse limits, proxies and origins.
func (c Config) accessWarnings() []string {
	var w []string
	anyOrigin := c.Access.AllowedOriginList() == nil || slices.Contains(c.Access.AllowedOriginList(), "*")
	switch {
	case anyOrigin && c.Plugins.AuthFile == "" && c.Auth.PullSecret == "":
		w = append(w, "WEBSOCKET_ALLOWED_ORIGINS is empty and PULL_SECRET is empty: any web page a visitor opens can pull this node's streams"+
			" through the visitor's browser, even if the node is reachable only from the visitor's network (see docs/security.md)")
	case anyOrigin && c.Plugins.AuthFile != "":
		w = append(w, "WEBSOCKET_ALLOWED_ORIGINS is empty and AUTH_PLUGIN is set: if the plugin trusts cookies or client addresses,"+
			" any web page a visitor opens can use them through the visitor's browser (cross-site WebSocket hijacking); list the player origins")
	}
	for _, p := range c.Access.TrustedProxies {
		if p.Bits() == 0 {
			w = append(w, "TRUSTED_PROXIES contains "+p.String()+": every client can choose the address that the rate limits, logs and plugins see"+
				" by sending X-Forwarded-For; list only your proxies")
			break
		}
	}
	if c.RateLimit.Enabled && c.RateLimit.MaxConnections == 0 && c.RateLimit.RequestsPerSecond == 0 {
		w = append(w, "RATE_LIMIT_ENABLED is YES but RATE_LIMIT_CONNECTIONS and RATE_LIMIT_REQ_PER_SEC are 0: nothing is limited")
	}
	return w
}

// minSecretLen is the shortest HMAC-SHA256 secret that Warnings accepts:
// the hash's size.
const minSecretLen = 32

// baseHeartbeat is how often clients of the base protocol send H.
const baseHeartbeat = 30 * time.Second

func isLoopbackHost(h string) bool {
	switch h {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}
