package ioc

import (
	"sync"
	"time"
)

// breakerState is a circuit breaker's state; its value is the
// ioc_circuit_breaker_state gauge.
type breakerState int

const (
	breakerClosed   breakerState = 0
	breakerHalfOpen breakerState = 1
	breakerOpen     breakerState = 2
)

func (s breakerState) String() string {
	switch s {
	case breakerHalfOpen:
		return "half-open"
	case breakerOpen:
		return "open"
	}
	return "closed"
}

// circuitBreaker guards one provider. Closed: attempts go through and threshold
// consecutive failures open it. Open: attempts fail fast until cooldown has
// passed, then it turns half-open and lets exactly one probe through; the probe's
// success closes it, its failure opens it again for another cooldown. Rate-limit
// refusals are not failures (the provider was never asked).
type circuitBreaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(breakerState)

	state    breakerState
	failures int
	openedAt time.Time
	probing  bool
}

// newCircuitBreaker returns nil (never opens) when threshold is 0.
func newCircuitBreaker(threshold int, cooldown time.Duration, now func() time.Time, onChange func(breakerState)) *circuitBreaker {
	if threshold <= 0 {
		return nil
	}
	if onChange == nil {
		onChange = func(breakerState) {}
	}
	return &circuitBreaker{threshold: threshold, cooldown: cooldown, now: now, onChange: onChange}
}

// allow reports whether an attempt may go out now. In half-open state it admits
// one probe and refuses the rest until that probe reports back.
func (b *circuitBreaker) allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.setLocked(breakerHalfOpen)
		b.probing = true
		return true
	case breakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// success records a successful attempt.
func (b *circuitBreaker) success() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.probing = 0, false
	if b.state != breakerClosed {
		b.setLocked(breakerClosed)
	}
}

// failure records a failed attempt.
func (b *circuitBreaker) failure() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.state == breakerHalfOpen || b.failures >= b.threshold {
		b.probing = false
		b.openedAt = b.now()
		b.setLocked(breakerOpen)
	}
}

// release gives back a half-open probe slot that ended without an answer (the
// caller's context was cancelled), so the breaker does not stay stuck.
func (b *circuitBreaker) release() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *circuitBreaker) current() breakerState {
	if b == nil {
		return breakerClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == breakerOpen && b.now().Sub(b.openedAt) >= b.cooldown {
		return breakerHalfOpen // as the next allow will see it
	}
	return b.state
}

func (b *circuitBreaker) setLocked(s breakerState) {
	b.state = s
	b.onChange(s)
}
