// Package httpserver is the relay's HTTP front: the WebSocket endpoint, the
// health check, the HLS-over-HTTP output, and the existing server's "any
// other GET answers 200".
package httpserver

import (
	"net/http"
	"net/netip"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/admission"
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
	// Admission, when set, resolves each request's client address (behind
	// trusted proxies) and refuses WebSocket handshakes and HLS requests
	// beyond the abuse and capacity limits, before the upgrade. Nil admits
	// everything.
	Admission *admission.Controller
}

// Output is a family of HTTP resources served besides the WebSocket.
type Output interface {
	http.Handler
	// Handles reports whether r is for this output.
	Handles(r *http.Request) bool
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := h.Admission.ClientAddr(r)
	switch {
	case h.draining() && (r.URL.Path == h.WebSocketPath && isUpgrade(r) || h.HLS != nil && h.HLS.Handles(r)):
		refuseDraining(w)
	case r.URL.Path == h.WebSocketPath && isUpgrade(r):
		h.serveWebSocket(w, r, client)
	case h.HLS != nil && h.HLS.Handles(r):
		if refusal := h.Admission.Request(client); refusal != nil {
			refusal.Write(w)
			return
		}
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

func (h *Handler) serveWebSocket(w http.ResponseWriter, r *http.Request, client netip.Addr) {
	release, refusal := h.Admission.Handshake(r, client)
	if refusal != nil {
		h.Log.Debug().Str("remote", r.RemoteAddr).Str("code", refusal.Code).Msg("websocket handshake refused")
		refusal.Write(w)
		return
	}
	// The connection's slots are given back when its socket closes,
	// whoever closes it.
	sw := &smallBufferWriter{ResponseWriter: w, onClose: release}
	conn, err := websocket.Accept(sw, r, &websocket.AcceptOptions{
		// The Origin allow-list (WEBSOCKET_ALLOWED_ORIGINS) was checked
		// above; without one, players on any origin are accepted, as by
		// the existing server.
		InsecureSkipVerify: true,
		// Media does not compress, and deflate state costs ~1 MB per
		// connection.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		h.Log.Debug().Str("remote", r.RemoteAddr).Err(err).Msg("websocket handshake failed")
		if sw.conn != nil {
			sw.conn.Close()
		} else {
			release()
		}
		return
	}
	h.Sessions.Serve(conn, sw.conn, r)
}

func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}
