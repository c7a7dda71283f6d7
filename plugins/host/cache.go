package host

import (
	"sync"
	"time"
)

// decisionCacheSize bounds the decision cache of one plugin; when full, the
// oldest entry goes.
const decisionCacheSize = 10000

// cacheKey is what a cached decision depends on. The plugin's configuration
// is the same for every entry: a new configuration is a new Plugin.
type cacheKey struct {
	action, stream, token string
}

type cacheEntry struct {
	d       Decision
	expires time.Time
	seq     uint64 // insertion number, to match ring slots
}

// decisionCache holds the decisions a plugin marked with decision_cache.
// Insertion order is kept in a ring so eviction is O(1).
type decisionCache struct {
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	ring    []ringSlot
	next    uint64 // insertions so far
}

type ringSlot struct {
	key cacheKey
	seq uint64
}

func newDecisionCache(size int) *decisionCache {
	return &decisionCache{entries: make(map[cacheKey]cacheEntry), ring: make([]ringSlot, size)}
}

func (c *decisionCache) get(req *Request, now time.Time) (Decision, bool) {
	k := cacheKey{req.Action, req.Stream, req.Token}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return Decision{}, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return Decision{}, false
	}
	e.d.Cached = true
	e.d.CacheTTL = e.expires.Sub(now)
	return e.d, true
}

func (c *decisionCache) put(req *Request, d Decision, now time.Time) {
	k := cacheKey{req.Action, req.Stream, req.Token}
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := &c.ring[c.next%uint64(len(c.ring))]
	if old, ok := c.entries[slot.key]; ok && old.seq == slot.seq {
		delete(c.entries, slot.key)
	}
	c.next++
	*slot = ringSlot{key: k, seq: c.next}
	c.entries[k] = cacheEntry{d: d, expires: now.Add(d.CacheTTL), seq: c.next}
}

func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
