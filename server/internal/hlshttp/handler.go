// Package hlshttp serves every stream of a relay node as standard HLS over
// HTTP: a live media playlist with blocking playlist reload (RFC 8216 and its
// low-latency additions) and the fragments as segments, read from the same
// hub ring that feeds WebSocket viewers. MPEG-TS streams get MPEG-TS
// segments; fMP4 streams get fMP4 segments under EXT-X-MAP, and when their
// fragments come in parts, an LL-HLS playlist with partial segments and
// preload hints. Nothing is copied per viewer: a response writes the
// fragment's, part's or init segment's own bytes.
//
// Requests are authorised by the same policy.Authorizer as a WebSocket PULL
// and the stream is found through a Locator, for local and relayed streams
// alike. See docs/hls-http.md for the URLs, caching and limits.
package hlshttp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// Config configures a Handler. Zero values take the defaults noted.
type Config struct {
	// Prefix is the path below which playlists and segments are served.
	// Defaults to "/hls/"; a missing trailing "/" is added.
	Prefix string
	// Authorizer decides every request, as for a WebSocket PULL. Required.
	Authorizer policy.Authorizer
	// Locator finds the stream of an authorised request. Required.
	Locator Locator
	// CORSOrigins lists the origins that browsers may read responses from:
	// "*" for any, or origins such as "https://player.example.com". Empty:
	// no CORS headers.
	CORSOrigins []string
	// MaxBlocked bounds the requests that wait at the same time (playlist
	// requests: blocking reload, or a stream without a fragment yet; part
	// requests for a part that has not arrived yet); one more is answered
	// 503. Defaults to 10000.
	MaxBlocked int
	// MaxBlockWait bounds the wait of one blocking request; the wait is
	// also at most three target durations. Defaults to 20 s.
	MaxBlockWait time.Duration
	// RequestTimeout bounds the authorisation and the look-up of one
	// request. Defaults to 5 s.
	RequestTimeout time.Duration
	Log            zerolog.Logger
	// LogRequests logs every request at info level (otherwise at debug).
	// Tokens are never logged.
	LogRequests bool
	// Metrics counts requests by kind and status, refusals by code, the
	// requests in flight and the segment bytes sent. Nil: nothing is
	// counted.
	Metrics *metrics.Metrics
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = "/hls/"
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.MaxBlocked <= 0 {
		c.MaxBlocked = 10000
	}
	if c.MaxBlockWait <= 0 {
		c.MaxBlockWait = 20 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
}

// Handler serves playlists and segments. It is safe for concurrent use.
type Handler struct {
	cfg     Config
	cors    corsPolicy
	blocked chan struct{} // one token per waiting request (playlist or part)
	closing context.Context
	close   context.CancelFunc
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	cfg.setDefaults()
	h := &Handler{
		cfg:     cfg,
		cors:    newCORSPolicy(cfg.CORSOrigins),
		blocked: make(chan struct{}, cfg.MaxBlocked),
	}
	h.closing, h.close = context.WithCancel(context.Background())
	return h
}

// Prefix returns the path prefix the handler serves, ending in "/".
func (h *Handler) Prefix() string { return h.cfg.Prefix }

// Close answers every waiting request at once (503) and makes later ones
// answer without waiting, so that a shutdown does not wait for them.
func (h *Handler) Close() { h.close() }

// Blocked returns the number of requests waiting now.
func (h *Handler) Blocked() int { return len(h.blocked) }

// Handles reports whether r is for this handler: a GET, HEAD or OPTIONS
// whose path, below the prefix, ends in "/index.m3u8", ".ts", ".m4s" or
// ".mp4". Every other request keeps the relay's other answers (any other GET
// answers 200).
func (h *Handler) Handles(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return looksLikeResource(r.URL.EscapedPath(), h.cfg.Prefix)
	}
	return false
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer h.cfg.Metrics.Connected(metrics.RoleHLS)()
	h.cors.apply(w.Header(), r)
	if r.Method == http.MethodOptions {
		h.cors.preflight(w, r)
		h.cfg.Metrics.HLSRequest("preflight", http.StatusNoContent)
		return
	}
	rq, out := h.parseRequest(r)
	if out.status == 0 {
		switch rq.res.kind {
		case kindPlaylist:
			out = h.servePlaylist(w, rq)
		case kindSegment:
			out = h.serveSegment(w, rq)
		case kindPart:
			out = h.servePart(w, rq)
		case kindInit:
			out = h.serveInit(w, rq)
		}
	}
	if out.status >= 400 && out.status != statusClientGone && !out.answered {
		writeError(w, out)
	}
	h.cfg.Metrics.HLSRequest(rq.res.kind.metricsKind(), out.status)
	if out.code != "" {
		h.cfg.Metrics.Refused(out.code)
	}
	h.logRequest(rq, out)
}

// outcome is how a request ended: the status sent (or to send, for errors)
// and, for errors, a message for the client and the log.
type outcome struct {
	status     int
	msg        string
	retryAfter bool // 503 that the client may retry soon
	// code names a refusal (the request was not served by policy or for
	// lack of capacity), as the E message of a WebSocket would; "" for
	// other outcomes.
	code string
	// answered: the response, errors included, was written already.
	answered bool
}

// statusClientGone marks a request whose client left while it waited;
// nothing is written.
const statusClientGone = 499

func fail(status int, msg string) outcome { return outcome{status: status, msg: msg} }

func unavailable(msg string) outcome {
	return outcome{status: http.StatusServiceUnavailable, msg: msg, retryAfter: true}
}

// refused marks out as a refusal with code.
func refused(out outcome, code string) outcome {
	out.code = code
	return out
}

// codeTooManyBlocked refuses a playlist request that would wait while
// HLS_HTTP_MAX_BLOCKED_REQUESTS others wait.
const codeTooManyBlocked = "TOO_MANY_BLOCKED_REQUESTS"

// writeError writes an error response: a short text naming the problem,
// never cached.
func writeError(w http.ResponseWriter, out outcome) {
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Del("ETag")
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if out.status == http.StatusUnauthorized {
		hdr.Set("WWW-Authenticate", `Bearer realm="hlsrelay"`)
	}
	if out.retryAfter {
		hdr.Set("Retry-After", "1")
	}
	w.WriteHeader(out.status)
	_, _ = w.Write([]byte(http.StatusText(out.status) + ": " + out.msg + "\n"))
}

func (h *Handler) logRequest(rq *request, out outcome) {
	level := zerolog.DebugLevel
	if h.cfg.LogRequests {
		level = zerolog.InfoLevel
	}
	e := h.cfg.Log.WithLevel(level)
	if e == nil {
		return
	}
	// The path and the query may hold a token: only parsed parts are logged.
	e = e.Str("remote", rq.r.RemoteAddr).Str("method", rq.r.Method).Int("status", out.status)
	if rq.res.kind != 0 {
		e = e.Str("kind", rq.res.kind.String()).Str("stream", rq.res.stream)
	}
	switch rq.res.kind {
	case kindSegment:
		e = e.Uint64("seq", rq.res.seq)
	case kindPart:
		e = e.Uint64("seq", rq.res.seq).Uint64("part", rq.res.part)
	case kindInit:
		e = e.Uint64("gen", rq.res.gen)
	}
	if out.msg != "" {
		e = e.Str("reason", out.msg)
	}
	e.Msg("hls request")
}

func (k resourceKind) String() string {
	switch k {
	case kindPlaylist:
		return "playlist"
	case kindSegment:
		return "segment"
	case kindPart:
		return "part"
	case kindInit:
		return "init"
	}
	return "unknown"
}

// metricsKind is the kind label of the request counter: parts and init
// segments count as segments (media).
func (k resourceKind) metricsKind() string {
	if k == kindPart || k == kindInit {
		return kindSegment.String()
	}
	return k.String()
}

// errWaitTimeout ends a blocking request that waited its longest.
var errWaitTimeout = errors.New("blocking reload timed out")
