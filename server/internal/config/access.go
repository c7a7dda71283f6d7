package config

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// AccessConfig says which clients the relay believes and which web pages
// may open its WebSocket (docs/security.md).
type AccessConfig struct {
	// TrustedProxies lists the reverse proxies and load balancers whose
	// X-Forwarded-For header is believed (TRUSTED_PROXIES, comma-separated
	// IPs and CIDR ranges; default none: the client is the socket's peer).
	// The client address is used by the rate limits, in logs and by
	// plugins.
	TrustedProxies []netip.Prefix
	// AllowedOrigins lists the web origins whose pages may open the
	// WebSocket (WEBSOCKET_ALLOWED_ORIGINS, default "": any). Use
	// AllowedOriginList.
	AllowedOrigins string
}

// AllowedOriginList returns AllowedOrigins split at commas, without blanks;
// nil means every origin is allowed. "*" alone allows every origin too.
func (a AccessConfig) AllowedOriginList() []string {
	var list []string
	for _, o := range strings.Split(a.AllowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, o)
		}
	}
	return list
}

// CapacityConfig bounds what one node takes on. Zero means no bound.
type CapacityConfig struct {
	// MaxConnections bounds the WebSocket connections of the node
	// (MAX_CONNECTIONS, default 0); one more handshake is answered 503.
	MaxConnections int
	// MaxStreams bounds the live streams of the node, published here or
	// relayed from another node (MAX_STREAMS, default 0).
	MaxStreams int
	// MaxViewersPerStream bounds the WebSocket viewers of one stream on the
	// node (MAX_VIEWERS_PER_STREAM, default 0).
	MaxViewersPerStream int
}

// checkWebSocketOrigins accepts "*" or comma-separated web origins:
// http(s)://host[:port] with no path, query or fragment; the host may start
// with "*." to allow every subdomain.
func checkWebSocketOrigins(s string) string {
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" || item == "*" {
			continue
		}
		scheme, host, ok := strings.Cut(item, "://")
		host = strings.TrimSuffix(host, "/")
		if rest, wild := strings.CutPrefix(host, "*."); wild {
			host = "x." + rest
		}
		u, err := url.Parse(scheme + "://" + host)
		if !ok || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(host, "*/?#@") {
			return "has " + strconv.Quote(item) + ", which is not * or an origin such as https://player.example.com or https://*.example.com"
		}
	}
	return ""
}
