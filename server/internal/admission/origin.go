package admission

import (
	"net/http"
	"net/url"
	"strings"
)

// originPolicy decides which web pages may open the WebSocket. Browsers
// send the page's origin in the handshake's Origin header and let any page
// open a WebSocket to any host, with that host's cookies: without a check, a
// page of another site can use whatever the relay grants its visitors
// (cross-site WebSocket hijacking). Clients that are not browsers send no
// Origin and are not checked.
type originPolicy struct {
	any      bool
	exact    map[string]bool // "scheme://host[:port]", lower case
	suffixes []string        // "scheme://" + ".domain[:port]" of "*." patterns, lower case
}

// newOriginPolicy accepts "scheme://host[:port]" and "scheme://*.domain"
// items; none, or "*", allows every origin.
func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{exact: make(map[string]bool)}
	for _, o := range origins {
		o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
		switch {
		case o == "":
		case o == "*":
			p.any = true
		case strings.Contains(o, "://*."):
			scheme, host, _ := strings.Cut(o, "://*")
			p.suffixes = append(p.suffixes, scheme+"://"+host)
		default:
			p.exact[o] = true
		}
	}
	if len(p.exact) == 0 && len(p.suffixes) == 0 {
		p.any = true
	}
	return p
}

// allows reports whether r's Origin may open the WebSocket: none (not a
// browser), a listed one, or the relay's own host (a page it serves).
func (p originPolicy) allows(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if p.any || origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false // "null" (sandboxed pages, files) and garbage
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	o := strings.ToLower(u.Scheme + "://" + u.Host)
	if p.exact[o] {
		return true
	}
	for _, s := range p.suffixes {
		scheme, domain, _ := strings.Cut(s, "://")
		if strings.HasPrefix(o, scheme+"://") && strings.HasSuffix(o, domain) && len(o) > len(scheme)+3+len(domain) {
			return true
		}
	}
	return false
}
