package registry

import (
	"errors"
	"testing"
	"time"
)

// A node that stops refreshing its liveness key (it died) loses its streams
// after NodeTTL: look-ups stop naming it and another node may claim them,
// long before the stream entries' own TTL runs out.
func TestDeadOwnerIsTakenOver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{RefreshInterval: time.Minute, NodeTTL: 300 * time.Millisecond}
	dead := newRegistry(t, srv, cfg) // never runs: no heartbeats after its claim
	live := newRegistry(t, srv, cfg)
	runRegistry(t, live)

	if err := dead.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := live.Claim(ctx, "s", nodeB); !errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim while the owner is alive = %v, want ErrClaimed", err)
	}
	wantOwner(t, live, "s", nodeA)

	eventually(t, 3*cfg.NodeTTL, "dead owner still named", func() bool {
		_, found, err := live.Lookup(ctx, "s")
		return err == nil && !found
	})
	if err := live.Claim(ctx, "s", nodeB); err != nil {
		t.Fatalf("Claim after the owner died: %v", err)
	}
	wantOwner(t, live, "s", nodeB)
}

// A running node stays alive beyond NodeTTL: its heartbeats keep the claim.
func TestHeartbeatKeepsOwnerAlive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{RefreshInterval: time.Minute, NodeTTL: 300 * time.Millisecond}
	a := newRegistry(t, srv, cfg)
	runRegistry(t, a)
	b := newRegistry(t, srv, cfg)
	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	time.Sleep(4 * cfg.NodeTTL)
	wantOwner(t, b, "s", nodeA)
	if err := b.Claim(ctx, "s", nodeB); !errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim of a live node's stream = %v, want ErrClaimed", err)
	}
}

// A stream whose publisher left its node (idle, in the grace period) can be
// claimed by the node the publisher moved to; the old owner's refresh does
// not take it back, and its own publisher's return is refused.
func TestIdleStreamMoves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{RefreshInterval: 100 * time.Millisecond, TTL: 5 * time.Second}
	a := newRegistry(t, srv, cfg)
	runRegistry(t, a)
	b := newRegistry(t, srv, cfg)

	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := a.MarkIdle(ctx, "s", nodeA); err != nil {
		t.Fatalf("MarkIdle: %v", err)
	}
	// Refreshes keep the idle mark.
	time.Sleep(3 * cfg.RefreshInterval)
	wantOwner(t, b, "s", nodeA)
	if err := b.Claim(ctx, "s", nodeB); err != nil {
		t.Fatalf("Claim of an idle stream: %v", err)
	}
	time.Sleep(3 * cfg.RefreshInterval)
	wantOwner(t, a, "s", nodeB)
	if err := a.Claim(ctx, "s", nodeA); !errors.Is(err, ErrClaimed) {
		t.Fatalf("old owner's Claim after the move = %v, want ErrClaimed", err)
	}
}

// The owner's publisher coming back clears the idle mark: the stream is
// protected again.
func TestIdleThenReattach(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	a := newRegistry(t, srv, Config{})
	b := newRegistry(t, srv, Config{})
	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := a.MarkIdle(ctx, "s", nodeA); err != nil {
		t.Fatalf("MarkIdle: %v", err)
	}
	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("re-Claim: %v", err)
	}
	if err := b.Claim(ctx, "s", nodeB); !errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim after the owner's publisher returned = %v, want ErrClaimed", err)
	}
	// MarkIdle by a node that does not own the stream changes nothing.
	if err := b.MarkIdle(ctx, "s", nodeB); err != nil {
		t.Fatalf("MarkIdle: %v", err)
	}
	if err := b.Claim(ctx, "s", nodeB); !errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim after a stranger's MarkIdle = %v, want ErrClaimed", err)
	}
}

// A Redis restart between two refreshes (no failed round to notice) is
// noticed by the heartbeat: the claims come back within a few NodeTTLs, not
// after a whole RefreshInterval.
func TestHeartbeatNoticesLostKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{RefreshInterval: time.Hour, NodeTTL: 400 * time.Millisecond, OpTimeout: 200 * time.Millisecond}
	r := newRegistry(t, srv, cfg)
	runRegistry(t, r)
	if err := r.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	srv.stop()
	srv.start() // same port, no data
	eventually(t, 4*time.Second, "claim not restored after a Redis restart", func() bool {
		got, found, err := r.Lookup(ctx, "s")
		return err == nil && found && got == nodeA
	})
}

func TestGetReadsRawKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	r := newRegistry(t, srv, Config{})
	if err := r.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	v, found, err := r.Get(ctx, r.StreamKeyPrefix()+"s")
	if err != nil || !found || string(v) != nodeA {
		t.Fatalf("Get = %q, %v, %v; want %q", v, found, err, nodeA)
	}
	if _, found, err := r.Get(ctx, r.StreamKeyPrefix()+"missing"); err != nil || found {
		t.Fatalf("Get(missing) = %v, %v", found, err)
	}
}
