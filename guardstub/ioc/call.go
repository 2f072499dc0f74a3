package ioc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// indicator is one IOC accepted for analysis.
type indicator struct {
	value     string // as given (reported back as "value")
	kind      Kind
	canonical string // hashed by the providers, cache key
}

// Reasons a provider call produced no answer. They end up in the IOC's reports
// and failed_providers, and as the reason label of ioc_provider_errors_total.
var (
	errRateLimited = errors.New("rate limit exceeded")
	errCircuitOpen = errors.New("circuit breaker open")
	errTimeout     = errors.New("timeout")
)

// providerError is a simulated HTTP error from a provider.
type providerError struct {
	status int
	body   string
}

func (e *providerError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// FaultFunc lets tests make a provider attempt fail: a non-nil error fails that
// attempt (after its latency), as if the provider had answered with an error.
// provider is "VirusTotal", "OTX", "AbuseIPDB" or "IPinfo"; attempt counts from 0.
type FaultFunc func(provider, ioc string, attempt int) error

// providerClient is the guarded path to one simulated provider: cache, then
// coalescing of identical in-flight calls, then circuit breaker, rate limiter,
// and up to MAX_RETRIES+1 attempts each bounded by REQUEST_TIMEOUT with backoff
// RETRY_BACKOFF*2^n between them.
type providerClient struct {
	id      providerID
	svc     *Service
	limiter *tokenBucket
	breaker *circuitBreaker

	mu       sync.Mutex
	inflight map[string]*inflightCall
}

type inflightCall struct {
	done chan struct{}
	res  IOC
	err  error
}

// rateWindows are the quota windows of the limits in Config, by provider.
var rateWindows = [numProviders]time.Duration{time.Minute, time.Hour, 24 * time.Hour, 30 * 24 * time.Hour}

func (s *Service) newProviderClient(id providerID) *providerClient {
	limits := [numProviders]int{s.cfg.VirusTotalRateLimit, s.cfg.OTXRateLimit, s.cfg.AbuseIPDBRateLimit, s.cfg.IPinfoRateLimit}
	gauge := s.metrics.breakerState.WithLabelValues(id.label())
	return &providerClient{
		id:       id,
		svc:      s,
		limiter:  newTokenBucket(limits[id], rateWindows[id], s.cfg.RateLimitScale, s.now),
		breaker:  newCircuitBreaker(s.cfg.BreakerThreshold, s.cfg.BreakerCooldown, s.now, func(st breakerState) { gauge.Set(float64(st)) }),
		inflight: make(map[string]*inflightCall),
	}
}

// lookup returns the provider's answer for in, from the cache when it can.
// cached reports a cache hit (or a share of an identical in-flight call).
func (c *providerClient) lookup(ctx context.Context, in *indicator) (res IOC, cached bool, err error) {
	key := c.id.label() + "|" + in.kind.Type() + "|" + in.canonical
	m := c.svc.metrics
	if c.svc.cache != nil {
		m.cacheRequests.Inc()
		if v, ok := c.svc.cache.get(key); ok {
			m.cacheHits.Inc()
			return withValue(v, in), true, nil
		}
	}
	c.mu.Lock()
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		m.coalesced.WithLabelValues(c.id.label()).Inc()
		select {
		case <-call.done:
			return withValue(call.res, in), true, call.err
		case <-ctx.Done():
			return IOC{}, false, ctx.Err()
		}
	}
	call := &inflightCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	call.res, call.err = c.fetch(ctx, in)
	if call.err == nil {
		c.svc.cache.put(key, call.res)
	}
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(call.done)
	return call.res, false, call.err
}

// withValue relabels a shared answer with this request's spelling of the IOC
// (the cache key is canonical: Example.COM and example.com share an entry).
func withValue(v IOC, in *indicator) IOC {
	v.Value = in.value
	return v
}

// fetch makes the attempts. The returned error is one of errRateLimited,
// errCircuitOpen, errTimeout, a *providerError or the context's error.
func (c *providerClient) fetch(ctx context.Context, in *indicator) (IOC, error) {
	s, m, label := c.svc, c.svc.metrics, c.id.label()
	var lastErr error
	for attempt := 0; attempt <= s.cfg.MaxRetries; attempt++ {
		if attempt > 0 {
			m.retries.WithLabelValues(label).Inc()
			if err := s.sleep(ctx, s.cfg.RetryBackoff<<(attempt-1)); err != nil {
				return IOC{}, err
			}
		}
		if !c.breaker.allow() {
			m.breakerRejections.WithLabelValues(label).Inc()
			if lastErr != nil {
				return IOC{}, fmt.Errorf("%w (after %v)", errCircuitOpen, lastErr)
			}
			return IOC{}, errCircuitOpen
		}
		if !c.limiter.take() {
			c.breaker.release()
			m.rateLimitHits.WithLabelValues(label).Inc()
			return IOC{}, errRateLimited
		}
		m.providerCalls.WithLabelValues(label).Inc()
		res, err := c.attempt(ctx, in, attempt)
		if err == nil {
			c.breaker.success()
			return res, nil
		}
		if ctx.Err() != nil {
			c.breaker.release()
			return IOC{}, ctx.Err()
		}
		c.breaker.failure()
		reason := "error"
		if errors.Is(err, errTimeout) {
			reason = "timeout"
		}
		m.providerErrors.WithLabelValues(label, reason).Inc()
		lastErr = err
	}
	return IOC{}, lastErr
}

// attempt is one simulated HTTP request: it takes the model's latency, or
// REQUEST_TIMEOUT and then fails if the latency is longer.
func (c *providerClient) attempt(ctx context.Context, in *indicator, attempt int) (IOC, error) {
	s := c.svc
	lat := s.cfg.Latency.latency(c.id, s.cfg.Seed, in.canonical, attempt, s.cfg.LatencyScale)
	if lat > s.cfg.RequestTimeout {
		if err := s.sleep(ctx, s.cfg.RequestTimeout); err != nil {
			return IOC{}, err
		}
		return IOC{}, fmt.Errorf("%w after %v", errTimeout, s.cfg.RequestTimeout)
	}
	if err := s.sleep(ctx, lat); err != nil {
		return IOC{}, err
	}
	if s.fault != nil {
		if err := s.fault(c.id.String(), in.value, attempt); err != nil {
			return IOC{}, err
		}
	}
	if failsAttempt(c.id, s.cfg.Seed, in.canonical, attempt, s.cfg.ErrorRate) {
		return IOC{}, &providerError{status: 503, body: "Service Unavailable (simulated)"}
	}
	return simulate(c.id, s.cfg.Seed, in), nil
}

// failureReport is the report line of a provider that gave no answer, in the
// original's wording where it has one ("VirusTotal API error (503): ...",
// "OTX API error: 503 - ...", "VirusTotal API timeout: ...").
func failureReport(p providerID, err error, cfg *Config) string {
	var pe *providerError
	switch {
	case errors.Is(err, errRateLimited):
		return fmt.Sprintf("%s: rate limit exceeded (%s); partial result", p, rateLimitText(p, cfg))
	case errors.Is(err, errCircuitOpen):
		return fmt.Sprintf("%s: circuit breaker open after %d consecutive failures; partial result", p, cfg.BreakerThreshold)
	case errors.Is(err, errTimeout):
		return fmt.Sprintf("%s API timeout: no answer within %v (%d attempts)", p, cfg.RequestTimeout, cfg.MaxRetries+1)
	case errors.As(err, &pe) && p == OTX:
		return fmt.Sprintf("OTX API error: %d - %s", pe.status, pe.body)
	case errors.As(err, &pe):
		return fmt.Sprintf("%s API error (%d): %s", p, pe.status, pe.body)
	}
	return fmt.Sprintf("%s error: %v", p, err)
}

func rateLimitText(p providerID, cfg *Config) string {
	limits := [numProviders]int{cfg.VirusTotalRateLimit, cfg.OTXRateLimit, cfg.AbuseIPDBRateLimit, cfg.IPinfoRateLimit}
	units := [numProviders]string{"minute", "hour", "day", "30 days"}
	return fmt.Sprintf("%g requests per %s", float64(limits[p])*cfg.RateLimitScale, units[p])
}
