package registry

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	nodeA = "wss://a.example:443/"
	nodeB = "wss://b.example:443/"
)

// newRegistry returns a Registry on srv with cfg's other fields, closed when
// t ends.
func newRegistry(t *testing.T, srv *redisServer, cfg Config) *Registry {
	t.Helper()
	cfg.Addrs = []string{srv.addr()}
	r, err := New(cfg, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// runRegistry runs r.Run until t ends.
func runRegistry(t *testing.T, r *Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func wantOwner(t *testing.T, r *Registry, stream, want string) {
	t.Helper()
	got, found, err := r.Lookup(t.Context(), stream)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", stream, err)
	}
	if want == "" && found {
		t.Fatalf("Lookup(%q) = %q, want not found", stream, got)
	}
	if want != "" && (!found || got != want) {
		t.Fatalf("Lookup(%q) = %q, %v; want %q", stream, got, found, want)
	}
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClaimLookupWithdraw(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	r := newRegistry(t, srv, Config{})

	wantOwner(t, r, "s1", "")
	if err := r.Claim(ctx, "s1", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	wantOwner(t, r, "s1", nodeA)
	wantOwner(t, r, "s2", "")
	if err := r.Withdraw(ctx, "s1", nodeA); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	wantOwner(t, r, "s1", "")
	// Withdrawing what is not there is not an error.
	if err := r.Withdraw(ctx, "s1", nodeA); err != nil {
		t.Fatalf("second Withdraw: %v", err)
	}
}

func TestClaimConflict(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	a := newRegistry(t, srv, Config{})
	b := newRegistry(t, srv, Config{})

	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("a.Claim: %v", err)
	}
	err := b.Claim(ctx, "s", nodeB)
	if !errors.Is(err, ErrClaimed) {
		t.Fatalf("b.Claim = %v, want ErrClaimed", err)
	}
	var ce *ClaimedError
	if !errors.As(err, &ce) || ce.Owner != nodeA || ce.Stream != "s" {
		t.Fatalf("b.Claim error = %#v, want ClaimedError{s, %s}", err, nodeA)
	}
	if !strings.Contains(err.Error(), nodeA) {
		t.Errorf("error %q does not name the owner", err)
	}
	if errors.Is(err, ErrUnavailable) {
		t.Errorf("conflict error %v matches ErrUnavailable", err)
	}
	b.mu.Lock()
	remembered := len(b.claimed)
	b.mu.Unlock()
	if got := remembered; got != 0 {
		t.Errorf("b remembers %d claims after a conflict, want 0", got)
	}
	// The owner claiming again refreshes its entry.
	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("a.Claim again: %v", err)
	}
	wantOwner(t, b, "s", nodeA)

	// A withdraw by a non-owner leaves the entry alone.
	if err := b.Withdraw(ctx, "s", nodeB); err != nil {
		t.Fatalf("b.Withdraw: %v", err)
	}
	wantOwner(t, b, "s", nodeA)

	// Once the owner withdraws, the other node may claim it.
	if err := a.Withdraw(ctx, "s", nodeA); err != nil {
		t.Fatalf("a.Withdraw: %v", err)
	}
	if err := b.Claim(ctx, "s", nodeB); err != nil {
		t.Fatalf("b.Claim after withdraw: %v", err)
	}
	wantOwner(t, a, "s", nodeB)
}

func TestTTLAndRefresh(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{TTL: 400 * time.Millisecond, RefreshInterval: 100 * time.Millisecond}
	idle := newRegistry(t, srv, cfg) // no Run: entries lapse
	live := newRegistry(t, srv, cfg)
	runRegistry(t, live)

	if err := idle.Claim(ctx, "lapses", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := live.Claim(ctx, "kept", nodeB); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	time.Sleep(2 * cfg.TTL)
	wantOwner(t, live, "lapses", "")
	wantOwner(t, live, "kept", nodeB)

	// After a withdraw, Run does not bring the entry back.
	if err := live.Withdraw(ctx, "kept", nodeB); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	time.Sleep(3 * cfg.RefreshInterval)
	wantOwner(t, live, "kept", "")
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	r := newRegistry(t, srv, Config{OpTimeout: 300 * time.Millisecond})
	if err := r.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	srv.stop()

	const fast = time.Second
	start := time.Now()
	_, found, err := r.Lookup(ctx, "s")
	if !errors.Is(err, ErrUnavailable) || found {
		t.Fatalf("Lookup with Redis down = %v, %v; want ErrUnavailable", found, err)
	}
	if d := time.Since(start); d > fast {
		t.Errorf("Lookup took %v with Redis down, want under %v", d, fast)
	}
	if !strings.Contains(err.Error(), `"s"`) {
		t.Errorf("error %q does not name the stream", err)
	}

	start = time.Now()
	err = r.Claim(ctx, "t", nodeA)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim with Redis down = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > fast {
		t.Errorf("Claim took %v with Redis down, want under %v", d, fast)
	}
	if err := r.Withdraw(ctx, "t", nodeA); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Withdraw with Redis down = %v, want ErrUnavailable", err)
	}
}

func TestRedisUnresponsive(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: only OpTimeout ends a call.
	srv := startRedis(t)
	r := newRegistry(t, srv, Config{OpTimeout: 200 * time.Millisecond})
	srv.stop()
	listenSilently(t, srv.addr())

	start := time.Now()
	_, _, err := r.Lookup(t.Context(), "s")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Lookup = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lookup took %v against a silent server, want about the 200 ms OpTimeout", d)
	}
}

func TestRunReclaimsAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{TTL: 2 * time.Second, RefreshInterval: 300 * time.Millisecond, OpTimeout: 200 * time.Millisecond}
	r := newRegistry(t, srv, cfg)
	runRegistry(t, r)
	for _, s := range []string{"one", "two"} {
		if err := r.Claim(ctx, s, nodeA); err != nil {
			t.Fatalf("Claim(%q): %v", s, err)
		}
	}
	if err := r.Claim(ctx, "gone", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := r.Withdraw(ctx, "gone", nodeA); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}

	srv.stop()
	// Let Run see the outage at least once.
	time.Sleep(2 * cfg.RefreshInterval)
	srv.start() // same port, no data

	// go-redis stops dialling after repeated failures and probes the server
	// once a second; the next refresh after a successful probe re-claims.
	eventually(t, 3*time.Second, "streams not re-claimed after Redis restart", func() bool {
		for _, s := range []string{"one", "two"} {
			if got, found, err := r.Lookup(ctx, s); err != nil || !found || got != nodeA {
				return false
			}
		}
		return true
	})
	wantOwner(t, r, "gone", "")
}

func TestClaimWhileDownIsMadeLater(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	cfg := Config{TTL: 2 * time.Second, RefreshInterval: 200 * time.Millisecond, OpTimeout: 200 * time.Millisecond}
	r := newRegistry(t, srv, cfg)
	runRegistry(t, r)
	srv.stop()
	if err := r.Claim(ctx, "late", nodeA); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Claim with Redis down = %v, want ErrUnavailable", err)
	}
	srv.start()
	eventually(t, 3*time.Second, "claim made while Redis was down never reached Redis", func() bool {
		got, found, err := r.Lookup(ctx, "late")
		return err == nil && found && got == nodeA
	})
}

func TestCloseWithdraws(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	r := newRegistry(t, srv, Config{})
	other := newRegistry(t, srv, Config{})
	if err := r.Claim(ctx, "s", nodeA); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantOwner(t, other, "s", "")
	if err := r.Claim(ctx, "s", nodeA); err == nil {
		t.Fatal("Claim after Close succeeded")
	}
}

func TestPasswordNeverLogged(t *testing.T) {
	t.Parallel()
	const password = "s3cret-registry-pass"
	srv := startRedis(t, "--requirepass", password)
	var logs syncBuffer
	log := zerolog.New(&logs).Level(zerolog.TraceLevel)

	bad, err := New(Config{Addrs: []string{srv.addr()}, Password: "wrong-" + password, OpTimeout: 300 * time.Millisecond}, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer bad.Close()
	if _, _, err := bad.Lookup(t.Context(), "s"); err == nil {
		t.Fatal("Lookup with a wrong password succeeded")
	} else if strings.Contains(err.Error(), password) {
		t.Errorf("error %q contains the password", err)
	}

	good, err := New(Config{Addrs: []string{srv.addr()}, Password: password}, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer good.Close()
	if err := good.Claim(t.Context(), "s", nodeA); err != nil {
		t.Fatalf("Claim with the password: %v", err)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("log contains the password:\n%s", logs.String())
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		check   func(Config) bool
	}{
		{name: "no address", cfg: Config{}, wantErr: "no Redis address"},
		{name: "TTL not over refresh", cfg: Config{Addrs: []string{"x:1"}, TTL: time.Second, RefreshInterval: time.Second}, wantErr: "must be longer"},
		{name: "defaults", cfg: Config{Addrs: []string{"x:1"}}, check: func(c Config) bool {
			return c.Namespace == DefaultNamespace && c.NodeTTL == DefaultNodeTTL && c.RefreshInterval == DefaultRefreshInterval &&
				c.TTL == 2*DefaultRefreshInterval && c.OpTimeout == DefaultOpTimeout
		}},
		{name: "TTL follows refresh", cfg: Config{Addrs: []string{"x:1"}, RefreshInterval: 5 * time.Second}, check: func(c Config) bool {
			return c.TTL == 10*time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(tt.cfg, zerolog.Nop())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer r.Close()
			if !tt.check(r.cfg) {
				t.Errorf("config after defaults = %+v", r.cfg)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestApplyURL(t *testing.T) {
	t.Parallel()
	var c Config
	if err := c.ApplyURL("rediss://user:pw@redis.example:6380/3"); err != nil {
		t.Fatalf("ApplyURL: %v", err)
	}
	if len(c.Addrs) != 1 || c.Addrs[0] != "redis.example:6380" || c.Username != "user" || c.Password != "pw" || c.DB != 3 || !c.UseTLS {
		t.Errorf("ApplyURL = %+v", c)
	}
	err := c.ApplyURL("http://user:topsecret@x")
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("ApplyURL(http://...) = %v; want an error without the password", err)
	}
}
