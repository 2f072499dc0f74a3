package slo

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

// serverResult is a result whose target was scraped every second for 10 s:
// counters per action rising at the given rates, and a gauge rss.
func serverResult(perSec map[string]float64, rss []float64) *results.Result {
	t0 := int64(1_700_000_000_000)
	srv := &results.Server{Targets: []results.ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Job: "guard", Instance: "127.0.0.1:1", IntervalS: 1, Scrapes: 11}}}
	for i := 0; i <= 10; i++ {
		srv.Targets[0].TimesMs = append(srv.Targets[0].TimesMs, t0+int64(i)*1000)
	}
	for lbl, r := range perSec {
		se := results.ServerSeries{Labels: map[string]string{"__name__": "reqs_total", "action": lbl, "job": "guard"}}
		for i := 0; i <= 10; i++ {
			se.Values = append(se.Values, results.ServerValue{V: r * float64(i), Present: true})
		}
		srv.Series = append(srv.Series, se)
	}
	if rss != nil {
		se := results.ServerSeries{Labels: map[string]string{"__name__": "rss_bytes", "job": "guard"}}
		for i := 0; i <= 10; i++ {
			se.Values = append(se.Values, results.ServerValue{V: rss[i], Present: true})
		}
		srv.Series = append(srv.Series, se)
	}
	return &results.Result{Scenario: "s", Engine: "vegeta", Server: srv, Summary: results.Summary{Requests: 1000, SuccessCount: 1000, SuccessRate: 1}}
}

func loadSet(t *testing.T, yml string) (*Set, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadFile(p)
}

func TestPromQLObjectives(t *testing.T) {
	r := serverResult(map[string]float64{"allowed": 100, "blocked": 20}, []float64{100e6, 100e6, 100e6, 100e6, 100e6, 250e6, 120e6, 100e6, 100e6, 100e6, 100e6})
	cases := []struct {
		yml, verdict, detail string
		value                float64
	}{
		{`[{promql: 'sum(rate(reqs_total[5m]))', threshold: "> 100"}]`, Pass, "", 120},
		{`[{promql: 'sum(rate(reqs_total[5m]))', threshold: "> 200"}]`, Fail, "", 120},
		// several series: the worst decides (blocked is the lowest for ">")
		{`[{promql: 'rate(reqs_total[1m])', threshold: ">= 50"}]`, Fail, `worst of 2 series: {action="blocked", job="guard"}`, 20},
		{`[{promql: 'rate(reqs_total{action="blocked"}[1m]) / on() group_left sum(rate(reqs_total[1m]))', threshold: "< 20%"}]`, Pass, "", 0.166667},
		// a gauge at the end vs across the run
		{`[{promql: 'rss_bytes / 1024 / 1024', threshold: "< 200"}]`, Pass, "", 95.367432},
		{`[{promql: 'rss_bytes / 1024 / 1024', threshold: "< 200", over: run}]`, Fail, "", 238.418579},
		{`[{promql: 'sum(rate(reqs_total[5m]))', threshold: "100..130"}]`, Pass, "", 120},
		// no such series: inconclusive, never a pass
		{`[{promql: 'rate(nope_total[1m])', threshold: "< 1"}]`, Inconclusive, "no series", 0},
		// 0/0 is NaN: inconclusive
		{`[{promql: 'sum(rate(reqs_total{action="x"}[1m])) / sum(rate(reqs_total{action="x"}[1m])) or vector(0)/0', threshold: "< 1"}]`, Inconclusive, "NaN", 0},
	}
	for _, c := range cases {
		set, err := loadSet(t, c.yml)
		if err != nil {
			t.Fatalf("%s: %v", c.yml, err)
		}
		rep := Evaluate(r, set, Options{})
		o := rep.Objectives[0]
		if o.Verdict != c.verdict || !strings.Contains(o.Detail, c.detail) || (c.verdict != Inconclusive && math.Abs(o.Value-c.value) > 0.001*c.value) {
			t.Errorf("%s: %s %v (%s), want %s %v (%s)", c.yml, o.Verdict, o.Value, o.Detail, c.verdict, c.value, c.detail)
		}
		if o.Unit != PromQLUnit || o.Scope.String() != "run" {
			t.Errorf("%s: unit %q scope %q", c.yml, o.Unit, o.Scope.String())
		}
	}
	// a result without server data: inconclusive, with the reason
	set, _ := loadSet(t, `[{promql: 'up', threshold: "> 0"}]`)
	rep := Evaluate(&results.Result{Summary: results.Summary{Requests: 10, SuccessCount: 10, SuccessRate: 1}}, set, Options{})
	if rep.Verdict != Inconclusive || !strings.Contains(rep.Objectives[0].Detail, "no /metrics") {
		t.Fatalf("no server data: %s %+v", rep.Verdict, rep.Objectives[0])
	}
}

func TestPromQLBudget(t *testing.T) {
	base := serverResult(map[string]float64{"allowed": 100}, nil)
	cur := serverResult(map[string]float64{"allowed": 80}, nil)
	set, err := loadSet(t, `[{promql: 'sum(rate(reqs_total[5m]))', budget: ">=-10%"}]`)
	if err != nil {
		t.Fatal(err)
	}
	o := Evaluate(cur, set, Options{Baseline: base}).Objectives[0]
	if o.Verdict != Fail || o.Baseline == nil || math.Abs(*o.Baseline-100) > 0.1 || !strings.Contains(o.Detail, "-20.0%") {
		t.Fatalf("%+v", o)
	}
}

// A bad expression is refused when the file is read (exit 2, before any
// load), naming the file, line and field.
func TestPromQLParseErrors(t *testing.T) {
	cases := map[string]string{
		"- {metric: p99, threshold: '< 1s'}\n- {promql: 'rate(x[5m]', threshold: '< 1'}\n": "line 2: objectives[1].promql:",
		"- {promql: 'x[5m]', threshold: '< 1'}\n":                                          "range vector",
		"- {promql: 'up', threshold: '< 1', metric: p99}\n":                                "not both",
		"- {promql: 'up', threshold: '< 1', phase: a}\n":                                   "whole run",
		"- {promql: 'up', threshold: '< 1', over: always}\n":                               "objectives[0].over",
		"- {promql: 'up', threshold: '< NaN'}\n":                                           "objectives[0].threshold",
		"- {promql: 'up'}\n":                                                               "threshold: missing",
		"- {metric: p99, threshold: '< 1s', over: run}\n":                                  "promql objectives only",
	}
	for yml, want := range cases {
		_, err := loadSet(t, yml)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "slo.yaml") {
			t.Errorf("%q: %v, want an error with %q and the file", yml, err, want)
		}
	}
}

// The server's own figures are metrics like the others: objectives on them
// gate, a run without them is inconclusive, and compare lists them.
func TestServerMetrics(t *testing.T) {
	withServer := func(p95, rss float64) *results.Result {
		r := serverResult(map[string]float64{"allowed": 1}, nil)
		r.Server.Summary = &results.ServerSummary{LatencyHistogram: "ddos_request_duration_seconds", P50Ms: 1, P95Ms: p95, P99Ms: 2 * p95, MaxRSSMB: rss, CPUCores: 0.5}
		return r
	}
	set, err := loadSet(t, "- {metric: server_p95, threshold: '< 100ms'}\n- {metric: server_rss_mb, threshold: '< 300'}\n")
	if err != nil {
		t.Fatal(err)
	}
	rep := Evaluate(withServer(40, 120), set, Options{})
	if rep.Verdict != Pass || rep.Objectives[0].Value != 40 || rep.Objectives[1].Unit != results.UnitMiB {
		t.Fatalf("%s %+v", rep.Verdict, rep.Objectives)
	}
	if rep := Evaluate(withServer(140, 120), set, Options{}); rep.Verdict != Fail {
		t.Fatalf("server p95 140 ms: %s", rep.Verdict)
	}
	bare := serverResult(map[string]float64{"allowed": 1}, nil)
	if rep := Evaluate(bare, set, Options{}); rep.Verdict != Inconclusive || !strings.Contains(rep.Objectives[0].Detail, "no server figure") {
		t.Fatalf("no server summary: %s %+v", rep.Verdict, rep.Objectives[0])
	}
	if _, err := loadSet(t, "- {metric: server_p95, threshold: '< 100ms', phase: a}\n"); err == nil || !strings.Contains(err.Error(), "whole run") {
		t.Fatalf("a phase-scoped server metric: %v", err)
	}
	if _, err := loadSet(t, "- {metric: server_rss_mb, threshold: '< 30%'}\n"); err == nil {
		t.Fatal("a percentage of MiB accepted")
	}
	base, cur := withServer(40, 100), withServer(50, 90)
	base.Summary, cur.Summary = results.Summary{}, results.Summary{}
	c, err := Compare([]*results.Result{base}, []*results.Result{cur}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]results.MetricDelta{}
	for _, d := range c.Metrics {
		if strings.HasPrefix(d.Metric, "server_") {
			found[d.Metric] = d
		}
	}
	if d, ok := found["server_p95"]; !ok || d.DeltaPct != 25 || d.ImprovementPct != -25 || d.Verdict != NotJudged || d.Scope.String() != "run" {
		t.Fatalf("server_p95 row %+v (rows %v)", d, found)
	}
	if d := found["server_rss_mb"]; d.ImprovementPct != 10 {
		t.Fatalf("server_rss_mb row %+v", d)
	}
}
