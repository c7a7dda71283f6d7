// Package httpserver is the relay's HTTP front: the WebSocket endpoint, the
// health check, the HLS-over-HTTP output, and the existing server's "any
// other GET answers 200".
package httpserver

import (
	"net/http"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// Handler serves the relay's HTTP requests.
type Handler struct {
	// WebSocketPath is where clients connect (WEBSOCKET_PREFIX).
	WebSocketPath string
	// HealthPath answers 200 with a small JSON status.
	HealthPath string
	Sessions   *session.Manager
	Log        zerolog.Logger
	// Ready reports whether the node accepts new connections (false while
	// draining). Nil means always.
	Ready func() bool
	// HLS, when set, serves the requests it Handles (the HLS-over-HTTP
	// output); every other request keeps the answers above.
	HLS Output
	// Demo, when set, serves the player demo page (DEMO_PAGE_ENABLED).
	Demo Output
}

// Output is a family of HTTP resources served besides the WebSocket.
type Output interface {
	http.Handler
	// Handles reports whether r is for this output.
	Handles(r *http.Request) bool
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == h.WebSocketPath && isUpgrade(r):
		h.serveWebSocket(w, r)
	case h.HLS != nil && h.HLS.Handles(r):
		h.HLS.ServeHTTP(w, r)
	case h.Demo != nil && h.Demo.Handles(r):
		h.Demo.ServeHTTP(w, r)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case r.URL.Path == h.HealthPath:
		h.serveHealth(w)
	default:
		// The existing server answers 200 to any other GET; load
		// balancers' health checks rely on it.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("hlsrelay\n"))
	}
}

func (h *Handler) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.Ready != nil && !h.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (h *Handler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	sw := &smallBufferWriter{ResponseWriter: w}
	conn, err := websocket.Accept(sw, r, &websocket.AcceptOptions{
		// The existing server accepts players on any origin; an allow-list
		// is a separate, opt-in setting.
		InsecureSkipVerify: true,
		// Media does not compress, and deflate state costs ~1 MB per
		// connection.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		h.Log.Debug().Str("remote", r.RemoteAddr).Err(err).Msg("websocket handshake failed")
		return
	}
	h.Sessions.Serve(conn, sw.conn, r)
}

func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}
