package admission

import (
	"errors"
	"net/netip"
	"sync"
	"time"
)

// Errors of the per-address limits.
var (
	// errRateLimited: the address made more requests than its bucket holds.
	errRateLimited = errors.New("too many requests from this address")
	// errTooManyConnections: the address has MaxConnections open.
	errTooManyConnections = errors.New("too many connections from this address")
	// errTableFull: every tracked address holds a connection and the table
	// is at MaxTracked; a new address must wait.
	errTableFull = errors.New("too many client addresses are tracked")
)

// rateConfig is the per-address part of Config.
type rateConfig struct {
	whitelist         []netip.Prefix
	maxConnections    int
	requestsPerSecond int
	burst             int
	cleanup           time.Duration
	maxTracked        int
	now               func() time.Time
}

// rateTable counts requests (a token bucket) and open connections per
// client address. An IPv6 address counts by its /64 network: one host
// usually holds a whole /64 and could otherwise rotate addresses at will.
//
// Memory is bounded: the two maps hold at most maxTracked addresses
// together. A connection count exists only while the address has a
// connection open. A bucket can always be dropped to make room (it only
// forgives that address its recent requests; with more addresses than the
// table holds, counting per address is moot anyway), and idle buckets are
// dropped every cleanup interval. Only when every tracked address holds a
// connection is a new address refused. It is safe for concurrent use.
type rateTable struct {
	cfg      rateConfig
	capacity float64 // tokens a full bucket holds
	epoch    time.Time

	mu          sync.Mutex
	buckets     map[netip.Addr]bucket
	conns       map[netip.Addr]int
	lastCleanup time.Duration // since epoch
}

// bucket is one address's request budget: with its map slot, under 100
// bytes.
type bucket struct {
	tokens float64
	last   time.Duration // since epoch: when tokens was computed
}

func newRateTable(cfg rateConfig) *rateTable {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.cleanup <= 0 {
		cfg.cleanup = 10 * time.Second
	}
	if cfg.maxTracked <= 0 {
		cfg.maxTracked = 100000
	}
	// The existing server's rule: an address may make up to the larger of
	// the burst and the rate at once.
	return &rateTable{
		cfg:      cfg,
		capacity: float64(max(cfg.burst, cfg.requestsPerSecond)),
		epoch:    cfg.now(),
		buckets:  make(map[netip.Addr]bucket),
		conns:    make(map[netip.Addr]int),
	}
}

// key is the address an entry counts under: IPv4 as is, IPv6 by its /64.
func key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

func (t *rateTable) exempt(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t.cfg.whitelist {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (t *rateTable) limitsRequests() bool    { return t.cfg.requestsPerSecond > 0 }
func (t *rateTable) limitsConnections() bool { return t.cfg.maxConnections > 0 }

// request takes a token of a's bucket: errRateLimited if there is none.
func (t *rateTable) request(a netip.Addr) error {
	if !t.limitsRequests() || t.exempt(a) {
		return nil
	}
	k := key(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.since()
	if now-t.lastCleanup >= t.cfg.cleanup {
		t.sweep(now)
	}
	b, ok := t.buckets[k]
	if !ok {
		if !t.makeRoom() {
			return errTableFull
		}
		b = bucket{tokens: t.capacity, last: now}
	}
	t.refill(&b, now)
	if b.tokens < 1 {
		t.buckets[k] = b
		return errRateLimited
	}
	b.tokens--
	t.buckets[k] = b
	return nil
}

// connect counts a connection of a: errTooManyConnections if a holds
// maxConnections already. release, called when the connection closes, gives
// the slot back; later calls do nothing.
func (t *rateTable) connect(a netip.Addr) (release func(), err error) {
	if !t.limitsConnections() || t.exempt(a) {
		return func() {}, nil
	}
	k := key(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.conns[k]
	if !ok && !t.makeRoom() {
		return nil, errTableFull
	}
	if n >= t.cfg.maxConnections {
		return nil, errTooManyConnections
	}
	t.conns[k] = n + 1
	var once sync.Once
	return func() { once.Do(func() { t.disconnect(k) }) }, nil
}

func (t *rateTable) disconnect(k netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := t.conns[k]; n > 1 {
		t.conns[k] = n - 1
	} else {
		delete(t.conns, k)
	}
}

// makeRoom reports whether the table may take one more address, dropping
// a bucket if it is full. Called with mu held.
func (t *rateTable) makeRoom() bool {
	if len(t.buckets)+len(t.conns) < t.cfg.maxTracked {
		return true
	}
	for k := range t.buckets {
		delete(t.buckets, k)
		return true
	}
	return false
}

// refill adds the tokens earned since b.last.
func (t *rateTable) refill(b *bucket, now time.Duration) {
	if now > b.last {
		b.tokens = min(t.capacity, b.tokens+(now-b.last).Seconds()*float64(t.cfg.requestsPerSecond))
	}
	b.last = now
}

// sweep drops the buckets that are full again: forgetting them changes
// nothing (the existing server's RATE_LIMIT_REQ_CLEANUP). Called with mu
// held.
func (t *rateTable) sweep(now time.Duration) {
	t.lastCleanup = now
	for k, b := range t.buckets {
		if t.refill(&b, now); b.tokens >= t.capacity {
			delete(t.buckets, k)
		}
	}
}

func (t *rateTable) since() time.Duration { return t.cfg.now().Sub(t.epoch) }

// tracked returns the number of entries in the table: addresses with a
// request budget, plus addresses with connections open.
func (t *rateTable) tracked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets) + len(t.conns)
}
