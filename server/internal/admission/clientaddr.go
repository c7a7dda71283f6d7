package admission

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For entries looked at, so that a
// long forged header costs nothing.
const maxForwardedHops = 16

// clientAddr returns the address of the client that sent r, and whether it
// was taken from X-Forwarded-For. The client is the socket's peer, unless
// the peer is a trusted proxy: then it is the right-most address of
// X-Forwarded-For that is not a trusted proxy itself (each proxy appends the
// address it received the request from, so the entries to the right of the
// first untrusted one were written by trusted proxies and the ones to its
// left by whoever sent the request). An entry that is not an address ends
// the walk at the last trusted hop.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok || len(trusted) == 0 || !contains(trusted, peer) {
		return peer, false
	}
	values := r.Header.Values("X-Forwarded-For")
	client, forwarded, hops := peer, false, 0
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			if hops++; hops > maxForwardedHops {
				return client, forwarded
			}
			a, ok := parseHostAddr(strings.TrimSpace(entries[j]))
			if !ok {
				return client, forwarded
			}
			client, forwarded = a, true
			if !contains(trusted, a) {
				return client, forwarded
			}
		}
	}
	return client, forwarded
}

// parseHostAddr parses "ip", "ip:port" or "[ipv6]:port".
func parseHostAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
