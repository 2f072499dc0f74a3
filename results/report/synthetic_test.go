package report

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
)

// syntheticRun builds a result through resultstest (the real recorder): a
// 3 s warm-up ramp, a 10 s steady phase at 100 req/s and a 10 s burst phase
// (400 req/s in seconds 16 and 20). Latency is lognormal around base;
// during bursts a fifth of the requests are blocked (429), 2 % fail (503)
// and latency climbs, and second 19 stalls (up to ~900 ms) when stall is set.
func syntheticRun(t testing.TB, base time.Duration, seed uint64, stall bool) *results.Result {
	t.Helper()
	rate := func(at time.Duration) float64 {
		s := int(at / time.Second)
		switch {
		case s < 3:
			return 20 + 80*at.Seconds()/3
		case s == 16 || s == 20:
			return 400
		}
		return 100
	}
	var sent int64
	for sec := 0; sec < 23; sec++ {
		sent += int64(rate(time.Duration(sec)*time.Second + time.Second/2))
	}
	shape := func(req resultstest.Request, s *results.Sample) {
		rng := req.Rand
		burst := req.Second == 16 || req.Second == 20
		lat := float64(s.Latency)
		if burst {
			lat *= 1 + 4*rng.Float64()*rng.Float64()
		}
		if stall && req.Second == 19 {
			lat += float64(900*time.Millisecond) * (1 - float64(req.InSecond)/float64(req.PerSecond))
		}
		s.Latency, s.ServiceLatency, s.Lateness = time.Duration(lat), time.Duration(lat*0.95), 200*time.Microsecond
		switch u := rng.Float64(); {
		case burst && u < 0.02:
			s.Status, s.Outcome = 503, results.OutcomeError
		case burst && u < 0.22:
			s.Status, s.Outcome = 429, results.OutcomeBlocked
		}
	}
	return resultstest.New(t,
		resultstest.Scenario("synthetic-guard"),
		resultstest.StartedAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		resultstest.Environment(results.Environment{Hostname: "ci-runner", OS: "linux", Arch: "amd64", CPUs: 2, Target: "http://127.0.0.1:8080", TargetService: "guard",
			TargetEnv: map[string]string{"ENABLE_MODEL_CACHE": "true"}}),
		resultstest.Generator(results.Generator{MaxWorkers: 32, PlannedReqs: sent, SentReqs: sent, AchievedRatio: 1}),
		resultstest.Phases(
			results.PhaseSpec{Name: "warm-up", Kind: "ramp", Warmup: true, Start: 0, Duration: 3 * time.Second},
			results.PhaseSpec{Name: "steady", Kind: "constant", Start: 3 * time.Second, Duration: 10 * time.Second},
			results.PhaseSpec{Name: "burst", Kind: "burst", Start: 13 * time.Second, Duration: 10 * time.Second},
		),
		resultstest.Endpoints("home", "api"),
		resultstest.RateFunc(rate),
		resultstest.Lognormal(float64(base)/float64(time.Millisecond), 0.25),
		resultstest.Rand(rand.New(rand.NewPCG(seed, 42))),
		resultstest.Shape(shape),
	)
}

// withSLO attaches an SLO report as package slo would write it: a key p99
// objective that fails, a phase-scoped one that passes, an inconclusive
// p99.9 and a failed error rate.
func withSLO(r *results.Result) *results.Result {
	s := &r.Summary
	steady := r.Phase("steady")
	score := 50.0
	burn := s.ErrorRate / 0.001
	r.SLO = &results.SLOReport{
		ErrorBudget: []results.ErrorBudget{{
			SLI: "availability", Objective: "error_rate < 0.1%", Target: 0.999, Budget: 0.001,
			BadEvents: s.ErrorCount, TotalEvents: s.Requests, BadRatio: s.ErrorRate, BurnRate: burn,
			WindowDays: 30, RunSeconds: 20, BudgetSpent: burn * 20 / (30 * 86400), ExhaustedInHours: 30 * 24 / burn,
		}},
		Verdict: "fail",
		Score:   &score,
		Reasons: []string{"key objective p99 < 200ms failed"},
		Objectives: []results.ObjectiveResult{
			{Name: "p50", Objective: "p50 < 50ms", Scope: results.RunScope(), Value: s.LatencyMs.P50, Unit: "ms", Verdict: "pass", Weight: 1, Bounds: []results.Bound{{Metric: "p50", Op: "<", Value: 50}}},
			{Name: "p99", Objective: "p99 < 200ms", Scope: results.RunScope(), Value: s.LatencyMs.P99, Unit: "ms", Verdict: "fail", Key: true, Weight: 2, Bounds: []results.Bound{{Metric: "p99", Op: "<", Value: 200}}},
			{Name: "p99@phase:steady", Objective: "p99 < 40ms", Scope: results.PhaseScope("steady"), Value: steady.LatencyMs.P99, Unit: "ms", Verdict: "pass", Weight: 1, Bounds: []results.Bound{{Metric: "p99", Op: "<", Value: 40}}},
			{Name: "p999", Objective: "p999 < 300ms", Scope: results.RunScope(), Value: s.LatencyMs.P999, Unit: "ms", Verdict: "inconclusive", Weight: 1,
				Detail: "need >= 5000 requests to judge p999, have 2600", Bounds: []results.Bound{{Metric: "p999", Op: "<", Value: 300}}},
			{Name: "max", Objective: "max < 5s", Scope: results.RunScope(), Value: s.LatencyMs.Max, Unit: "ms", Verdict: "pass", Weight: 1, Bounds: []results.Bound{{Metric: "max", Op: "<", Value: 5000}}},
			{Name: "error_rate", Objective: "error_rate < 0.1%", Scope: results.RunScope(), Value: s.ErrorRate, Unit: "fraction", Verdict: "fail", Weight: 1, Bounds: []results.Bound{{Metric: "error_rate", Op: "<", Value: 0.001}}},
			{Name: "block_rate", Objective: "block_rate < 10% | odd", Scope: results.RunScope(), Value: s.BlockRate, Unit: "fraction", Verdict: "pass", Weight: 1},
		},
	}
	return r
}

// syntheticComparison is a comparison as slo.Compare would fill it: p50
// and p99 about 50 % better and significant, throughput unchanged, p999
// not judged.
func syntheticComparison(base, cur *results.Result) *results.Comparison {
	p := 0.003
	c := &results.Comparison{
		Schema: results.ComparisonSchema,
		Base:   results.RunRef{Label: "base", Files: []string{"base.json"}, Scenario: base.Scenario, Runs: 1, StartedAt: base.StartedAt},
		New:    results.RunRef{Label: "new", Files: []string{"new.json"}, Scenario: cur.Scenario, Runs: 1, StartedAt: cur.StartedAt},
		Method: "circular block bootstrap over per-second intervals", Alpha: 0.05,
		Warnings: []string{"target env differs: DELAY_MS 20 → 10"},
	}
	add := func(metric string, scope results.Scope, unit string, b, n, lo, hi float64, verdict, note string) {
		d := results.MetricDelta{Metric: metric, Scope: scope, Unit: unit, Base: b, New: n, CILowPct: lo, CIHighPct: hi, Verdict: verdict, Note: note}
		if b != 0 {
			d.DeltaPct = 100 * (n/b - 1)
		}
		d.ImprovementPct = -d.DeltaPct
		if metric == "throughput" {
			d.ImprovementPct = d.DeltaPct
		}
		d.Significant = verdict == "better" || verdict == "worse"
		if d.Significant {
			d.PValue = &p
		}
		c.Metrics = append(c.Metrics, d)
	}
	add("p50", results.RunScope(), "ms", base.Summary.LatencyMs.P50, cur.Summary.LatencyMs.P50, -53, -47, "better", "")
	add("p99", results.RunScope(), "ms", base.Summary.LatencyMs.P99, cur.Summary.LatencyMs.P99, -60, -35, "better", "")
	add("p999", results.RunScope(), "ms", base.Summary.LatencyMs.P999, cur.Summary.LatencyMs.P999, 0, 0, "inconclusive", "need >= 5000 requests per side to judge p999, have 2600 and 2600")
	add("throughput", results.RunScope(), "req/s", base.Summary.ThroughputRPS, cur.Summary.ThroughputRPS, -3, 4, "no change", "")
	add("error_rate", results.PhaseScope("burst"), "fraction", 0.02, 0.03, 10, 90, "worse", "")
	return c
}
