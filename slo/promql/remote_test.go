package promql_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/slo/promql"
	"github.com/slogate/slogate/slo/promql/prometheustest"
)

// A real Prometheus scrapes the bundled guard; the Remote source evaluates
// over the run's window only: requests sent before the window do not count.
func TestRemotePrometheusOverTheRunWindow(t *testing.T) {
	g, err := guard.New(guard.DefaultConfig(), guard.WithLogger(slog.New(slog.DiscardHandler)),
		guard.WithUpstream(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })))
	if err != nil {
		t.Fatal(err)
	}
	target := httptest.NewServer(g)
	defer func() { target.Close(); g.Close() }()
	prom := prometheustest.Start(t, prometheustest.Options{Scrape: []string{target.URL + "/metrics"}, ScrapeInterval: 500 * time.Millisecond})

	get := func(n int) {
		for range n {
			resp, err := http.Get(target.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	ctx := context.Background()
	// Before the run: traffic the window must leave out, then a scrape.
	get(40)
	waitFor(t, ctx, prom.URL, `sum(ddos_requests_total)`, 40)
	// The run: scrapes land inside its window before and after its traffic.
	start := time.Now()
	time.Sleep(1200 * time.Millisecond)
	get(25)
	waitFor(t, ctx, prom.URL, `sum(ddos_requests_total)`, 65)
	time.Sleep(600 * time.Millisecond)
	end := time.Now()

	r := promql.Remote{URL: prom.URL, Start: start, End: end}
	out, err := r.Query(ctx, `sum(increase(ddos_requests_total[10m]))`, promql.AtEnd)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("increase over the run window: %.1f", out[0].V)
	// increase() extrapolates to the window's edges (by at most 1.1 scrape
	// intervals each side, so above 25 here, where the run is idle at its
	// edges); the 40 sent before the window must not count (65).
	if len(out) != 1 || out[0].V < 20 || out[0].V > 55 {
		t.Fatalf("increase over the run window = %+v, want 25 extrapolated, never 65", out)
	}
	rss, err := r.Query(ctx, `process_resident_memory_bytes / 1024 / 1024`, promql.OverRun)
	if err != nil || len(rss) < 1 || math.IsNaN(promql.Worst(rss, false).V) {
		t.Fatalf("RSS over the run: %+v %v", rss, err)
	}
	if _, err := r.Query(ctx, `rate(not_there_total[1m])`, promql.AtEnd); err == nil {
		t.Fatal("a query with no series gave a value")
	}
}

// waitFor polls until expr reaches want (bounded: 30 s).
func waitFor(t *testing.T, ctx context.Context, url, expr string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := promql.Remote{URL: url, Start: time.Now().Add(-time.Hour), End: time.Now()}.Query(ctx, expr, promql.AtEnd)
		if err == nil && len(out) == 1 && out[0].V >= want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("prometheus never saw %s >= %v", expr, want)
}
