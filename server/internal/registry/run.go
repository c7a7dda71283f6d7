package registry

import (
	"context"
	"time"
)

// maxRetryInterval caps how long Run waits after a round that could not
// reach Redis: an entry lost in a Redis restart is restored within about
// this long after Redis is back, instead of a whole refresh interval.
const maxRetryInterval = time.Second

// Run keeps the claims alive until ctx is done or Close is called: every
// RefreshInterval it refreshes each claimed entry that this node still owns
// and recreates the ones that are gone (expired, or lost in a Redis restart).
// While Redis is unreachable it retries every second (or every
// RefreshInterval, if shorter); after repeated connection failures the Redis
// client itself probes the server once a second, so claims are restored
// within about two seconds of Redis coming back. It logs when Redis becomes unreachable, when
// it is reachable again, and when another node holds a stream this node
// claims. Run is meant to be called once, in its own goroutine.
func (r *Registry) Run(ctx context.Context) {
	retry := min(r.cfg.RefreshInterval, maxRetryInterval)
	timer := time.NewTimer(r.cfg.RefreshInterval)
	defer timer.Stop()
	reachable := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.closed:
			return
		case <-timer.C:
		}
		err := r.refresh(ctx)
		switch {
		case err != nil && reachable:
			r.log.Warn().Err(err).Msg("cannot refresh the publish registry; retrying")
		case err != nil:
			r.log.Debug().Err(err).Msg("publish registry still unreachable")
		case !reachable:
			r.log.Info().Msg("publish registry reachable again; claims restored")
		}
		reachable = err == nil
		if reachable {
			timer.Reset(r.cfg.RefreshInterval)
		} else {
			timer.Reset(retry)
		}
	}
}

// refresh claims every remembered stream again. It stops at the first Redis
// failure, since the others would fail the same way, and returns it.
func (r *Registry) refresh(ctx context.Context) error {
	r.mu.Lock()
	claims := make(map[string]string, len(r.claimed))
	for stream, nodeURL := range r.claimed {
		claims[stream] = nodeURL
	}
	r.mu.Unlock()

	for stream, nodeURL := range claims {
		if ctx.Err() != nil {
			return nil
		}
		owner, err := r.claim(ctx, stream, nodeURL)
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
