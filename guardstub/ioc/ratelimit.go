package ioc

import (
	"sync"
	"time"
)

// tokenBucket is a provider's client-side quota: it holds up to limit tokens and
// refills them evenly, limit per window, so over any window at most
// limit + (tokens left at its start) calls go out. With limit 4 per minute one
// token returns every 15 s. Time comes from the injected clock.
//
// A call that finds the bucket empty is not retried: no retry could succeed
// before the next token, which the caller cannot wait for inside REQUEST_TIMEOUT
// for the slow quotas (15 s for VirusTotal). The provider is reported as rate
// limited and the IOC result is partial.
type tokenBucket struct {
	mu       sync.Mutex
	capacity float64
	perNanos float64 // tokens added per nanosecond
	tokens   float64
	last     time.Time
	now      func() time.Time
}

// newTokenBucket returns nil (unlimited) when limit*scale is 0.
func newTokenBucket(limit int, window time.Duration, scale float64, now func() time.Time) *tokenBucket {
	capacity := float64(limit) * scale
	if capacity <= 0 || window <= 0 {
		return nil
	}
	return &tokenBucket{capacity: capacity, perNanos: capacity / float64(window), tokens: capacity, last: now(), now: now}
}

// take consumes a token if one is there. A nil bucket always allows.
func (b *tokenBucket) take() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// available reports the whole tokens left (for /health).
func (b *tokenBucket) available() float64 {
	if b == nil {
		return -1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked()
	return b.tokens
}

func (b *tokenBucket) refillLocked() {
	t := b.now()
	if elapsed := t.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.capacity, b.tokens+float64(elapsed)*b.perNanos)
		b.last = t
	}
}
