// Package registry is the publish registry: a Redis map from stream id to the
// external WebSocket URL of the node that publishes the stream. A publishing
// node claims its streams and keeps refreshing them; a node that is asked for
// a stream it does not have looks the owner up and relays from it.
//
// Key schema, under Config.Namespace (default "{hlsrelay}:"; the braces are a
// Redis Cluster hash tag that keeps every registry key in one slot, so the
// scripts below may touch several keys):
//
//   - stream:<id> -> the owner's URL, expiring after TTL unless refreshed;
//   - node:<url>  -> "1" while the node at that URL is alive: refreshed every
//     NodeTTL/4 by Run, so a node that dies is recognised within NodeTTL,
//     however long its stream entries still have to live;
//   - idle:<id>   -> the owner's URL while the stream's publisher is gone and
//     the owner only keeps the stream for its grace period.
//
// A claim on a stream whose owner is dead or idle takes it over; a claim on a
// stream whose owner is alive and publishing is refused.
package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultNamespace       = "{hlsrelay}:"
	DefaultRefreshInterval = 60 * time.Second
	DefaultNodeTTL         = 5 * time.Second
	DefaultOpTimeout       = 500 * time.Millisecond
)

// Config configures a Registry. Zero fields take the documented defaults.
type Config struct {
	// Addrs are the Redis servers as host:port: one address for a standalone
	// server, several for a cluster, or the sentinels when MasterName is set.
	// Required.
	Addrs []string
	// MasterName is the sentinel master name. Empty means no sentinel.
	MasterName string
	// Username and Password are sent with AUTH. An empty Password means no
	// AUTH. The password is never logged.
	Username, Password string
	// DB is the database number (standalone servers and Sentinel only).
	DB int
	// UseTLS connects with TLS (minimum TLS 1.2, server name from the address).
	UseTLS bool
	// Namespace is prepended to every key. Defaults to DefaultNamespace.
	Namespace string
	// TTL is the lifetime of an entry that is not refreshed. Defaults to
	// twice RefreshInterval; it must be longer than RefreshInterval, or
	// entries would lapse between refreshes.
	TTL time.Duration
	// RefreshInterval is how often Run refreshes the claimed entries.
	// Defaults to DefaultRefreshInterval.
	RefreshInterval time.Duration
	// NodeTTL is how soon a node that stopped refreshing its liveness key
	// counts as dead: its streams can then be claimed by others and look-ups
	// no longer name it. Defaults to DefaultNodeTTL.
	NodeTTL time.Duration
	// OpTimeout bounds each Redis operation, so that an unreachable Redis
	// fails calls quickly instead of stalling the caller. Defaults to
	// DefaultOpTimeout.
	OpTimeout time.Duration
	// Metrics counts every Redis operation by kind and result. Nil:
	// nothing is counted.
	Metrics *metrics.Metrics
}

// ApplyURL sets the address, credentials, database and TLS of c from a
// redis:// or rediss:// URL.
func (c *Config) ApplyURL(raw string) error {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		// The error may quote the URL, password included: say less.
		return errors.New("registry: the Redis URL is not a valid redis:// or rediss:// URL")
	}
	c.Addrs = []string{opt.Addr}
	c.Username, c.Password, c.DB = opt.Username, opt.Password, opt.DB
	c.UseTLS = opt.TLSConfig != nil
	return nil
}

// ErrClaimed is matched (errors.Is) by the error Claim returns when another
// node owns the stream; the error is a *ClaimedError naming that node.
var ErrClaimed = errors.New("stream is claimed by another node")

// ErrUnavailable is matched (errors.Is) by the errors returned when Redis
// could not be reached or did not answer within OpTimeout.
var ErrUnavailable = errors.New("publish registry unavailable")

// ClaimedError reports that Stream is published by Owner.
type ClaimedError struct {
	Stream string
	Owner  string // the owner's external WebSocket URL
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("registry: claim stream %q: %v (%s)", e.Stream, ErrClaimed, e.Owner)
}

// Is makes errors.Is(err, ErrClaimed) true.
func (e *ClaimedError) Is(target error) bool { return target == ErrClaimed }

// Registry is a node's view of the publish registry. All methods are safe
// for concurrent use. Each Redis operation is bounded by Config.OpTimeout and
// by the caller's ctx; an expired ctx fails the call with ErrUnavailable.
type Registry struct {
	client   redis.UniversalClient
	cfg      Config
	log      zerolog.Logger
	closed   chan struct{}
	closeErr error
	once     sync.Once

	mu      sync.Mutex
	claimed map[string]string // stream id -> node URL that this node claims it with
}

// claimScript claims stream key KEYS[1] (idle key KEYS[2]) for node ARGV[1]
// (liveness key KEYS[3]) with a lifetime of ARGV[2] ms, and marks the node
// alive for ARGV[3] ms. It takes the stream if it is free, owned by ARGV[1],
// or owned by a node that is dead (no liveness key under prefix ARGV[4]) or
// idle. ARGV[5] is "1" when a publisher (re)attaches, which clears this
// node's own idle mark; a refresh ("0") keeps it. It returns the owner after
// the call, so the claim succeeded iff the result is ARGV[1].
var claimScript = redis.NewScript(`
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
  local idle = redis.call('GET', KEYS[2])
  if idle ~= owner and redis.call('EXISTS', ARGV[4] .. owner) == 1 then
    return owner
  end
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[5] == '1' then
  redis.call('DEL', KEYS[2])
elseif redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return ARGV[1]
`)

// idleScript marks stream KEYS[1] idle (KEYS[2]) for ARGV[2] ms if node
// ARGV[1] owns it.
var idleScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// withdrawScript deletes stream KEYS[1] and its idle mark KEYS[2] only if
// ARGV[1] still owns it.
var withdrawScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// lookupScript returns the owner of stream KEYS[1] if its liveness key
// (prefix ARGV[1]) exists, and nil otherwise.
var lookupScript = redis.NewScript(`
local owner = redis.call('GET', KEYS[1])
if not owner or redis.call('EXISTS', ARGV[1] .. owner) == 0 then
  return false
end
return owner
`)

// New returns a Registry for cfg. It does not contact Redis, so it succeeds
// while Redis is down; the first operation connects.
func New(cfg Config, log zerolog.Logger) (*Registry, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("registry: no Redis address")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = DefaultNodeTTL
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 2 * cfg.RefreshInterval
	}
	if cfg.TTL <= cfg.RefreshInterval {
		return nil, fmt.Errorf("registry: TTL %v must be longer than the refresh interval %v", cfg.TTL, cfg.RefreshInterval)
	}
	if cfg.TTL < time.Millisecond {
		return nil, fmt.Errorf("registry: TTL %v is under 1 ms", cfg.TTL)
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	cfg.Addrs = append([]string(nil), cfg.Addrs...)

	opts := &redis.UniversalOptions{
		Addrs:                 cfg.Addrs,
		MasterName:            cfg.MasterName,
		Username:              cfg.Username,
		Password:              cfg.Password,
		DB:                    cfg.DB,
		DialTimeout:           cfg.OpTimeout,
		ReadTimeout:           cfg.OpTimeout,
		WriteTimeout:          cfg.OpTimeout,
		ContextTimeoutEnabled: true,
		// One retry and one dial attempt: a down Redis must fail fast with
		// its own error, not after a series of backoffs ending in a timeout.
		MaxRetries:    1,
		DialerRetries: 1,
		// The registry runs a handful of commands a minute.
		PoolSize:                 4,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if cfg.UseTLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}

	log = log.With().Str("component", "registry").Logger()
	log.Debug().Strs("addrs", cfg.Addrs).Str("master", cfg.MasterName).Bool("tls", cfg.UseTLS).
		Bool("auth", cfg.Password != "").Str("namespace", cfg.Namespace).Dur("node_ttl", cfg.NodeTTL).
		Dur("ttl", cfg.TTL).Dur("refresh", cfg.RefreshInterval).Msg("publish registry configured")

	return &Registry{
		client:  redis.NewUniversalClient(opts),
		cfg:     cfg,
		log:     log,
		closed:  make(chan struct{}),
		claimed: make(map[string]string),
	}, nil
}

// StreamKeyPrefix is the prefix of the stream keys: what a routing plugin's
// registry_lookup may read.
func (r *Registry) StreamKeyPrefix() string { return r.cfg.Namespace + "stream:" }

func (r *Registry) key(stream string) string     { return r.StreamKeyPrefix() + stream }
func (r *Registry) idleKey(stream string) string { return r.cfg.Namespace + "idle:" + stream }
func (r *Registry) nodePrefix() string           { return r.cfg.Namespace + "node:" }

// opContext bounds one Redis operation by OpTimeout.
func (r *Registry) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.OpTimeout)
}

// unavailable wraps a Redis failure of op on stream.
func unavailable(op, stream string, err error) error {
	return fmt.Errorf("registry: %s stream %q: %w: %w", op, stream, ErrUnavailable, err)
}

// claim runs claimScript and returns the owner after the call. attach
// clears this node's idle mark.
func (r *Registry) claim(ctx context.Context, stream, nodeURL string, attach bool) (string, error) {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	keys := []string{r.key(stream), r.idleKey(stream), r.nodePrefix() + nodeURL}
	flag := "0"
	if attach {
		flag = "1"
	}
	owner, err := claimScript.Run(ctx, r.client, keys, nodeURL, r.cfg.TTL.Milliseconds(),
		r.cfg.NodeTTL.Milliseconds(), r.nodePrefix(), flag).Text()
	op := "refresh"
	if attach {
		op = "claim"
	}
	switch {
	case err != nil:
		r.count(op, err)
		return "", unavailable("claim", stream, err)
	case owner != nodeURL:
		r.cfg.Metrics.RegistryOp(op, metrics.ResultConflict)
	default:
		r.count(op, nil)
	}
	return owner, nil
}

// count counts an operation that ended with err (nil: ok).
func (r *Registry) count(op string, err error) {
	result := metrics.ResultOK
	if err != nil {
		result = metrics.ResultError
	}
	r.cfg.Metrics.RegistryOp(op, result)
}

// Claim announces that nodeURL publishes stream, for TTL, and remembers the
// claim so that Run keeps it alive. Claiming a stream that nodeURL already
// owns refreshes it. If another node owns the stream, Claim returns a
// *ClaimedError (errors.Is ErrClaimed) and remembers nothing.
//
// If Redis is unreachable, Claim returns an error wrapping ErrUnavailable but
// still remembers the claim: Run makes it once Redis answers again. A caller
// that gives up the stream instead must call Withdraw.
func (r *Registry) Claim(ctx context.Context, stream, nodeURL string) error {
	if nodeURL == "" {
		return fmt.Errorf("registry: claim stream %q: empty node URL", stream)
	}
	select {
	case <-r.closed:
		return fmt.Errorf("registry: claim stream %q: registry is closed", stream)
	default:
	}
	owner, err := r.claim(ctx, stream, nodeURL, true)
	if err != nil {
		r.remember(stream, nodeURL)
		return err
	}
	if owner != nodeURL {
		r.forget(stream, nodeURL)
		return &ClaimedError{Stream: stream, Owner: owner}
	}
	r.remember(stream, nodeURL)
	return nil
}

// Withdraw forgets the claim and removes the entry if nodeURL still owns
// it; an entry owned by another node is left alone. The claim is forgotten
// even if Redis is unreachable, in which case the entry lapses after TTL.
func (r *Registry) Withdraw(ctx context.Context, stream, nodeURL string) error {
	r.forget(stream, nodeURL)
	return r.withdraw(ctx, stream, nodeURL)
}

func (r *Registry) withdraw(ctx context.Context, stream, nodeURL string) error {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	err := withdrawScript.Run(ctx, r.client, []string{r.key(stream), r.idleKey(stream)}, nodeURL).Err()
	r.count("withdraw", err)
	if err != nil {
		return unavailable("withdraw", stream, err)
	}
	return nil
}

// MarkIdle tells the registry that stream's publisher left nodeURL without
// ending the stream: nodeURL keeps the entry (it may come back within the
// grace period) but another node's Claim may take it over. The claim stays
// remembered; Claim again when the publisher returns, Withdraw when the
// stream ends.
func (r *Registry) MarkIdle(ctx context.Context, stream, nodeURL string) error {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	keys := []string{r.key(stream), r.idleKey(stream)}
	err := idleScript.Run(ctx, r.client, keys, nodeURL, r.cfg.TTL.Milliseconds()).Err()
	r.count("mark_idle", err)
	if err != nil {
		return unavailable("mark idle", stream, err)
	}
	return nil
}

// Lookup returns the URL of the live node that publishes stream; found is
// false when no live node has claimed it.
func (r *Registry) Lookup(ctx context.Context, stream string) (nodeURL string, found bool, err error) {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	nodeURL, err = lookupScript.Run(ctx, r.client, []string{r.key(stream)}, r.nodePrefix()).Text()
	if errors.Is(err, redis.Nil) {
		r.cfg.Metrics.RegistryOp("lookup", metrics.ResultNotFound)
		return "", false, nil
	}
	r.count("lookup", err)
	if err != nil {
		return "", false, unavailable("look up", stream, err)
	}
	return nodeURL, true, nil
}

// Get returns the raw value of key, for a routing plugin's registry_lookup
// (the caller restricts the keys it may read).
func (r *Registry) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	value, err = r.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		r.cfg.Metrics.RegistryOp("get", metrics.ResultNotFound)
		return nil, false, nil
	}
	r.count("get", err)
	if err != nil {
		return nil, false, fmt.Errorf("registry: get %q: %w: %w", key, ErrUnavailable, err)
	}
	return value, true, nil
}

func (r *Registry) remember(stream, nodeURL string) {
	r.mu.Lock()
	r.claimed[stream] = nodeURL
	r.mu.Unlock()
}

// forget drops the claim of stream if it was made with nodeURL.
func (r *Registry) forget(stream, nodeURL string) {
	r.mu.Lock()
	if r.claimed[stream] == nodeURL {
		delete(r.claimed, stream)
	}
	r.mu.Unlock()
}

// Claimed reports whether this Registry holds a claim of stream for
// nodeURL (made, or to be made when Redis answers).
func (r *Registry) Claimed(stream, nodeURL string) bool { return r.claimedBy(stream, nodeURL) }

// claimedBy reports whether stream is currently claimed with nodeURL.
func (r *Registry) claimedBy(stream, nodeURL string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.claimed[stream] == nodeURL
}

// Close withdraws the streams still claimed (best effort, within one
// OpTimeout in all), stops Run and closes the connections. Calls after the
// first return the first call's result.
func (r *Registry) Close() error {
	r.once.Do(func() {
		close(r.closed)
		r.mu.Lock()
		claims := r.claimed
		r.claimed = make(map[string]string)
		r.mu.Unlock()

		ctx, cancel := r.opContext(context.Background())
		for stream, nodeURL := range claims {
			if err := r.withdraw(ctx, stream, nodeURL); err != nil {
				r.log.Warn().Err(err).Str("stream", stream).Msg("entry not withdrawn on close; it lapses after its TTL")
			}
		}
		cancel()
		if err := r.client.Close(); err != nil {
			r.closeErr = fmt.Errorf("registry: close Redis client: %w", err)
		}
	})
	return r.closeErr
}
