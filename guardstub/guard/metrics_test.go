package guard

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestMetricsCountWhatHappened(t *testing.T) {
	cfg := limitsConfig(5, 1.0) // cap 5
	cfg.BlockThresholdViolations = 3
	tg := startGuard(t, cfg)
	st := tg.statuses("198.51.100.1", 12, time.Millisecond) // 5 allowed, 2 × 429, 1 × 403 (block starts), 4 × 403 (blocked)
	for range 3 {
		tg.req("198.51.100.2", http.MethodGet, "/", nil, "User-Agent", "sqlmap/1.0")
	}
	tg.get("198.51.100.3", "/api/docs")
	tg.get("", "/health") // not judged
	want := map[int]int{200: 6, 429: 2, 403: 8}
	got := map[int]int{200: count(st, 200) + 1, 429: count(st, 429), 403: count(st, 403) + 3}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("statuses %v (plus 3 challenges, 1 allowed): %v, want %v", st, got, want)
		}
	}

	fams := tg.scrape()
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ddos_requests_total", []string{"action", "allowed"}, 6},
		{"ddos_requests_total", []string{"action", "rate_limited"}, 2},
		{"ddos_requests_total", []string{"action", "blocked"}, 5},
		{"ddos_requests_total", []string{"action", "challenged"}, 3},
		{"ddos_requests_blocked_total", []string{"reason", reasonLabelRateLimited}, 2},
		{"ddos_requests_blocked_total", []string{"reason", reasonLabelViolations}, 1},
		{"ddos_requests_blocked_total", []string{"reason", reasonLabelTimedBlock}, 4},
		{"ddos_requests_blocked_total", []string{"reason", reasonLabelUserAgent}, 3},
		{"ddos_blocks_started_total", []string{"reason", "rate_limit_violations"}, 1},
		{"ddos_request_duration_seconds", []string{"action", "allowed"}, 6},
		{"ddos_request_duration_seconds", []string{"action", "blocked"}, 5},
		{"ddos_request_duration_seconds", []string{"action", "rate_limited"}, 2},
		{"ddos_request_duration_seconds", []string{"action", "challenged"}, 3},
		{"ddos_tracked_clients", nil, 2}, // .1 and .3; the challenged .2 never got state
		{"ddos_active_blocked_ips", nil, 1},
		{"cache_requests_total", nil, 0},
		{"cache_hits_total", nil, 0},
		{"ddos_upstream_errors_total", nil, 0},
	}
	for _, c := range checks {
		if got := metricValue(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("%s missing (process and Go collectors)", name)
		}
	}
}

func TestEachGuardHasItsOwnRegistry(t *testing.T) {
	a := startGuard(t, testConfig())
	b := startGuard(t, testConfig())
	a.get("198.51.100.1", "/")
	a.get("198.51.100.1", "/")
	b.get("198.51.100.1", "/")
	if va, vb := metricValue(a.scrape(), "ddos_requests_total", "action", "allowed"), metricValue(b.scrape(), "ddos_requests_total", "action", "allowed"); va != 2 || vb != 1 {
		t.Errorf("two guards share counters: %v and %v, want 2 and 1", va, vb)
	}
}

func TestCacheMetricsAfterScoring(t *testing.T) {
	tg := startGuard(t, testConfig())
	for range 30 { // past MIN_SAMPLES_REQUIRED, the clock frozen: identical features
		tg.get("198.51.100.1", "/")
	}
	fams := tg.scrape()
	// The names are the seed's (its PromQL uses them) and shared with the IOC
	// service: the guard's carry service="guard", and only that label.
	for _, name := range []string{"cache_requests_total", "cache_hits_total"} {
		mf := fams[name]
		if mf == nil || len(mf.GetMetric()) != 1 {
			t.Fatalf("%s: %v, want one series", name, mf)
		}
		labels := mf.GetMetric()[0].GetLabel()
		if len(labels) != 1 || labels[0].GetName() != "service" || labels[0].GetValue() != "guard" {
			t.Errorf("%s labels = %v, want {service=\"guard\"}", name, labels)
		}
	}
	lookups, hits := metricValue(fams, "cache_requests_total", "service", "guard"), metricValue(fams, "cache_hits_total", "service", "guard")
	if lookups != 21 { // requests 10..30 are scored
		t.Errorf("cache_requests_total = %v, want 21", lookups)
	}
	if hits <= 0 || hits >= lookups {
		t.Errorf("cache_hits_total = %v of %v lookups", hits, lookups)
	}
}

// tableVisits is how many client entries have been visited by walks of the table.
func tableVisits(t *clientTable) uint64 {
	var n uint64
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += s.clients.visited
		s.mu.Unlock()
	}
	return n
}

// bruteForceStats walks the whole table: what the gauges must say.
func bruteForceStats(t *clientTable, now int64) (tracked, blocked int) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		tracked += s.clients.len()
		s.clients.each(func(c *client) {
			if c.blockedUntil > now {
				blocked++
			}
		})
		s.mu.Unlock()
	}
	return tracked, blocked
}

// A scrape costs O(metrics), not O(clients): with a full table of 100k clients
// it must not visit a single client entry, and its gauges must still be right
// through inserts, blocks, lifted blocks, ended blocks and evictions.
func TestScrapeDoesNotWalkTheClientTable(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTrackedClients = 100_000
	tg := startGuard(t, cfg)
	g := tg.g
	clientAddr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	now := g.nowNanos()
	const blockedEvery = 100
	for i := range 100_000 {
		a := clientAddr(i)
		s := g.clients.shard(a)
		s.mu.Lock()
		c := s.getLocked(a)
		if i%blockedEvery == 0 {
			d := time.Minute
			if i%(2*blockedEvery) == 0 {
				d = time.Hour
			}
			s.blockLocked(c, now, reasonRateLimitViolations, d, 24*time.Hour, false)
		}
		s.mu.Unlock()
	}
	// Lift two blocks (admin) and evict the least recent clients with 5 new ones.
	g.clients.unblock(clientAddr(0), now)
	g.clients.unblock(clientAddr(blockedEvery), now)
	for i := range 5 {
		a := clientAddr(200_000 + i)
		s := g.clients.shard(a)
		s.mu.Lock()
		s.getLocked(a)
		s.mu.Unlock()
	}

	check := func(when string, wantBlocked int) {
		t.Helper()
		before := tableVisits(g.clients)
		fams := tg.scrape()
		if v := tableVisits(g.clients) - before; v != 0 {
			t.Errorf("%s: a scrape visited %d client entries, want 0 (O(metrics), not O(clients))", when, v)
		}
		tracked, blocked := bruteForceStats(g.clients, g.nowNanos())
		if blocked != wantBlocked {
			t.Fatalf("%s: the table holds %d blocked clients, the test expected %d", when, blocked, wantBlocked)
		}
		if got := metricValue(fams, "ddos_tracked_clients"); got != float64(tracked) {
			t.Errorf("%s: ddos_tracked_clients = %v, the table holds %d", when, got, tracked)
		}
		if got := metricValue(fams, "ddos_active_blocked_ips"); got != float64(blocked) {
			t.Errorf("%s: ddos_active_blocked_ips = %v, the table holds %d blocked", when, got, blocked)
		}
		if got := metricValue(fams, "ddos_client_evictions_total"); got < 5 {
			t.Errorf("%s: ddos_client_evictions_total = %v, want ≥ 5", when, got)
		}
	}
	// 1000 blocks, 2 lifted; evicted clients are the oldest (client 0.., maybe blocked).
	_, blockedNow := bruteForceStats(g.clients, now)
	check("blocks in force", blockedNow)
	tg.clock.Advance(2 * time.Minute) // the one-minute blocks end
	_, blockedLater := bruteForceStats(g.clients, g.nowNanos())
	if blockedLater >= blockedNow || blockedLater == 0 {
		t.Fatalf("after 2 min %d of %d blocks remain, want about half", blockedLater, blockedNow)
	}
	check("one-minute blocks ended", blockedLater)
	tg.clock.Advance(2 * time.Hour)
	check("all blocks ended", 0)
}
