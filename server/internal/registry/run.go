package registry

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxRetryInterval caps how long Run waits after a round that could not
// reach Redis: an entry lost in a Redis restart is restored within about
// this long after Redis is back, instead of a whole refresh interval.
const maxRetryInterval = time.Second

// Run keeps the claims alive until ctx is done or Close is called.
//
// Every NodeTTL/4 it refreshes this node's liveness key; if the key was gone
// (Redis restarted, or the node was cut off for longer than NodeTTL) it
// refreshes every claim at once. Every RefreshInterval it refreshes each
// claimed entry that this node still owns and recreates the ones that are
// gone. While Redis is unreachable it retries every second (or every
// RefreshInterval, if shorter), so claims are restored within about two
// seconds of Redis coming back. It logs when Redis becomes unreachable, when
// it is reachable again, and when another node holds a stream this node
// claims. Run is meant to be called once, in its own goroutine.
func (r *Registry) Run(ctx context.Context) {
	refresh := time.NewTimer(r.cfg.RefreshInterval)
	defer refresh.Stop()
	beat := time.NewTicker(max(r.cfg.NodeTTL/4, time.Millisecond))
	defer beat.Stop()
	reachable := true
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-r.closed:
			return
		case <-beat.C:
			var lost bool
			if lost, err = r.heartbeat(ctx); err == nil && !lost && reachable {
				continue // all is well: the refresh timer keeps running
			}
			if err == nil {
				err = r.refresh(ctx)
			}
		case <-refresh.C:
			err = r.refresh(ctx)
		}
		switch {
		case err != nil && reachable:
			r.log.Warn().Err(err).Msg("cannot refresh the publish registry; retrying")
		case err != nil:
			r.log.Debug().Err(err).Msg("publish registry still unreachable")
		case !reachable:
			r.log.Info().Msg("publish registry reachable again; claims restored")
		}
		reachable = err == nil
		if !refresh.Stop() {
			select {
			case <-refresh.C:
			default:
			}
		}
		if reachable {
			refresh.Reset(r.cfg.RefreshInterval)
		} else {
			refresh.Reset(min(r.cfg.RefreshInterval, maxRetryInterval))
		}
	}
}

// heartbeat refreshes the liveness key of each node URL that holds claims;
// lost reports that a key had to be recreated, so the claims may be lost
// too.
func (r *Registry) heartbeat(ctx context.Context) (lost bool, err error) {
	nodes := make(map[string]struct{})
	for _, nodeURL := range r.claims() {
		nodes[nodeURL] = struct{}{}
	}
	for nodeURL := range nodes {
		octx, cancel := r.opContext(ctx)
		err := r.client.SetArgs(octx, r.nodePrefix()+nodeURL, "1", redis.SetArgs{TTL: r.cfg.NodeTTL, Get: true}).Err()
		cancel()
		if errors.Is(err, redis.Nil) {
			r.count("heartbeat", nil) // the key was set; it had lapsed
		} else {
			r.count("heartbeat", err)
		}
		switch {
		case errors.Is(err, redis.Nil):
			lost = true
		case err != nil:
			return false, unavailable("heartbeat", nodeURL, err)
		}
	}
	return lost, nil
}

// claims returns a copy of the remembered claims.
func (r *Registry) claims() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	claims := make(map[string]string, len(r.claimed))
	for stream, nodeURL := range r.claimed {
		claims[stream] = nodeURL
	}
	return claims
}

// refresh claims every remembered stream again. It stops at the first Redis
// failure, since the others would fail the same way, and returns it.
func (r *Registry) refresh(ctx context.Context) error {
	for stream, nodeURL := range r.claims() {
		if ctx.Err() != nil {
			return nil
		}
		owner, err := r.claim(ctx, stream, nodeURL, false)
		if err != nil {
			return err
		}
		if owner != nodeURL {
			r.log.Warn().Str("stream", stream).Str("owner", owner).
				Msg("stream claimed by another node; will claim it when that entry lapses")
			continue
		}
		// A Withdraw that ran during the claim would be undone by it:
		// remove the entry again.
		if !r.claimedBy(stream, nodeURL) {
			if err := r.withdraw(ctx, stream, nodeURL); err != nil {
				r.log.Warn().Err(err).Str("stream", stream).Msg("withdrawn entry not removed; it lapses after its TTL")
			}
		}
	}
	return nil
}
