package guard

import "sync"

// predictionCache is an LRU of predictions keyed by quantised feature vector, each
// entry valid for MODEL_CACHE_TTL_SECONDS, at most MODEL_CACHE_MAX_SIZE entries.
// Because keys are quantised (model.go) many clients that behave alike share one
// entry, which is what makes the hit rate high.
type predictionCache struct {
	mu         sync.Mutex
	ttl        int64 // ns
	maxEntries int
	entries    map[featureKey]*cacheEntry
	head, tail *cacheEntry // head = most recently used
}

type cacheEntry struct {
	key        featureKey
	prediction Prediction
	expires    int64 // unix ns
	prev, next *cacheEntry
}

func newPredictionCache(ttl int64, maxEntries int) *predictionCache {
	return &predictionCache{ttl: ttl, maxEntries: maxEntries, entries: make(map[featureKey]*cacheEntry, min(maxEntries, 4096))}
}

// get returns the cached prediction for k if there is one younger than the TTL.
func (c *predictionCache) get(k featureKey, now int64) (Prediction, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil {
		return Prediction{}, false
	}
	if now >= e.expires {
		c.unlink(e)
		delete(c.entries, k)
		return Prediction{}, false
	}
	c.moveToFront(e)
	return e.prediction, true
}

// put stores p for k, evicting the least recently used entry when full.
func (c *predictionCache) put(k featureKey, p Prediction, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[k]; e != nil {
		e.prediction, e.expires = p, now+c.ttl
		c.moveToFront(e)
		return
	}
	for len(c.entries) >= c.maxEntries && c.tail != nil {
		old := c.tail
		c.unlink(old)
		delete(c.entries, old.key)
	}
	e := &cacheEntry{key: k, prediction: p, expires: now + c.ttl}
	c.entries[k] = e
	c.pushFront(e)
}

func (c *predictionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *predictionCache) moveToFront(e *cacheEntry) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *predictionCache) pushFront(e *cacheEntry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *predictionCache) unlink(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
