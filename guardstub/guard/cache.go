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
	entries    lru[featureKey, cacheEntry]
}

type cacheEntry struct {
	prediction Prediction
	expires    int64 // unix ns
}

func newPredictionCache(ttl int64, maxEntries int) *predictionCache {
	return &predictionCache{ttl: ttl, maxEntries: maxEntries, entries: newLRU[featureKey, cacheEntry](min(maxEntries, 4096))}
}

// get returns the cached prediction for k if there is one younger than the TTL.
func (c *predictionCache) get(k featureKey, now int64) (Prediction, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries.get(k)
	if e == nil {
		return Prediction{}, false
	}
	if now >= e.expires {
		c.entries.remove(k)
		return Prediction{}, false
	}
	return e.prediction, true
}

// put stores p for k, evicting the least recently used entry when full.
func (c *predictionCache) put(k featureKey, p Prediction, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries.get(k)
	if e == nil {
		for c.entries.len() >= c.maxEntries && c.entries.removeOldest() {
		}
		e = c.entries.add(k)
	}
	e.prediction, e.expires = p, now+c.ttl
}

func (c *predictionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.len()
}
