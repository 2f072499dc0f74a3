package ioc

import (
	"container/list"
	"sync"
	"time"
)

// resultCache holds provider answers keyed by (provider, type, canonical IOC)
// for CACHE_TTL, bounded to CACHE_MAX_SIZE entries with least-recently-used
// eviction. Fixes against the original's cache: it is bounded (the original's
// dict grows forever), expired entries are removed when met, and failures are
// never cached (the original caches error results for the whole TTL).
type resultCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	order   *list.List // front = most recently used
	entries map[string]*list.Element
	onEvict func()
}

type cacheEntry struct {
	key     string
	value   IOC
	expires time.Time
}

// newResultCache returns nil (no caching) when ttl or max is 0.
func newResultCache(ttl time.Duration, max int, now func() time.Time, onEvict func()) *resultCache {
	if ttl <= 0 || max <= 0 {
		return nil
	}
	if onEvict == nil {
		onEvict = func() {}
	}
	return &resultCache{ttl: ttl, max: max, now: now, order: list.New(), entries: make(map[string]*list.Element), onEvict: onEvict}
}

func (c *resultCache) get(key string) (IOC, bool) {
	if c == nil {
		return IOC{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return IOC{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, key)
		return IOC{}, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

func (c *resultCache) put(key string, v IOC) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		e.value, e.expires = v, expires
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, value: v, expires: expires})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
		c.onEvict()
	}
}

func (c *resultCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
