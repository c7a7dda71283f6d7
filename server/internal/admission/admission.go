// Package admission decides which HTTP requests and WebSocket handshakes a
// relay node takes on, before any protocol message is read: per-address
// request rates and connection counts (the existing server's RATE_LIMIT_*
// settings), the node's connection bound (MAX_CONNECTIONS), the WebSocket
// Origin allow-list, and the client address behind trusted proxies.
//
// A refusal is an HTTP status (429, 403 or 503) with the protocol's error
// code in the Hlsrelay-Error header (protocol.ErrorHeader) and the body,
// and is counted in the refusals metric by that code. See docs/security.md.
package admission

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// Config configures a Controller. Zero values disable each limit.
type Config struct {
	// RateLimit enables the per-address limits below (RATE_LIMIT_ENABLED).
	RateLimit bool
	// Whitelist holds addresses exempt from the per-address limits.
	Whitelist []netip.Prefix
	// MaxConnectionsPerAddr bounds the open WebSockets of one address.
	MaxConnectionsPerAddr int
	// RequestsPerSecond and Burst are an address's token bucket: it holds
	// max(Burst, RequestsPerSecond) requests and refills RequestsPerSecond
	// per second. A WebSocket handshake and an HLS request take one.
	RequestsPerSecond, Burst int
	// CleanupInterval is how often idle addresses are forgotten. Defaults
	// to 10 s.
	CleanupInterval time.Duration
	// MaxTrackedAddrs bounds the addresses counted at once. Defaults to
	// 100000.
	MaxTrackedAddrs int

	// MaxConnections bounds the node's open WebSockets.
	MaxConnections int
	// TrustedProxies lists the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// AllowedOrigins lists the origins whose pages may open the WebSocket
	// ("https://player.example.com", "https://*.example.com"); none or "*"
	// allows every page.
	AllowedOrigins []string

	// Metrics counts refusals by code; nil counts nothing.
	Metrics *metrics.Metrics
	// now replaces time.Now in tests.
	now func() time.Time
}

// Controller admits or refuses requests. Its methods are safe for
// concurrent use; a nil *Controller admits everything.
type Controller struct {
	cfg     Config
	rates   *rateTable // nil unless RateLimit
	origins originPolicy
	open    atomic.Int64 // WebSockets admitted and not yet closed
}

// New returns a Controller for cfg.
func New(cfg Config) *Controller {
	c := &Controller{cfg: cfg, origins: newOriginPolicy(cfg.AllowedOrigins)}
	if cfg.RateLimit && (cfg.RequestsPerSecond > 0 || cfg.MaxConnectionsPerAddr > 0) {
		c.rates = newRateTable(rateConfig{
			whitelist:         cfg.Whitelist,
			maxConnections:    cfg.MaxConnectionsPerAddr,
			requestsPerSecond: cfg.RequestsPerSecond,
			burst:             cfg.Burst,
			cleanup:           cfg.CleanupInterval,
			maxTracked:        cfg.MaxTrackedAddrs,
			now:               cfg.now,
		})
	}
	return c
}

// Refusal is why a request was not admitted.
type Refusal struct {
	Status  int    // HTTP status: 429, 403 or 503
	Code    string // the protocol's error code, e.g. RATE_LIMITED
	Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// Write answers the request with the refusal. 429 and 503 tell the client
// to retry after a second.
func (r *Refusal) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(protocol.ErrorHeader, r.Code)
	if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write([]byte(r.Code + ": " + r.Message + "\n"))
}

// ClientAddr resolves the client of r (the socket's peer, or the address a
// trusted proxy forwarded) and, when a proxy forwarded it, rewrites
// r.RemoteAddr to it (port 0: unknown), so that logs, plugins and the
// limits all see the client rather than the proxy.
func (c *Controller) ClientAddr(r *http.Request) netip.Addr {
	if c == nil {
		a, _ := parseHostAddr(r.RemoteAddr)
		return a
	}
	a, forwarded := clientAddr(r, c.cfg.TrustedProxies)
	if forwarded {
		r.RemoteAddr = net.JoinHostPort(a.String(), "0")
	}
	return a
}

// Request admits one HTTP request (an HLS playlist or segment) from the
// client at addr: it takes a token of the address's bucket.
func (c *Controller) Request(addr netip.Addr) *Refusal {
	if c == nil || c.rates == nil {
		return nil
	}
	return c.refuse(c.rateError(c.rates.request(addr), addr))
}

// Handshake admits a WebSocket handshake from the client at addr: the
// request rate, the Origin, the node's connection bound and the address's.
// When it admits, release must be called once when the connection closes.
func (c *Controller) Handshake(r *http.Request, addr netip.Addr) (release func(), refusal *Refusal) {
	if c == nil {
		return func() {}, nil
	}
	if c.rates != nil {
		if err := c.rates.request(addr); err != nil {
			return nil, c.refuse(c.rateError(err, addr))
		}
	}
	if !c.origins.allows(r) {
		return nil, c.refuse(&Refusal{Status: http.StatusForbidden, Code: protocol.CodeOriginNotAllowed,
			Message: "web pages of origin " + strconv.Quote(r.Header.Get("Origin")) + " may not open this relay's WebSocket"})
	}
	open := c.open.Add(1)
	if limit := int64(c.cfg.MaxConnections); limit > 0 && open > limit {
		c.open.Add(-1)
		return nil, c.refuse(&Refusal{Status: http.StatusServiceUnavailable, Code: protocol.CodeNodeFull,
			Message: "this node holds as many connections as it allows; try another node"})
	}
	releaseAddr := func() {}
	if c.rates != nil {
		var err error
		if releaseAddr, err = c.rates.connect(addr); err != nil {
			c.open.Add(-1)
			return nil, c.refuse(c.rateError(err, addr))
		}
	}
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			releaseAddr()
			c.open.Add(-1)
		}
	}, nil
}

// rateError turns the per-address table's errors into refusals.
func (c *Controller) rateError(err error, addr netip.Addr) *Refusal {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTooManyConnections):
		return &Refusal{Status: http.StatusTooManyRequests, Code: protocol.CodeTooManyConnections,
			Message: "address " + addr.String() + " has " + strconv.Itoa(c.cfg.MaxConnectionsPerAddr) + " connections open, the most allowed"}
	case errors.Is(err, errTableFull):
		return &Refusal{Status: http.StatusTooManyRequests, Code: protocol.CodeRateLimited,
			Message: "too many clients are connected; retry later"}
	}
	return &Refusal{Status: http.StatusTooManyRequests, Code: protocol.CodeRateLimited,
		Message: "address " + addr.String() + " made more than " + strconv.Itoa(c.cfg.RequestsPerSecond) + " requests per second"}
}

func (c *Controller) refuse(r *Refusal) *Refusal {
	if r != nil {
		c.cfg.Metrics.Refused(r.Code)
	}
	return r
}

// Connections returns the WebSockets admitted and not yet released.
func (c *Controller) Connections() int {
	if c == nil {
		return 0
	}
	return int(c.open.Load())
}

// TrackedAddrs returns the client addresses the per-address limits count
// now (at most MaxTrackedAddrs).
func (c *Controller) TrackedAddrs() int {
	if c == nil || c.rates == nil {
		return 0
	}
	return c.rates.tracked()
}
