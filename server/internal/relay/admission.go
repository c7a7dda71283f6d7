package relay

import (
	"github.com/hlsrelay/hlsrelay/server/internal/admission"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// newAdmission builds the node's abuse and capacity limits of the HTTP
// front: RATE_LIMIT_*, MAX_CONNECTIONS, TRUSTED_PROXIES and
// WEBSOCKET_ALLOWED_ORIGINS. Refusals are counted in m (nil: not counted).
func newAdmission(cfg config.Config, m *metrics.Metrics) *admission.Controller {
	return admission.New(admission.Config{
		RateLimit:             cfg.RateLimit.Enabled,
		Whitelist:             cfg.RateLimit.Whitelist,
		MaxConnectionsPerAddr: cfg.RateLimit.MaxConnections,
		RequestsPerSecond:     cfg.RateLimit.RequestsPerSecond,
		Burst:                 cfg.RateLimit.RequestBurst,
		CleanupInterval:       cfg.RateLimit.CleanupInterval,
		MaxTrackedAddrs:       cfg.RateLimit.MaxTrackedIPs,
		MaxConnections:        cfg.Capacity.MaxConnections,
		TrustedProxies:        cfg.Access.TrustedProxies,
		AllowedOrigins:        cfg.Access.AllowedOriginList(),
		Metrics:               m,
	})
}

// Connections returns the WebSocket connections open on this node: admitted
// by the handshake and not yet closed.
func (r *Relay) Connections() int { return r.handler.Admission.Connections() }
