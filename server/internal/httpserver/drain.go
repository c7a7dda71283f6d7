package httpserver

import (
	"net/http"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/admission"
)

// draining reports whether the node is draining (Ready says no).
func (h *Handler) draining() bool { return h.Ready != nil && !h.Ready() }

// drainingRefusal answers a WebSocket handshake or an HLS request while the
// node drains: the client retries, and a load balancer that follows the
// health check sends it to another node.
var drainingRefusal = &admission.Refusal{
	Status:  http.StatusServiceUnavailable,
	Code:    protocol.CodeUnavailable,
	Message: "this node is shutting down; connect again to reach another node",
}

// refuseDraining answers 503 and closes the connection, so that the
// client's next request opens a new one, which a load balancer can send
// elsewhere.
func refuseDraining(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	drainingRefusal.Write(w)
}
