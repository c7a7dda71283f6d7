package relay

import (
	"context"
	"sync"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/admin"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// A graceful drain (docs/deployment.md, "Graceful drain"): SIGTERM, SIGINT,
// or the admin API start it, and SHUTDOWN_TIMEOUT_SECONDS bounds it.
//
//  1. The node stops taking new work: /healthz answers 503, WebSocket
//     handshakes and HLS requests 503 (UNAVAILABLE), waiting playlist
//     requests are answered, and a PUSH or PULL that arrives on an open
//     connection gets E:code=UNAVAILABLE and close status 1001.
//  2. The registry entries are withdrawn, so other nodes stop sending
//     viewers here and a publisher that moves can claim its stream at once.
//  3. Each publisher ends after its next complete fragment (never in the
//     middle of one), within half the bound, with the same E and 1001; its
//     stream's viewers receive every fragment due to them, then the same E.
//  4. The other streams (relayed, or without a publisher) are drained the
//     same way, and the upstream pulls end.
//  5. Whatever is still open at the bound is closed; the listeners close and
//     Serve returns within finalStepsTimeout.

// finalStepsTimeout bounds what follows the drain: closing the listeners,
// the HTTP requests in progress and the plugins. The process therefore
// exits within SHUTDOWN_TIMEOUT_SECONDS plus this (docs/deployment.md).
const finalStepsTimeout = time.Second

// forcedCloseWait bounds the wait for the goroutines of the connections
// closed at the bound.
const forcedCloseWait = 500 * time.Millisecond

// drainState coordinates a drain between Serve, the admin API and a second
// signal.
type drainState struct {
	once      sync.Once
	requested chan struct{} // closed by RequestDrain
	abortOnce sync.Once
	abort     chan struct{} // closed by Abort
	done      chan struct{} // closed when the connections are drained
	result    admin.DrainResult
}

func (d *drainState) init() {
	d.requested = make(chan struct{})
	d.abort = make(chan struct{})
	d.done = make(chan struct{})
}

// RequestDrain starts a graceful drain, as SIGTERM does: Serve drains the
// node and returns. It returns at once; calling it again does nothing.
func (r *Relay) RequestDrain() {
	r.drainState.once.Do(func() { close(r.drainState.requested) })
}

// Abort cuts a drain short: what is still open is closed now. Used on a
// second SIGTERM or SIGINT.
func (r *Relay) Abort() {
	r.drainState.abortOnce.Do(func() { close(r.drainState.abort) })
}

// Drain drains the node and waits until its connections are drained (or
// ctx is done); Serve then closes the listeners and returns.
func (r *Relay) Drain(ctx context.Context) admin.DrainResult {
	r.RequestDrain()
	select {
	case <-r.drainState.done:
		return r.drainState.result
	case <-ctx.Done():
		return admin.DrainResult{}
	}
}

// drainConnections runs steps 1 to 5 above, up to closing what is left.
func (r *Relay) drainConnections() admin.DrainResult {
	start := time.Now()
	bound := r.cfg.Server.ShutdownTimeout
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(bound))
	defer cancel()
	go func() {
		select {
		case <-r.drainState.abort:
			cancel()
		case <-ctx.Done():
		}
	}()

	r.draining.Store(true)
	r.log.Info().Dur("bound", bound).Int("connections", r.sessions.Count()).Int("streams", len(r.hub.Streams())).
		Msg("draining: new connections are refused, publishers finish their fragment, viewers are sent to other nodes")
	r.closeHLS()
	if r.registry != nil {
		// Close withdraws every entry of this node (within one Redis
		// operation timeout) and stops the refreshes.
		if err := r.registry.Close(); err != nil {
			r.log.Warn().Err(err).Msg("closing the publish registry")
		}
	}

	viewers := 0
	for _, c := range r.sessions.Sessions() {
		if c.Role == session.RoleViewer || c.Role == session.RoleRelay {
			viewers++
		}
	}
	// Publishers: until their next complete fragment, within half the bound.
	publishers := r.sessions.Drain(start.Add(bound / 2))
	pctx, pcancel := context.WithDeadline(ctx, start.Add(bound/2))
	r.sessions.WaitPublishers(pctx)
	pcancel()
	publishersTook := time.Since(start)

	// Viewers: every stream left ends as drained; each viewer receives
	// what is due to it, then E:code=UNAVAILABLE.
	r.drainStreams()
	r.upstream.Close()
	r.drainStreams() // a pull that started meanwhile
	forced := 0
	if !r.sessions.Wait(ctx) {
		forced = r.sessions.Count()
		cctx, ccancel := context.WithTimeout(context.Background(), forcedCloseWait)
		r.sessions.CloseAll(cctx)
		ccancel()
	}
	res := admin.DrainResult{
		Publishers: publishers, Viewers: viewers, Forced: forced,
		PublishersMs: publishersTook.Milliseconds(), TookMs: time.Since(start).Milliseconds(),
	}
	r.log.Info().Int("publishers", res.Publishers).Int("viewers", res.Viewers).Int("forced", res.Forced).
		Int64("publishers_ms", res.PublishersMs).Int64("took_ms", res.TookMs).Msg("drained")
	return res
}

func (r *Relay) drainStreams() {
	for _, s := range r.hub.Streams() {
		s.Drain()
	}
}
