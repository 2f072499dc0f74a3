package scrape_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/scrape"
	"github.com/slogate/slogate/slo/promql"
)

func startGuard(t *testing.T, rateLimit int) *httptest.Server {
	t.Helper()
	cfg := guard.DefaultConfig()
	cfg.RequestRateLimit = rateLimit
	g, err := guard.New(cfg, guard.WithLogger(slog.New(slog.DiscardHandler)),
		guard.WithUpstream(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() { srv.Close(); g.Close() })
	return srv
}

// sumAt adds the values of every kept series of family name at scrape i
// (negative: from the end).
func sumAt(srv *results.Server, name string, i int) float64 {
	var sum float64
	for _, se := range srv.Series {
		if se.Labels["__name__"] != name {
			continue
		}
		j := i
		if j < 0 {
			j += len(se.Values)
		}
		if se.Values[j].Present {
			sum += se.Values[j].V
		}
	}
	return sum
}

// The counters scraped from the real guard account for every request the
// run sent, and the seed's four PromQL queries evaluate over them as written.
func TestScrapedGuardCountersMatchTheRun(t *testing.T) {
	g := startGuard(t, 30)
	s, err := scrape.Start(context.Background(), scrape.Config{
		Targets:  []scrape.Target{{URL: g.URL + "/metrics", Job: "guard"}},
		Interval: 100 * time.Millisecond,
		Keep:     func(f string) bool { return results.KeepFamily(results.DefaultServerFamilies, f) },
		KeepName: "default+objectives",
	})
	if err != nil {
		t.Fatal(err)
	}
	const sent = 150
	var blocked int
	for i := range sent {
		resp, err := http.Get(g.URL + "/api/x")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden {
			blocked++
		}
		if i%30 == 0 {
			time.Sleep(120 * time.Millisecond) // let some scrapes land during the run
		}
	}
	srv := s.Stop()
	tg := srv.Targets[0]
	if tg.Failures != 0 || tg.Scrapes < 3 || len(tg.TimesMs) != int(tg.Scrapes) {
		t.Fatalf("scrapes %d failures %d (%s), times %d", tg.Scrapes, tg.Failures, tg.LastError, len(tg.TimesMs))
	}
	if got := sumAt(srv, "ddos_requests_total", -1) - sumAt(srv, "ddos_requests_total", 0); got != sent {
		t.Fatalf("ddos_requests_total rose by %v over the run, want %d", got, sent)
	}
	if blocked == 0 {
		t.Fatal("the rate limit blocked nothing: the test does not exercise blocked requests")
	}
	for _, q := range []string{
		`histogram_quantile(0.95, rate(ddos_request_duration_seconds_bucket[5m]))`,
		`rate(ddos_requests_total[1m])`,
		`rate(cache_hits_total[5m]) / rate(cache_requests_total[5m])`,
		`process_resident_memory_bytes / 1024 / 1024`,
	} {
		if _, err := promql.Parse(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out, err := promql.Evaluate(context.Background(), srv, q, promql.AtEnd)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, o := range out {
			if math.IsInf(o.V, 0) || o.V < 0 {
				t.Fatalf("%s: %s = %v", q, o.Labels, o.V)
			}
		}
	}
	// The per-second rate over the run: a [1m] window is clamped to the
	// run's scrapes, so the rates of all actions add up to sent / span.
	out, err := promql.Evaluate(context.Background(), srv, `sum(rate(ddos_requests_total[1m]))`, promql.AtEnd)
	if err != nil {
		t.Fatal(err)
	}
	span := float64(tg.TimesMs[len(tg.TimesMs)-1]-tg.TimesMs[0]) / 1000
	if want := sent / span; math.Abs(out[0].V-want) > 0.35*want {
		t.Fatalf("sum(rate(ddos_requests_total[1m])) = %v, want about %v (%d requests over %.2f s)", out[0].V, want, sent, span)
	}
	rss, err := promql.Evaluate(context.Background(), srv, `process_resident_memory_bytes / 1024 / 1024`, promql.OverRun)
	if err != nil || len(rss) < 2 {
		t.Fatalf("RSS over the run: %d samples, %v", len(rss), err)
	}
	if w := promql.Worst(rss, false); w.V < 1 || w.V > 4096 {
		t.Fatalf("worst RSS %v MiB", w.V)
	}
}

// A /metrics that answers garbage, stalls or dies never stops the scraper:
// failures are counted with the last error, and objectives over the missing
// data have no value (ErrNoData), not a made-up one.
func TestBadMetricsEndpointsAreRecorded(t *testing.T) {
	var calls atomic.Int64
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, "this is { not prometheus\n")
	}))
	defer garbage.Close()
	stall := make(chan struct{})
	stalling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer stalling.Close()
	defer close(stall)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	start := time.Now()
	s, err := scrape.Start(context.Background(), scrape.Config{
		Targets:  []scrape.Target{{URL: garbage.URL + "/metrics"}, {URL: stalling.URL + "/metrics"}, {URL: deadURL + "/metrics"}},
		Interval: 100 * time.Millisecond, Timeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the first round took %v with a 200 ms timeout", d)
	}
	time.Sleep(350 * time.Millisecond)
	srv := s.Stop()
	for i, want := range []string{"parsing the exposition", "deadline exceeded", "refused"} {
		tg := srv.Targets[i]
		if tg.Scrapes != 0 || tg.Failures < 2 || !strings.Contains(tg.LastError, want) {
			t.Errorf("%s: scrapes %d failures %d last error %q, want failures with %q", tg.URL, tg.Scrapes, tg.Failures, tg.LastError, want)
		}
	}
	if _, err := promql.Evaluate(context.Background(), srv, `up`, promql.AtEnd); err == nil || !strings.Contains(err.Error(), "no server data") {
		t.Fatalf("evaluating over failed scrapes: %v, want no server data", err)
	}
}

// The server's own summary of the run: its latency histogram counted every
// request the guard judged and timed, and its resources were read.
func TestServerSummaryFromTheGuard(t *testing.T) {
	g := startGuard(t, 1_000_000)
	s, err := scrape.Start(context.Background(), scrape.Config{
		Targets:  []scrape.Target{{URL: g.URL + "/metrics", Job: "guard"}},
		Interval: 100 * time.Millisecond,
		Keep:     func(f string) bool { return results.KeepFamily(results.DefaultServerFamilies, f) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		resp, err := http.Get(g.URL + "/api/x")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i%40 == 0 {
			time.Sleep(150 * time.Millisecond)
		}
	}
	srv := s.Stop()
	sum := promql.Summarize(context.Background(), srv)
	if sum == nil || sum.LatencyHistogram != "ddos_request_duration_seconds" {
		t.Fatalf("summary %+v", sum)
	}
	// increase() over the run's scrapes: the first scrape came before any
	// request, so the count is exact up to the 1 ms the window is widened by.
	if math.Abs(sum.Requests-120) > 1 || sum.P50Ms <= 0 || sum.P99Ms < sum.P50Ms || sum.MaxRSSMB <= 1 || sum.Goroutines < 1 {
		t.Fatalf("summary %+v, want 120 requests and positive figures", sum)
	}
}
