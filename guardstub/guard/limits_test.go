package guard

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// limitsConfig isolates the sliding window: the model never reaches a verdict.
func limitsConfig(limit int, burst float64) Config {
	cfg := testConfig()
	cfg.RequestRateLimit = limit
	cfg.BurstMultiplier = burst
	cfg.MinSamplesRequired = 1 << 30
	return cfg
}

func TestSlidingCounterEstimateAndRetryAfter(t *testing.T) {
	const w = int64(60 * time.Second)
	base := int64(1_700_000_040) * int64(time.Second) // a multiple of 60 s
	var c slidingCounter
	for range 30 {
		c.add(base, w)
	}
	c.roll(base+w+w/2, w) // half-way through the next bucket: prev = 30, cur = 0
	if got := c.estimate(base+w+w/2, w); got != 15 {
		t.Errorf("estimate half a window later = %v, want 15 (30·0.5)", got)
	}
	// cap 10, cur 0, prev 30: room 9 = 30·(1−f) → f = 0.7 → 42 s into the bucket, 12 s from now.
	if got := c.retryAfter(base+w+w/2, w, 10); got != 12*time.Second {
		t.Errorf("retryAfter = %v, want 12s", got)
	}
	c.roll(base+3*w, w) // two buckets on: everything forgotten
	if got := c.estimate(base+3*w, w); got != 0 {
		t.Errorf("estimate two windows later = %v, want 0", got)
	}
	// cur over the cap: wait for it to become prev and decay to cap−1 = 4:
	// 10·(1−f) = 4 → f = 0.6 → 36 s into the next bucket, 96 s from now.
	c = slidingCounter{}
	for range 10 {
		c.add(base, w)
	}
	if got := c.retryAfter(base, w, 5); got != 96*time.Second {
		t.Errorf("retryAfter with cur over the cap = %v, want 96s", time.Duration(got))
	}
}

func TestHardCapIsLimitTimesBurstMultiplier(t *testing.T) {
	cases := []struct {
		limit   int
		burst   float64
		allowed int
	}{
		{10, 1.0, 10},
		{10, 1.5, 15},
		{10, 2.0, 20},
		{7, 1.5, 10}, // ⌊10.5⌋
		{100, 1.5, 150},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("limit%d_burst%v", c.limit, c.burst), func(t *testing.T) {
			cfg := limitsConfig(c.limit, c.burst)
			cfg.BlockThresholdViolations = 1000
			tg := startGuard(t, cfg)
			st := tg.statuses("198.51.100.1", c.allowed+5, time.Millisecond)
			if got := countLeading(st, http.StatusOK); got != c.allowed {
				t.Errorf("allowed %d before the first refusal, want %d (statuses %v)", got, c.allowed, st)
			}
			if got := count(st[c.allowed:], http.StatusTooManyRequests); got != 5 {
				t.Errorf("%d of the 5 requests over the cap got 429", got)
			}
			// Another client is unaffected.
			if s := tg.get("198.51.100.2", "/").status; s != http.StatusOK {
				t.Errorf("another client got %d", s)
			}
		})
	}
}

func TestRateLimitedAnswerHasRetryAfterAndWindowSlides(t *testing.T) {
	cfg := limitsConfig(10, 1.0) // cap 10 per 60 s
	cfg.BlockThresholdViolations = 1000
	tg := startGuard(t, cfg)
	// Align to the start of a window so the arithmetic below is exact.
	now := tg.clock.Now()
	tg.clock.Advance(time.Duration(alignDown(now.UnixNano(), int64(time.Minute))+int64(time.Minute)-now.UnixNano()) + time.Millisecond)
	for i := range 10 {
		if s := tg.get("198.51.100.9", "/").status; s != 200 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	r := tg.get("198.51.100.9", "/")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("11th request: %d, want 429", r.status)
	}
	if r.body != string(bodyRateLimited) {
		t.Errorf("429 body %q", r.body)
	}
	// cur = 10 = cap: it must become the previous bucket and decay to 9: 6 s into the next minute.
	ra, err := strconv.Atoi(r.retryAfter)
	if err != nil || ra < 65 || ra > 66 {
		t.Errorf("Retry-After %q, want ≈ 66 s (60 s − 1 ms to the next window + 6 s)", r.retryAfter)
	}
	tg.clock.Advance(time.Duration(ra-1) * time.Second)
	if s := tg.get("198.51.100.9", "/").status; s != http.StatusTooManyRequests {
		t.Errorf("1 s before Retry-After: %d, want 429", s)
	}
	tg.clock.Advance(time.Second)
	if s := tg.get("198.51.100.9", "/").status; s != http.StatusOK {
		t.Errorf("at Retry-After: %d, want 200", s)
	}
}

func TestSlidingWindowSecondsChangesRecovery(t *testing.T) {
	// The same traffic, then 25 s of silence: a 10 s window has forgotten it, a 60 s one has not.
	for _, c := range []struct {
		window time.Duration
		want   int
	}{{10 * time.Second, http.StatusOK}, {60 * time.Second, http.StatusTooManyRequests}} {
		t.Run(c.window.String(), func(t *testing.T) {
			cfg := limitsConfig(20, 1.0)
			cfg.SlidingWindow = c.window
			cfg.BlockThresholdViolations = 1000
			tg := startGuard(t, cfg)
			st := tg.statuses("203.0.113.5", 25, time.Millisecond)
			if count(st, 200) != 20 {
				t.Fatalf("statuses %v", st)
			}
			tg.clock.Advance(25 * time.Second)
			if s := tg.get("203.0.113.5", "/").status; s != c.want {
				t.Errorf("after 25 s with a %v window: %d, want %d", c.window, s, c.want)
			}
		})
	}
}

func TestBlockStartsAfterThresholdAndEnds(t *testing.T) {
	for _, threshold := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("threshold%d", threshold), func(t *testing.T) {
			cfg := limitsConfig(5, 1.0)
			cfg.BlockThresholdViolations = threshold
			cfg.BlockDuration = 10 * time.Minute
			tg := startGuard(t, cfg)
			ip := "192.0.2.77"
			st := tg.statuses(ip, 5+threshold, time.Millisecond)
			if got := count(st, 200); got != 5 {
				t.Fatalf("allowed %d, want 5: %v", got, st)
			}
			if got := count(st, 429); got != threshold-1 {
				t.Errorf("429s before the block = %d, want %d: %v", got, threshold-1, st)
			}
			last := st[len(st)-1]
			if last != http.StatusForbidden {
				t.Fatalf("the %d-th violation got %d, want 403", threshold, last)
			}
			r := tg.get(ip, "/")
			if r.status != http.StatusForbidden || r.retryAfter != "600" {
				t.Errorf("during the block: %d Retry-After %q, want 403 and 600", r.status, r.retryAfter)
			}
			tg.clock.Advance(10*time.Minute - time.Second)
			if s := tg.get(ip, "/").status; s != http.StatusForbidden {
				t.Errorf("1 s before the block ends: %d, want 403", s)
			}
			tg.clock.Advance(time.Second)
			if s := tg.get(ip, "/").status; s != http.StatusOK {
				t.Errorf("when the block ends: %d, want 200", s)
			}
		})
	}
}

func TestViolationsSpreadOverWindowsDoNotBlock(t *testing.T) {
	cfg := limitsConfig(5, 1.0)
	cfg.SlidingWindow = 10 * time.Second
	cfg.BlockThresholdViolations = 2
	tg := startGuard(t, cfg)
	ip := "192.0.2.78"
	for round := range 4 {
		st := tg.statuses(ip, 6, time.Millisecond) // 5 allowed + 1 violation each round
		if st[5] != http.StatusTooManyRequests {
			t.Fatalf("round %d: %v, want one 429 and no block", round, st)
		}
		tg.clock.Advance(25 * time.Second) // more than a window: the violation is forgotten
	}
}

// blockLengths drives one client into `blocks` consecutive blocks and measures each
// length by stepping the clock a minute at a time.
func blockLengths(t *testing.T, tg *testGuard, ip string, blocks int) []time.Duration {
	t.Helper()
	var out []time.Duration
	for b := range blocks {
		st := tg.statuses(ip, 20, time.Millisecond)
		if st[len(st)-1] != http.StatusForbidden {
			t.Fatalf("block %d did not start: %v", b, st)
		}
		length := time.Duration(0)
		for i := 0; i < 48*60 && tg.get(ip, "/").status == http.StatusForbidden; i++ {
			tg.clock.Advance(time.Minute)
			length += time.Minute
		}
		out = append(out, length)
	}
	return out
}

func TestProgressiveBlockingDoublesUpToTheCap(t *testing.T) {
	cases := []struct {
		name        string
		progressive bool
		maxBlock    time.Duration
		want        []time.Duration
	}{
		{"progressive", true, 24 * time.Hour, []time.Duration{1, 2, 4, 8, 16}},
		{"capped", true, 5 * time.Minute, []time.Duration{1, 2, 4, 5, 5}},
		{"flat", false, 24 * time.Hour, []time.Duration{1, 1, 1, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := limitsConfig(5, 1.0)
			cfg.BlockThresholdViolations = 2
			cfg.BlockDuration = time.Minute
			cfg.ProgressiveBlocking = c.progressive
			cfg.MaxBlockDuration = c.maxBlock
			tg := startGuard(t, cfg)
			got := blockLengths(t, tg, "192.0.2.90", len(c.want))
			for i := range c.want {
				if got[i] != c.want[i]*time.Minute {
					t.Errorf("block lengths %v, want %v minutes", got, c.want)
					break
				}
			}
		})
	}
}

func TestBlockDurationMinutesAndCapOnFirstBlock(t *testing.T) {
	cfg := limitsConfig(5, 1.0)
	cfg.BlockThresholdViolations = 1
	cfg.BlockDuration = 3 * time.Hour
	cfg.MaxBlockDuration = time.Hour // caps even the first block
	tg := startGuard(t, cfg)
	st := tg.statuses("192.0.2.91", 6, time.Millisecond)
	if st[5] != http.StatusForbidden {
		t.Fatalf("%v", st)
	}
	if r := tg.get("192.0.2.91", "/"); r.retryAfter != "3600" {
		t.Errorf("Retry-After %q, want 3600 (capped by MAX_BLOCK_DURATION_HOURS)", r.retryAfter)
	}
}

func TestWhitelistAndStaticBlocklist(t *testing.T) {
	cfg := limitsConfig(2, 1.0)
	cfg.WhitelistIPs = mustPrefixes("10.9.0.0/16")
	cfg.BlocklistIPs = mustPrefixes("10.8.0.0/16,192.0.2.200")
	tg := startGuard(t, cfg)
	if st := tg.statuses("10.9.1.1", 10, time.Millisecond); count(st, 200) != 10 {
		t.Errorf("whitelisted client limited: %v", st)
	}
	for _, ip := range []string{"10.8.3.4", "192.0.2.200"} {
		if r := tg.get(ip, "/"); r.status != http.StatusForbidden || r.body != string(bodyBlocked) {
			t.Errorf("blocklisted %s: %d %q", ip, r.status, r.body)
		}
	}
}
