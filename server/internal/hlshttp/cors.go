package hlshttp

import (
	"net/http"
	"strings"
)

// corsPolicy answers browsers' cross-origin checks. Tokens travel in the URL
// or in an Authorization header, never in cookies, so credentials are never
// allowed.
type corsPolicy struct {
	any     bool
	origins map[string]bool // lower case
}

func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: make(map[string]bool)}
	for _, o := range origins {
		o = strings.ToLower(strings.TrimSpace(o))
		switch o {
		case "":
		case "*":
			p.any = true
		default:
			p.origins[strings.TrimSuffix(o, "/")] = true
		}
	}
	return p
}

func (p corsPolicy) enabled() bool { return p.any || len(p.origins) > 0 }

// apply sets the headers of an actual (not preflight) response.
func (p corsPolicy) apply(hdr http.Header, r *http.Request) {
	switch {
	case p.any:
		hdr.Set("Access-Control-Allow-Origin", "*")
	case len(p.origins) > 0:
		// The answer depends on the Origin header, whether or not it is
		// allowed: a shared cache must keep them apart.
		hdr.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); p.origins[strings.ToLower(origin)] {
			hdr.Set("Access-Control-Allow-Origin", origin)
		}
	}
}

// preflight answers an OPTIONS request.
func (p corsPolicy) preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Allow", "GET, HEAD, OPTIONS")
	if p.enabled() && hdr.Get("Access-Control-Allow-Origin") != "" {
		hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		// Authorization carries a Bearer token; Range is sent by some
		// players for segments.
		hdr.Set("Access-Control-Allow-Headers", "Authorization, Range")
		hdr.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}
