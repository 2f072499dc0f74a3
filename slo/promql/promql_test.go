package promql

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

// counterServer: one target scraped every second for n+1 scrapes; for each
// label value a counter rising by perSec[label] a second.
func counterServer(n int, perSec map[string]float64) *results.Server {
	t0 := int64(1_700_000_000_000)
	srv := &results.Server{Targets: []results.ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Job: "x", Instance: "127.0.0.1:1", IntervalS: 1}}}
	for i := 0; i <= n; i++ {
		srv.Targets[0].TimesMs = append(srv.Targets[0].TimesMs, t0+int64(i)*1000)
	}
	for lbl, r := range perSec {
		se := results.ServerSeries{Labels: map[string]string{"__name__": "reqs_total", "action": lbl, "job": "x"}}
		for i := 0; i <= n; i++ {
			se.Values = append(se.Values, results.ServerValue{V: r * float64(i), Present: true})
		}
		srv.Series = append(srv.Series, se)
	}
	return srv
}

// A [5m] window after a 10 s run covers the run's scrapes: the rate is the
// run's rate, not its increase divided by five minutes.
func TestWindowLongerThanTheRunCoversItsScrapes(t *testing.T) {
	srv := counterServer(10, map[string]float64{"allowed": 100, "blocked": 20})
	out, err := Evaluate(context.Background(), srv, `sum(rate(reqs_total[5m]))`, AtEnd)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || math.Abs(out[0].V-120) > 0.5 {
		t.Fatalf("sum(rate(reqs_total[5m])) = %+v, want 120", out)
	}
	out, err = Evaluate(context.Background(), srv, `rate(reqs_total{action="blocked"}[2s])`, AtEnd)
	if err != nil || math.Abs(out[0].V-20) > 0.5 {
		t.Fatalf("a window shorter than the run: %+v %v, want 20", out, err)
	}
	// several series come back, each with its labels
	out, err = Evaluate(context.Background(), srv, `rate(reqs_total[1m])`, AtEnd)
	if err != nil || len(out) != 2 {
		t.Fatalf("two series: %+v %v", out, err)
	}
	if w := Worst(out, false); !strings.Contains(w.Labels, "allowed") {
		t.Fatalf("worst (lower is better) = %+v, want the allowed series", w)
	}
	if w := Worst(out, true); !strings.Contains(w.Labels, "blocked") {
		t.Fatalf("worst (higher is better) = %+v, want the blocked series", w)
	}
	// over the run: one value per series and step
	out, err = Evaluate(context.Background(), srv, `reqs_total{action="allowed"}`, OverRun)
	if err != nil || len(out) != 11 || Worst(out, false).V != 1000 {
		t.Fatalf("over the run: %d samples, worst %v, %v", len(out), Worst(out, false), err)
	}
}

func TestNoDataIsNotAValue(t *testing.T) {
	srv := counterServer(5, map[string]float64{"allowed": 1})
	if _, err := Evaluate(context.Background(), srv, `rate(missing_total[1m])`, AtEnd); !errors.Is(err, ErrNoData) {
		t.Fatalf("no series: %v, want ErrNoData", err)
	}
	if _, err := Evaluate(context.Background(), &results.Server{}, `up`, AtEnd); !errors.Is(err, ErrNoData) {
		t.Fatalf("no scrape targets: %v, want ErrNoData", err)
	}
	failed := &results.Server{Targets: []results.ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Failures: 3, LastError: "connection refused"}}}
	if _, err := Evaluate(context.Background(), failed, `up`, AtEnd); !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("all scrapes failed: %v", err)
	}
}

func TestParse(t *testing.T) {
	names, err := Parse(`histogram_quantile(0.95, rate(ddos_request_duration_seconds_bucket[5m])) + on() group_left rate(x_total[1m]) * 0`)
	if err != nil || strings.Join(names, ",") != "ddos_request_duration_seconds_bucket,x_total" {
		t.Fatalf("names %v, %v", names, err)
	}
	for _, bad := range []string{"", "rate(x[5m]", "x[5m]", `"a string"`, strings.Repeat("x", MaxExprBytes+1)} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%.20q) accepted", bad)
		}
	}
}

func TestServerValueJSON(t *testing.T) {
	in := []results.ServerValue{{}, {V: 1.5, Present: true}, {V: math.NaN(), Present: true}, {V: math.Inf(1), Present: true}, {V: math.Inf(-1), Present: true}}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `[null,1.5,"NaN","+Inf","-Inf"]` {
		t.Fatalf("%s %v", b, err)
	}
	var out []results.ServerValue
	if err := json.Unmarshal(b, &out); err != nil || len(out) != 5 || out[0].Present || out[1].V != 1.5 || !math.IsNaN(out[2].V) || !math.IsInf(out[3].V, 1) || !math.IsInf(out[4].V, -1) {
		t.Fatalf("%+v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`["1e999x"]`), &out); err == nil {
		t.Fatal("garbage accepted")
	}
}

// A subquery without a step (x[5m:]) is evaluated at the scrape interval,
// as Prometheus evaluates it at its global interval. Found by FuzzQuery: the
// engine dereferenced an unset interval function and crashed the gate.
func TestSubqueryWithoutAStep(t *testing.T) {
	srv := counterServer(10, map[string]float64{"allowed": 100})
	for _, over := range []Over{AtEnd, OverRun} {
		out, err := Evaluate(context.Background(), srv, `max_over_time(rate(reqs_total[2s])[5m:])`, over)
		if err != nil {
			t.Fatalf("over %s: %v", over, err)
		}
		if w := Worst(out, false); math.Abs(w.V-100) > 0.5 {
			t.Fatalf("over %s: max_over_time(rate(...)[5m:]) = %+v, want 100", over, out)
		}
	}
}
