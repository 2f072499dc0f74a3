package ioc

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	clock := newFakeClock()
	b := newTokenBucket(4, time.Minute, 1, clock.Now) // VirusTotal free tier: one token per 15 s
	for i := range 4 {
		if !b.take() {
			t.Fatalf("take %d refused with a full bucket", i)
		}
	}
	if b.take() {
		t.Fatal("5th take within the minute allowed")
	}
	clock.Advance(14900 * time.Millisecond)
	if b.take() {
		t.Fatal("allowed after 14.9 s, the next token is due at 15 s")
	}
	clock.Advance(100 * time.Millisecond)
	if !b.take() || b.take() {
		t.Fatal("want exactly one token at 15 s")
	}
	clock.Advance(time.Hour)
	n := 0
	for b.take() && n < 100 {
		n++
	}
	if n != 4 {
		t.Fatalf("after an idle hour got %d tokens, want the capacity 4", n)
	}

	half := newTokenBucket(4, time.Minute, 0.5, clock.Now)
	if !half.take() || !half.take() || half.take() {
		t.Error("RATE_LIMIT_SCALE 0.5 should leave 2 per minute")
	}
	for _, unlimited := range []*tokenBucket{newTokenBucket(0, time.Minute, 1, clock.Now), newTokenBucket(4, time.Minute, 0, clock.Now)} {
		for range 1000 {
			if !unlimited.take() {
				t.Fatal("limit 0 or scale 0 must not limit")
			}
		}
	}
}

func TestCircuitBreakerOpensAndCloses(t *testing.T) {
	clock := newFakeClock()
	var states []string
	b := newCircuitBreaker(3, 30*time.Second, clock.Now, func(s breakerState) { states = append(states, s.String()) })
	b.failure()
	b.failure()
	if !b.allow() {
		t.Fatal("open after 2 of 3 failures")
	}
	b.success() // resets the count
	b.failure()
	b.failure()
	if !b.allow() {
		t.Fatal("success did not reset the failure count")
	}
	b.failure()
	if b.allow() {
		t.Fatal("closed after 3 consecutive failures")
	}
	clock.Advance(29 * time.Second)
	if b.allow() {
		t.Fatal("let through during the cooldown")
	}
	clock.Advance(time.Second)
	if !b.allow() {
		t.Fatal("no probe after the cooldown")
	}
	if b.allow() {
		t.Fatal("a second probe while the first is out")
	}
	b.failure() // probe failed: open again
	if b.allow() {
		t.Fatal("failed probe did not reopen")
	}
	clock.Advance(30 * time.Second)
	if !b.allow() {
		t.Fatal("no probe after the second cooldown")
	}
	b.success()
	if !b.allow() || !b.allow() {
		t.Fatal("successful probe did not close")
	}
	want := []string{"open", "half-open", "open", "half-open", "closed"}
	if !slices.Equal(states, want) {
		t.Errorf("transitions %v, want %v", states, want)
	}
}

// failingFaults fails every attempt of provider while on is set.
func failingFaults(provider string, on *atomic.Bool) FaultFunc {
	return func(p, _ string, _ int) error {
		if p == provider && on.Load() {
			return &providerError{status: 503, body: "Service Unavailable (test)"}
		}
		return nil
	}
}

func TestRetriesBackOffExponentially(t *testing.T) {
	cfg := testConfig()
	cfg.BreakerThreshold = 0
	var on atomic.Bool
	on.Store(true)
	svc, srv, clock := startService(t, cfg, WithFaults(failingFaults("VirusTotal", &on)))

	rep := analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	if got, want := clock.Slept(), []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("backoff sleeps %v, want %v (original: 1.0*2^attempt)", got, want)
	}
	if got := counter(t, svc, "ioc_provider_calls_total", map[string]string{"provider": "virustotal"}); got != 4 {
		t.Errorf("VirusTotal attempts = %v, want MAX_RETRIES+1 = 4", got)
	}
	ioc := rep.IOCs[0]
	if !ioc.Partial || !slices.Equal(ioc.FailedProviders, []string{"VirusTotal"}) ||
		!slices.Contains(ioc.Reports, "VirusTotal API error (503): Service Unavailable (test)") {
		t.Errorf("want a partial result naming VirusTotal, got %+v", ioc)
	}
}

func TestRetrySucceedsOnThirdAttempt(t *testing.T) {
	cfg := testConfig()
	faults := func(p, _ string, attempt int) error {
		if p == "OTX" && attempt < 2 {
			return &providerError{status: 502, body: "Bad Gateway"}
		}
		return nil
	}
	svc, srv, clock := startService(t, cfg, WithFaults(faults))
	rep := analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	if rep.IOCs[0].Partial {
		t.Errorf("third attempt succeeded, the result must be complete: %+v", rep.IOCs[0])
	}
	if got := clock.Slept(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("sleeps %v, want [1s 2s]", got)
	}
	if got := counter(t, svc, "ioc_provider_retries_total", map[string]string{"provider": "otx"}); got != 2 {
		t.Errorf("OTX retries = %v, want 2", got)
	}
}

func TestRequestTimeoutPerAttempt(t *testing.T) {
	cfg := testConfig()
	cfg.LatencyScale = 1
	cfg.Latency = LatencyModel{}
	cfg.Latency.Min[VirusTotal], cfg.Latency.Max[VirusTotal] = 20*time.Second, 20*time.Second
	cfg.MaxRetries = 1
	cfg.BreakerThreshold = 0
	svc, srv, clock := startService(t, cfg)
	rep := analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	if got, want := clock.Slept(), []time.Duration{10 * time.Second, time.Second, 10 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps %v, want %v (timeout, backoff, timeout)", got, want)
	}
	if !slices.Contains(rep.IOCs[0].Reports, "VirusTotal API timeout: no answer within 10s (2 attempts)") {
		t.Errorf("reports %q lack the timeout", rep.IOCs[0].Reports)
	}
	if got := counter(t, svc, "ioc_provider_errors_total", map[string]string{"provider": "virustotal", "reason": "timeout"}); got != 2 {
		t.Errorf("timeouts counted %v, want 2", got)
	}
}

func TestCircuitBreakerInService(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRetries = 0
	cfg.BreakerThreshold = 3
	cfg.BreakerCooldown = 30 * time.Second
	cfg.MaxWorkers = 1 // IOCs in order, so the breaker sees them one by one
	var on atomic.Bool
	on.Store(true)
	svc, srv, clock := startService(t, cfg, WithFaults(failingFaults("VirusTotal", &on)))

	rep := analyzeOK(t, srv, `{"iocs": ["a1.com", "a2.com", "a3.com", "a4.com", "a5.com"]}`)
	for i, ioc := range rep.IOCs {
		wantOpen := i >= 3
		isOpen := slices.ContainsFunc(ioc.Reports, func(r string) bool { return strings.Contains(r, "circuit breaker open") })
		if !ioc.Partial || isOpen != wantOpen {
			t.Errorf("IOC %d (%s): partial %v circuit-open report %v, want open=%v: %q", i, ioc.Value, ioc.Partial, isOpen, wantOpen, ioc.Reports)
		}
	}
	if got := counter(t, svc, "ioc_provider_calls_total", map[string]string{"provider": "virustotal"}); got != 3 {
		t.Errorf("VirusTotal attempts = %v, want 3 (then the circuit is open)", got)
	}
	if got := counter(t, svc, "ioc_circuit_breaker_state", map[string]string{"provider": "virustotal"}); got != float64(breakerOpen) {
		t.Errorf("breaker gauge = %v, want 2 (open)", got)
	}
	if got := counter(t, svc, "ioc_circuit_breaker_rejections_total", map[string]string{"provider": "virustotal"}); got != 2 {
		t.Errorf("breaker rejections = %v, want 2", got)
	}

	on.Store(false) // the provider recovers
	clock.Advance(30 * time.Second)
	rep = analyzeOK(t, srv, `{"iocs": ["b1.com", "b2.com"]}`)
	for _, ioc := range rep.IOCs {
		if ioc.Partial {
			t.Errorf("after the cooldown the probe succeeds and closes the circuit; %s is partial: %q", ioc.Value, ioc.Reports)
		}
	}
	if got := counter(t, svc, "ioc_circuit_breaker_state", map[string]string{"provider": "virustotal"}); got != float64(breakerClosed) {
		t.Errorf("breaker gauge = %v, want 0 (closed)", got)
	}
}

func TestRateLimitGivesPartialResults(t *testing.T) {
	cfg := testConfig() // default limits: VirusTotal 4 per minute
	cfg.MaxWorkers = 1
	svc, srv, clock := startService(t, cfg)
	rep := analyzeOK(t, srv, `{"iocs": ["r1.com", "r2.com", "r3.com", "r4.com", "r5.com", "r6.com"]}`)
	for i, ioc := range rep.IOCs {
		limited := slices.Contains(ioc.FailedProviders, "VirusTotal")
		if limited != (i >= 4) {
			t.Errorf("IOC %d: VirusTotal failed=%v, want %v (%q)", i, limited, i >= 4, ioc.Reports)
		}
		if limited && !slices.Contains(ioc.Reports, "VirusTotal: rate limit exceeded (4 requests per minute); partial result") {
			t.Errorf("IOC %d reports %q", i, ioc.Reports)
		}
		if len(ioc.Reports) != 2 || !strings.HasPrefix(ioc.Reports[1], "OTX: Found in") {
			t.Errorf("IOC %d: OTX must still answer: %q", i, ioc.Reports)
		}
	}
	if rep.Summary.PartialIOCs != 2 {
		t.Errorf("partial_iocs = %d, want 2", rep.Summary.PartialIOCs)
	}
	if got := counter(t, svc, "ioc_provider_rate_limit_hits_total", map[string]string{"provider": "virustotal"}); got != 2 {
		t.Errorf("rate limit hits = %v, want 2", got)
	}
	clock.Advance(15 * time.Second) // one token back
	rep = analyzeOK(t, srv, `{"iocs": ["r5.com", "r6.com"]}`)
	if rep.IOCs[0].Partial || !rep.IOCs[1].Partial {
		t.Errorf("after 15 s exactly one VirusTotal call is allowed: %v %v", rep.IOCs[0].Partial, rep.IOCs[1].Partial)
	}
}

func TestResultCacheTTLAndBound(t *testing.T) {
	clock := newFakeClock()
	evictions := 0
	c := newResultCache(10*time.Second, 2, clock.Now, func() { evictions++ })
	c.put("a", IOC{Value: "a"})
	c.put("b", IOC{Value: "b"})
	if _, ok := c.get("a"); !ok { // a becomes most recently used
		t.Fatal("a missing")
	}
	c.put("c", IOC{Value: "c"}) // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Error("b survived past CACHE_MAX_SIZE")
	}
	if c.len() != 2 || evictions != 1 {
		t.Errorf("len %d evictions %d, want 2 and 1", c.len(), evictions)
	}
	clock.Advance(9999 * time.Millisecond)
	if _, ok := c.get("a"); !ok {
		t.Error("a expired before its TTL")
	}
	clock.Advance(time.Millisecond)
	if _, ok := c.get("a"); ok {
		t.Error("a served at its TTL")
	}
	if c.len() != 1 {
		t.Errorf("expired entry not removed: len %d", c.len())
	}
	if newResultCache(0, 10, clock.Now, nil) != nil || newResultCache(time.Second, 0, clock.Now, nil) != nil {
		t.Error("CACHE_TTL=0 or CACHE_MAX_SIZE=0 must disable the cache")
	}
}

func TestServiceCache(t *testing.T) {
	cfg := testConfig()
	cfg.CacheTTL = time.Minute
	var on atomic.Bool
	svc, srv, clock := startService(t, cfg, WithFaults(failingFaults("OTX", &on)))
	calls := func() float64 { return counter(t, svc, "ioc_provider_calls_total", nil) }

	first := analyzeOK(t, srv, `{"iocs": ["Example.COM"]}`)
	if calls() != 2 {
		t.Fatalf("calls = %v, want 2 (VirusTotal, OTX)", calls())
	}
	second := analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	if calls() != 2 || counter(t, svc, "cache_hits_total", nil) != 2 || counter(t, svc, "cache_requests_total", nil) != 4 {
		t.Errorf("second lookup of the same domain (other case) must hit: calls %v hits %v requests %v",
			calls(), counter(t, svc, "cache_hits_total", nil), counter(t, svc, "cache_requests_total", nil))
	}
	if second.IOCs[0].Value != "example.com" || second.IOCs[0].Reputation != first.IOCs[0].Reputation {
		t.Errorf("cached answer: value %q reputation %s vs %s", second.IOCs[0].Value, second.IOCs[0].Reputation, first.IOCs[0].Reputation)
	}

	clock.Advance(time.Minute) // TTL over
	on.Store(true)             // and OTX fails now: failures must not be cached
	analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	on.Store(false)
	before := calls()
	rep := analyzeOK(t, srv, `{"iocs": ["example.com"]}`)
	if calls() != before+1 || rep.IOCs[0].Partial {
		t.Errorf("OTX failure was cached: calls %v -> %v, partial %v", before, calls(), rep.IOCs[0].Partial)
	}
}

func TestCacheBoundInService(t *testing.T) {
	cfg := testConfig()
	cfg.CacheMaxSize = 10
	cfg.RateLimitScale = 0 // every answer succeeds and is cached
	svc, srv, _ := startService(t, cfg)
	var iocs []string
	for i := range 20 {
		iocs = append(iocs, "bound"+string(rune('a'+i))+".com")
	}
	analyzeOK(t, srv, jsonBody(map[string]any{"iocs": iocs}))
	if n := svc.cache.len(); n != 10 {
		t.Errorf("cache holds %d entries, want CACHE_MAX_SIZE=10", n)
	}
	if got := counter(t, svc, "ioc_cache_evictions_total", nil); got != 30 {
		t.Errorf("evictions = %v, want 40 entries - 10 = 30", got)
	}
}

func TestCoalescedCallsShareOneAttempt(t *testing.T) {
	// The same IOC spelled twice in one request (different case, so both pass
	// the exact-value dedup) with two workers: one provider call, one shared.
	cfg := testConfig()
	cfg.CacheTTL = 0
	cfg.MaxWorkers = 2
	block := make(chan struct{})
	var started atomic.Int32
	faults := func(p, _ string, _ int) error {
		if p == "VirusTotal" {
			if started.Add(1) == 1 {
				<-block
			}
		}
		return nil
	}
	svc, srv, _ := startService(t, cfg, WithFaults(faults))
	done := make(chan Report)
	go func() { done <- analyzeOK(t, srv, `{"iocs": ["dup.example.com", "DUP.example.com"]}`) }()
	deadline := time.After(10 * time.Second)
	for counter(t, svc, "ioc_cache_coalesced_total", map[string]string{"provider": "virustotal"}) < 1 {
		select {
		case <-deadline:
			close(block)
			t.Fatal("second lookup never joined the in-flight call")
		case <-time.After(time.Millisecond):
		}
	}
	close(block)
	rep := <-done
	if got := counter(t, svc, "ioc_provider_calls_total", map[string]string{"provider": "virustotal"}); got != 1 {
		t.Errorf("VirusTotal calls = %v, want 1", got)
	}
	if rep.IOCs[0].Reputation != rep.IOCs[1].Reputation || rep.IOCs[1].Value != "DUP.example.com" {
		t.Errorf("shared answer wrong: %+v", rep.IOCs)
	}
}

func TestFailureReports(t *testing.T) {
	cfg := DefaultConfig()
	for _, tt := range []struct {
		p    providerID
		err  error
		want string
	}{
		{OTX, &providerError{503, "down"}, "OTX API error: 503 - down"},
		{VirusTotal, &providerError{429, "quota"}, "VirusTotal API error (429): quota"},
		{AbuseIPDB, errRateLimited, "AbuseIPDB: rate limit exceeded (1000 requests per day); partial result"},
		{IPinfo, errors.New("boom"), "IPinfo error: boom"},
	} {
		if got := failureReport(tt.p, tt.err, &cfg); got != tt.want {
			t.Errorf("failureReport(%s, %v) = %q, want %q", tt.p, tt.err, got, tt.want)
		}
	}
}
