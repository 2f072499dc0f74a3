package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo/promql"
	"github.com/slogate/slogate/slo/promql/prometheustest"
)

func readResult(t *testing.T, path string) *results.Result {
	t.Helper()
	r, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func objective(t *testing.T, r *results.Result, name string) results.ObjectiveResult {
	t.Helper()
	for _, o := range r.SLO.Objectives {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no objective %q in %+v", name, r.SLO.Objectives)
	return results.ObjectiveResult{}
}

// A run of the bundled guard (its own process) scrapes it: the server's
// counters account for the run's requests, the seed's PromQL gates the run,
// and `check` evaluates other PromQL later from the result, target gone.
func TestRunGatesOnServerSide(t *testing.T) {
	dir := t.TempDir()
	scen := writeFile(t, dir, "g.yaml", `name: server-side
target: {service: guard, isolate: true, env: {REQUEST_RATE_LIMIT: "100000"}}
clients: {count: 20}
requests: [{path: /api/test}]
phases: [{name: steady, rate: 100, duration: 3s}]
slo:
  - {metric: error_rate, threshold: "< 1%"}
  - {name: server p95, promql: 'histogram_quantile(0.95, rate(ddos_request_duration_seconds_bucket[5m]))', threshold: "< 0.1"}
  - {name: guard rps, promql: 'sum(rate(ddos_requests_total[1m]))', threshold: "> 50"}
  - {name: RSS, promql: 'process_resident_memory_bytes / 1024 / 1024', threshold: "< 2000", over: run}
  - {metric: server_p99, threshold: "< 200ms"}
`)
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", scen, "--quiet", "--no-history", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"scraped http://127.0.0.1:", "server latency (ddos_request_duration_seconds", "server resources: RSS max"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	r := readResult(t, out)
	if r.Server == nil || r.Server.Summary == nil || len(r.Server.Targets) != 1 {
		t.Fatalf("server section %+v", r.Server)
	}
	if got := r.Server.Summary.Requests; math.Abs(got-float64(r.Summary.Requests)) > 1 {
		t.Fatalf("the guard counted %v requests, the run sent %d", got, r.Summary.Requests)
	}
	if o := objective(t, r, "guard rps"); o.Verdict != "pass" || o.PromQL == "" {
		t.Fatalf("guard rps %+v", o)
	}

	// Later, with the guard gone: other PromQL over the kept samples.
	slo := writeFile(t, dir, "other.yaml", `- {name: too fast, promql: 'sum(rate(ddos_requests_total[1m]))', threshold: "> 1000"}
- {name: judged, promql: 'sum(increase(ddos_requests_total[5m]))', threshold: "> 250"}
`)
	code, stdout, _ = runCLI(t, "check", out, "--slo", slo)
	if code != 1 || !strings.Contains(stdout, "too fast") || !strings.Contains(stdout, "FAIL") {
		t.Fatalf("check with a failing PromQL objective: exit %d\n%s", code, stdout)
	}
	missing := writeFile(t, dir, "missing.yaml", "- {promql: 'rate(not_scraped_total[1m])', threshold: '< 1'}\n")
	code, stdout, _ = runCLI(t, "check", out, "--slo", missing)
	if code != 3 || !strings.Contains(stdout, "INCONCLUSIVE") {
		t.Fatalf("check with a series the run never saw: exit %d (want 3)\n%s", code, stdout)
	}
	bad := writeFile(t, dir, "bad.yaml", "- {metric: p99, threshold: '< 1s'}\n- {promql: 'rate(x[5m]', threshold: '< 1'}\n")
	code, _, stderr = runCLI(t, "run", scen, "--quiet", "--no-history", "--slo", bad)
	if code != 2 || !strings.Contains(stderr, "bad.yaml: line 2: objectives[1].promql") {
		t.Fatalf("a PromQL parse error: exit %d\n%s", code, stderr)
	}
}

// The seed's cache objective on ioc-cache-warm passes with the cache on and
// fails with it off.
func TestCacheHitRateGate(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		env  []string
		code int
		pass string
	}{
		{nil, 0, "pass"},
		{[]string{"--env", "CACHE_MAX_SIZE=0"}, 1, "fail"},
	} {
		out := filepath.Join(dir, "r.json")
		args := append([]string{"run", "ioc-cache-warm", "--rate", "100", "--duration", "8s", "--quiet", "--no-history", "--out", out}, c.env...)
		code, stdout, stderr := runCLI(t, args...)
		r := readResult(t, out)
		o := objective(t, r, "cache hit rate")
		if o.Verdict != c.pass {
			t.Fatalf("%v: cache hit rate %v %s (exit %d)\n%s\n%s", c.env, o.Value, o.Verdict, code, stdout, stderr)
		}
		if c.code == 0 && code != 0 {
			t.Fatalf("cache on: exit %d\n%s", code, stdout)
		}
		if c.code == 1 && code != 1 {
			t.Fatalf("cache off: exit %d, want 1\n%s", code, stdout)
		}
	}
}

// A /metrics that answers garbage, stalls, or dies mid-run never harms the
// load: every request is sent on schedule, the scrape failures are
// recorded, and the objectives over the missing data are inconclusive.
func TestBrokenMetricsEndpointsLeaveTheLoadIntact(t *testing.T) {
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "}{ garbage\n")
	}))
	defer garbage.Close()
	release := make(chan struct{})
	stalling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stalling.Close()
	defer close(release)
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "# TYPE up gauge\nup 1\n")
	}))
	time.AfterFunc(1500*time.Millisecond, dying.Close)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer target.Close()

	dir := t.TempDir()
	slo := writeFile(t, dir, "slo.yaml", `- {metric: error_rate, threshold: "< 1%"}
- {name: server answers, promql: 'sum(rate(ddos_requests_total[1m]))', threshold: "> 0"}
`)
	out := filepath.Join(dir, "r.json")
	start := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--target", target.URL, "--rate", "100", "--duration", "4s", "--quiet", "--no-history",
		"--metrics-url", garbage.URL+"/metrics", "--metrics-url", stalling.URL+"/metrics", "--metrics-url", dying.URL+"/metrics",
		"--slo", slo, "--out", out)
	elapsed := time.Since(start)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (server objective inconclusive)\n%s\n%s", code, stdout, stderr)
	}
	r := readResult(t, out)
	if r.Summary.Requests != 400 || r.Summary.ErrorCount != 0 || r.Generator.AchievedRatio < 0.97 {
		t.Fatalf("the load suffered: %d requests, %d errors, %.3f on schedule", r.Summary.Requests, r.Summary.ErrorCount, r.Generator.AchievedRatio)
	}
	if elapsed > 12*time.Second {
		t.Fatalf("a 4 s run took %v", elapsed)
	}
	if o := objective(t, r, "server answers"); o.Verdict != "inconclusive" {
		t.Fatalf("server objective %+v", o)
	}
	for i, want := range []string{"parsing the exposition", "deadline exceeded", ""} {
		tg := r.Server.Targets[i]
		if i < 2 && (tg.Scrapes != 0 || tg.Failures == 0 || !strings.Contains(tg.LastError, want)) {
			t.Errorf("%s: %d scrapes, %d failures, last error %q (want %q)", tg.URL, tg.Scrapes, tg.Failures, tg.LastError, want)
		}
		if i == 2 && (tg.Scrapes == 0 || tg.Failures == 0) {
			t.Errorf("the endpoint that died: %d scrapes, %d failures", tg.Scrapes, tg.Failures)
		}
	}
}

// Against a real Prometheus: the run's own figures pushed with remote write
// come back from its query API, and --prometheus evaluates the objectives
// on that server's own scrapes of the guard over the run's window.
func TestRealPrometheusRemoteWriteAndQuery(t *testing.T) {
	guardCmd, guardAddr, guardLogs := startServe(t, []string{"REQUEST_RATE_LIMIT=1000000"}, "guard", "--addr", "127.0.0.1:0")
	defer stopServe(t, guardCmd, guardLogs)
	prom := prometheustest.Start(t, prometheustest.Options{
		Scrape: []string{"http://" + guardAddr + "/metrics"}, ScrapeInterval: 500 * time.Millisecond, RemoteWriteReceiver: true,
	})
	dir := t.TempDir()
	slo := writeFile(t, dir, "slo.yaml", `- {metric: error_rate, threshold: "< 1%"}
- {name: guard saw the run, promql: 'sum(increase(ddos_requests_total[10m]))', threshold: "> 100"}
`)
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", "--target", "http://"+guardAddr+"/api/test", "--rate", "50", "--duration", "5s",
		"--quiet", "--no-history", "--slo", slo, "--out", out,
		"--out", "prometheus-rw="+prom.URL+"/api/v1/write", "--prometheus", prom.URL)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := readResult(t, out)
	if o := objective(t, r, "guard saw the run"); o.Verdict != "pass" {
		t.Fatalf("%+v", o)
	}
	// What slogate pushed: 250 successes over the run's seconds.
	ctx := context.Background()
	q := promql.Remote{URL: prom.URL, Start: r.StartedAt.Add(-time.Minute), End: time.Now().Add(time.Second)}
	var got []promql.Sample
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got, err = q.Query(ctx, `max(max_over_time(slogate_requests_total{outcome="success",scenario="adhoc"}[10m]))`, promql.AtEnd)
		if err == nil && len(got) == 1 && got[0].V == 250 {
			break
		}
	}
	if err != nil || len(got) != 1 || got[0].V != 250 {
		t.Fatalf("pushed success total = %+v (%v), want 250", got, err)
	}
	if strings.Contains(stderr, "prometheus-rw") {
		t.Fatalf("the push reported a failure: %s", stderr)
	}
}
