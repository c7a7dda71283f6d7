package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/admin"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// checkAdmin refuses an admin API without a token, whatever built the
// configuration (Load refuses it too).
func (r *Relay) checkAdmin() error {
	if r.cfg.Admin.Enabled && r.cfg.Admin.Token == "" {
		return errors.New("admin API: ADMIN_TOKEN is required when ADMIN_ENABLED is YES")
	}
	return nil
}

// listenAdmin opens the admin API's listener when ADMIN_ENABLED is YES.
func (r *Relay) listenAdmin() error {
	if !r.cfg.Admin.Enabled {
		return nil
	}
	l, err := net.Listen("tcp", r.cfg.Admin.ListenAddress)
	if err != nil {
		return fmt.Errorf("admin API listener (ADMIN_LISTEN_ADDRESS): %w", err)
	}
	r.adminListener = l
	return nil
}

// AdminAddr returns the admin API's address, or nil when it is off.
func (r *Relay) AdminAddr() net.Addr { return addr(r.adminListener) }

// serveAdmin serves the admin API until shutdownAdmin; nil when it is off.
func (r *Relay) serveAdmin() *http.Server {
	if r.adminListener == nil {
		return nil
	}
	srv := &http.Server{
		Handler:           admin.New(r.cfg.Admin.Token, adminNode{r}, r.log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// A drain answers when it is done: up to the shutdown timeout.
		WriteTimeout:   r.cfg.Server.ShutdownTimeout + 10*time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       newStdLogger(r.log),
	}
	go func() {
		if err := srv.Serve(r.adminListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error().Err(err).Msg("admin API stopped")
		}
	}()
	return srv
}

// adminNode is the relay as the admin API sees it.
type adminNode struct{ r *Relay }

func (n adminNode) Streams() []*hub.Stream                  { return n.r.hub.Streams() }
func (n adminNode) Stream(id string) *hub.Stream            { return n.r.hub.Stream(id) }
func (n adminNode) Relayed(stream string) bool              { return n.r.upstream.Relayed(stream) }
func (n adminNode) Connections() []session.Info             { return n.r.sessions.Sessions() }
func (n adminNode) Kick(id uint64) bool                     { return n.r.sessions.Kick(id) }
func (n adminNode) ClosePublishers(s string) int            { return n.r.sessions.ClosePublishers(s) }
func (n adminNode) ReloadPlugins(ctx context.Context) error { return n.r.ReloadPlugins(ctx) }

func (n adminNode) Drain(ctx context.Context) admin.DrainResult { return n.r.Drain(ctx) }

func (n adminNode) Status() admin.NodeStatus {
	id := n.r.cfg.Server.NodeID
	if id == "" {
		id, _ = os.Hostname()
	}
	return admin.NodeStatus{
		NodeID: id, URL: n.r.url, Draining: n.r.draining.Load(), Started: n.r.started.UTC(),
		Streams: len(n.r.hub.Streams()), Connections: n.r.sessions.Count(),
	}
}
