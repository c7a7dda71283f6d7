// Package registry is the publish registry: a Redis map from stream id to the
// external WebSocket URL of the node that publishes the stream. A publishing
// node claims its streams and keeps refreshing them; a node that is asked for
// a stream it does not have looks the owner up and relays from it.
//
// Key schema: one string key per stream, KeyPrefix+streamID, whose value is
// the owner's URL and which expires after TTL unless the owner refreshes it.
// A node that dies therefore disappears from the registry within one TTL.
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
)

// Defaults applied by New to zero Config fields.
const (
	DefaultKeyPrefix       = "hlsrelay:stream:"
	DefaultRefreshInterval = 60 * time.Second
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
	// Password is sent with AUTH. Empty means no AUTH. It is never logged.
	Password string
	// UseTLS connects with TLS (minimum TLS 1.2, server name from the address).
	UseTLS bool
	// KeyPrefix is prepended to the stream id to form the key. Defaults to
	// DefaultKeyPrefix.
	KeyPrefix string
	// TTL is the lifetime of an entry that is not refreshed. Defaults to
	// twice RefreshInterval; it must be longer than RefreshInterval, or
	// entries would lapse between refreshes.
	TTL time.Duration
	// RefreshInterval is how often Run refreshes the claimed entries.
	// Defaults to DefaultRefreshInterval.
	RefreshInterval time.Duration
	// OpTimeout bounds each Redis operation, so that an unreachable Redis
	// fails calls quickly instead of stalling the caller. Defaults to
	// DefaultOpTimeout.
	OpTimeout time.Duration
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

// claimScript claims KEYS[1] for ARGV[1] with a lifetime of ARGV[2] ms: it
// creates the key if absent and refreshes it if ARGV[1] already owns it. It
// returns the owner after the call, so the claim succeeded iff the result is
// ARGV[1].
var claimScript = redis.NewScript(`
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return owner
`)

// withdrawScript deletes KEYS[1] only if ARGV[1] still owns it.
var withdrawScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// New returns a Registry for cfg. It does not contact Redis, so it succeeds
// while Redis is down; the first operation connects.
func New(cfg Config, log zerolog.Logger) (*Registry, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("registry: no Redis address")
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
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
		Password:              cfg.Password,
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
		Bool("auth", cfg.Password != "").Str("key_prefix", cfg.KeyPrefix).
		Dur("ttl", cfg.TTL).Dur("refresh", cfg.RefreshInterval).Msg("publish registry configured")

	return &Registry{
		client:  redis.NewUniversalClient(opts),
		cfg:     cfg,
		log:     log,
		closed:  make(chan struct{}),
		claimed: make(map[string]string),
	}, nil
}

func (r *Registry) key(stream string) string { return r.cfg.KeyPrefix + stream }

// opContext bounds one Redis operation by OpTimeout.
func (r *Registry) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.OpTimeout)
}

// unavailable wraps a Redis failure of op on stream.
func unavailable(op, stream string, err error) error {
	return fmt.Errorf("registry: %s stream %q: %w: %w", op, stream, ErrUnavailable, err)
}

// claim runs claimScript and returns the owner after the call.
func (r *Registry) claim(ctx context.Context, stream, nodeURL string) (string, error) {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	owner, err := claimScript.Run(ctx, r.client, []string{r.key(stream)}, nodeURL, r.cfg.TTL.Milliseconds()).Text()
	if err != nil {
		return "", unavailable("claim", stream, err)
	}
	return owner, nil
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
	owner, err := r.claim(ctx, stream, nodeURL)
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
	if err := withdrawScript.Run(ctx, r.client, []string{r.key(stream)}, nodeURL).Err(); err != nil {
		return unavailable("withdraw", stream, err)
	}
	return nil
}

// Lookup returns the URL of the node that publishes stream; found is false
// when no node has claimed it.
func (r *Registry) Lookup(ctx context.Context, stream string) (nodeURL string, found bool, err error) {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	nodeURL, err = r.client.Get(ctx, r.key(stream)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable("look up", stream, err)
	}
	return nodeURL, true, nil
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
