package promrw_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/promrw"
	"github.com/slogate/slogate/slo/promql"
	"github.com/slogate/slogate/slo/promql/prometheustest"
)

// Points pushed to a real Prometheus's remote-write receiver come back from
// its query API: cumulative outcomes and per-second latency quantiles.
func TestPushedSeriesQueryBack(t *testing.T) {
	prom := prometheustest.Start(t, prometheustest.Options{RemoteWriteReceiver: true})
	start := time.Now().Add(-20 * time.Second).Truncate(time.Second)
	w, err := promrw.Start(prom.URL+"/api/v1/write", start, "rw-test", "vegeta")
	if err != nil {
		t.Fatal(err)
	}
	// pushed in order, as the recorder closes seconds
	for _, ts := range []int{0, 1, 2, 3, 4} {
		w.Push(results.Interval{TS: ts, Requests: 100, Success: 90, Blocked: 7, Errors: 3, TargetRPS: 100,
			LatencyMs: results.Latency{P50: 2, P90: 4, P95: 5, P99: float64(10 + ts), Max: 20}})
	}
	st := w.Close()
	if st.Sent != 5 || st.Failed != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	r := promql.Remote{URL: prom.URL, Start: start, End: start.Add(6 * time.Second)}
	ctx := context.Background()
	var out []promql.Sample
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if out, err = r.Query(ctx, `slogate_requests_total{outcome="success",scenario="rw-test"}`, promql.AtEnd); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || len(out) != 1 || out[0].V != 450 {
		t.Fatalf("success total = %+v %v, want 450", out, err)
	}
	out, err = r.Query(ctx, `max_over_time(slogate_latency_seconds{quantile="0.99"}[1m])`, promql.AtEnd)
	if err != nil || len(out) != 1 || out[0].V != 0.014 {
		t.Fatalf("max p99 = %+v %v, want 0.014", out, err)
	}
}

// A second older than one already sent is dropped and counted, never sent
// to make the receiver refuse the whole request.
func TestStaleSecondsAreDropped(t *testing.T) {
	prom := prometheustest.Start(t, prometheustest.Options{RemoteWriteReceiver: true})
	w, err := promrw.Start(prom.URL+"/api/v1/write", time.Now().Add(-20*time.Second).Truncate(time.Second), "stale", "vegeta")
	if err != nil {
		t.Fatal(err)
	}
	w.Push(results.Interval{TS: 5, Requests: 1, Success: 1})
	time.Sleep(300 * time.Millisecond) // sent alone
	for _, ts := range []int{3, 6, 4, 7} {
		w.Push(results.Interval{TS: ts, Requests: 1, Success: 1})
	}
	st := w.Close()
	if st.Sent != 3 || st.Dropped != 2 || st.Failed != 0 {
		t.Fatalf("stats %+v, want 3 sent (5, 6, 7) and 2 dropped (3, 4)", st)
	}
}

// A receiver that is down costs the run nothing: Push does not block and the
// failure is reported.
func TestUnreachableReceiverIsReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w, err := promrw.Start("http://"+addr+"/api/v1/write", time.Now(), "s", "vegeta")
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	for i := range promrw.QueueSize + 10 {
		w.Push(results.Interval{TS: i, Requests: 1, Success: 1})
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("pushing took %v", d)
	}
	st := w.Close()
	if st.Sent != 0 || st.Failed == 0 || !strings.Contains(st.LastError, "refused") {
		t.Fatalf("stats %+v", st)
	}
	if _, err := promrw.Start("ftp://x", time.Now(), "s", "v"); err == nil {
		t.Fatal("a non-HTTP URL accepted")
	}
}

// The shipped Grafana dashboard's queries are valid PromQL (Grafana's
// $__rate_interval and $scenario put back as values) and name the series
// this package pushes.
func TestDashboardQueries(t *testing.T) {
	raw, err := os.ReadFile("../../dashboards/slogate.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			expr := strings.NewReplacer("$__rate_interval", "1m", "$scenario", ".*").Replace(tg.Expr)
			ns, err := promql.Parse(expr)
			if err != nil {
				t.Errorf("%s: %s: %v", p.Title, tg.Expr, err)
			}
			for _, n := range ns {
				names[n] = true
			}
		}
	}
	for _, n := range []string{"slogate_requests_total", "slogate_latency_seconds", "slogate_target_rate_rps", "ddos_request_duration_seconds_bucket", "process_resident_memory_bytes"} {
		if !names[n] {
			t.Errorf("the dashboard never queries %s", n)
		}
	}
}
