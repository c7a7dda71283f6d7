package config

import (
	"net"
	"net/netip"
	"strconv"
)

// AdminConfig is the admin API (docs/admin-api.md): a JSON API on a listen
// address of its own, for the node's operator only.
type AdminConfig struct {
	// Enabled serves the API (ADMIN_ENABLED, default NO).
	Enabled bool
	// ListenAddress is host:port of its listener (ADMIN_LISTEN_ADDRESS,
	// default 127.0.0.1:9091: this machine only).
	ListenAddress string
	// Token is the bearer token every request must carry (ADMIN_TOKEN);
	// required when Enabled. A secret: never printed.
	Token string
}

// minAdminTokenLength is the shortest admin token accepted without a
// warning: 16 bytes of `openssl rand -hex 16` are 32 characters.
const minAdminTokenLength = 32

// adminWarnings are the warnings about the admin API.
func (c Config) adminWarnings() []string {
	if !c.Admin.Enabled {
		return nil
	}
	var w []string
	if c.Admin.Token != "" && len(c.Admin.Token) < minAdminTokenLength {
		w = append(w, "ADMIN_TOKEN is shorter than "+strconv.Itoa(minAdminTokenLength)+
			" characters; use a long random one, e.g. openssl rand -hex 32")
	}
	if host, _, err := net.SplitHostPort(c.Admin.ListenAddress); err == nil && !isLoopbackAddress(host) {
		w = append(w, "ADMIN_LISTEN_ADDRESS "+c.Admin.ListenAddress+" is reachable from other machines and the admin API is plain HTTP:"+
			" the token travels in clear text; bind it to 127.0.0.1 or a private network, or put a TLS proxy in front")
	}
	return w
}

// isLoopbackAddress reports whether host names this machine only.
func isLoopbackAddress(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
