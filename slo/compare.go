package slo

import (
	"errors"
	"fmt"
	"math"

	"github.com/slogate/slogate/results"
)

// CompareMetrics are the metrics `slogate compare` reports, in order.
var CompareMetrics = []string{"p50", "p90", "p95", "p99", "p999", "max", "mean", "throughput", "error_rate", "block_rate"}

// Comparison verdicts of one metric.
const (
	Better    = results.ChangeBetter
	Worse     = results.ChangeWorse
	NoChange  = results.ChangeNoChange
	NotJudged = Inconclusive
)

// CompareOptions tune Compare. The zero value is usable.
type CompareOptions struct {
	// Alpha is the significance level (default 0.05): the bootstrap CI is a
	// 1−Alpha interval, the U test's p must be below Alpha.
	Alpha float64
	// Resamples is the number of bootstrap resamples (default 2000).
	Resamples int
	// Seed makes the bootstrap deterministic (default 1): the same inputs
	// always give the same intervals.
	Seed uint64
	// MinIntervals is the fewest per-second intervals a side needs for a
	// bootstrap (default 5).
	MinIntervals int
	// Force compares runs of different scenarios or environments (the
	// differences become warnings instead of an error).
	Force bool
	// ABRun says the sides are the two configurations of one A/B run
	// (slogate run --compare-with, --base-env): they differ on purpose, so
	// they are compared as with Force, and a difference is noted as what
	// the sides are ("A/B sides: ...") rather than as forced.
	ABRun bool
	// BaseFiles and NewFiles name the inputs in the output (optional).
	BaseFiles, NewFiles []string
}

func (o CompareOptions) withDefaults() CompareOptions {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = 0.05
	}
	if o.Resamples <= 0 {
		o.Resamples = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MinIntervals <= 0 {
		o.MinIntervals = 5
	}
	return o
}

// A Test judges, metric by metric, whether NEW runs differ from BASE runs
// over one scope (the run, a phase or an endpoint), in the manner of
// benchstat's Assumption: each row gets the base and new figures, the
// interval of the relative change when one can be bounded, and a verdict,
// or a note saying what is missing to judge it. BlockBootstrap compares one
// run per side, MannWhitney repeated runs.
type Test interface {
	// Method says how the test judges, for the comparison's header.
	Method() string
	// Compare returns one row per metric, in the order given.
	Compare(base, cur []*results.Result, sc results.Scope, metrics []string) []results.MetricDelta
}

// bootstrap is the one-run-per-side test with these options.
func (o CompareOptions) bootstrap() BlockBootstrap {
	return BlockBootstrap{Alpha: o.Alpha, Resamples: o.Resamples, Seed: o.Seed, MinIntervals: o.MinIntervals}
}

// Compare diffs NEW runs against BASE runs, per metric (CompareMetrics) and
// per scope (the run, every measured phase and every endpoint present in
// all runs).
//
// One run per side is judged by BlockBootstrap (over the per-second
// intervals), several runs on a side (slogate run --repeat) by MannWhitney
// (across runs, as benchstat's AssumeNothing does): see their doc comments
// for the maths. Either says why a row is not judged (max from one run,
// too few intervals, requests or runs) instead of over-claiming.
//
// Base and new values are the result files' own figures (from the full HDR
// histograms), so they match what `slogate run` printed.
func Compare(base, cur []*results.Result, opts CompareOptions) (*results.Comparison, error) {
	if len(base) == 0 || len(cur) == 0 {
		return nil, errors.New("compare needs at least one result on each side")
	}
	opts = opts.withDefaults()
	cmp := &results.Comparison{
		Schema:  results.ComparisonSchema,
		Base:    runRef("base", base, opts.BaseFiles),
		New:     runRef("new", cur, opts.NewFiles),
		Alpha:   opts.Alpha,
		Metrics: []results.MetricDelta{},
	}
	if reasons := Mismatches(base, cur); len(reasons) > 0 {
		if !opts.Force && !opts.ABRun {
			return nil, &MismatchError{Reasons: reasons}
		}
		lead := "compared with --force although "
		if opts.ABRun {
			lead = "A/B sides: "
		}
		for _, r := range reasons {
			cmp.Warn(results.WarningMismatch, lead+r)
		}
	}
	reliabilityWarnings(cmp, "base", base)
	reliabilityWarnings(cmp, "new", cur)

	scopes := commonScopes(append(append([]*results.Result{}, base...), cur...))
	var test Test = opts.bootstrap()
	if len(base) > 1 || len(cur) > 1 {
		test = MannWhitney{Alpha: opts.Alpha}
		if MinMannWhitneyP(len(base), len(cur)) > opts.Alpha {
			cmp.Warn(results.WarningTooFewRuns, fmt.Sprintf(
				"need >= %d runs per side to detect a difference at alpha level %g (have %d and %d): no metric is judged",
				RunsNeeded(opts.Alpha), opts.Alpha, len(base), len(cur)))
		}
	}
	cmp.Method = test.Method()
	for _, sc := range scopes {
		metrics := CompareMetrics
		if sc.Kind == results.ScopeRun {
			metrics = append(append([]string{}, metrics...), serverMetricsOfAll(base, cur)...)
		}
		cmp.Metrics = append(cmp.Metrics, test.Compare(base, cur, sc, metrics)...)
	}
	return cmp, nil
}

func runRef(label string, rs []*results.Result, files []string) results.RunRef {
	ref := results.RunRef{Label: label, Files: files, Scenario: rs[0].Scenario, Runs: len(rs), StartedAt: rs[0].StartedAt}
	for _, r := range rs[1:] {
		if r.StartedAt.Before(ref.StartedAt) {
			ref.StartedAt = r.StartedAt
		}
	}
	return ref
}

// scopeObjective is an objective on metric over scope s.
func scopeObjective(s results.Scope, metric string) *Objective {
	o := &Objective{Metric: metric}
	switch s.Kind {
	case results.ScopePhase:
		o.Phase = s.Name
	case results.ScopeEndpoint:
		o.Endpoint = s.Name
	}
	return o
}

// scopeMetric reads a metric of a scope, and whether the scope exists.
func scopeMetric(s results.Scope, r *results.Result, metric string) (v float64, requests int64, ok bool) {
	o := scopeObjective(s, metric)
	sum, _, err := scopeOf(r, o)
	if err != nil {
		return 0, 0, false
	}
	return scopeValue(r, o, sum), sum.Requests, true
}

// scopeIntervals returns the per-second intervals of a scope: all of them
// for the run, those whose middle falls in the phase for a phase, none for
// an endpoint (the recorder keeps intervals for the run only).
func scopeIntervals(s results.Scope, r *results.Result) []results.Interval {
	switch s.Kind {
	case results.ScopeRun:
		return r.Intervals
	case results.ScopePhase:
		p := r.Phase(s.Name)
		if p == nil {
			return nil
		}
		var out []results.Interval
		for _, iv := range r.Intervals {
			mid := float64(iv.TS) + 0.5
			if mid >= p.StartS && mid < p.StartS+p.DurationS {
				out = append(out, iv)
			}
		}
		return out
	}
	return nil
}

// commonScopes lists the run, the measured phases and the endpoints present
// in every result, in the first result's order.
func commonScopes(rs []*results.Result) []results.Scope {
	scopes := []results.Scope{results.RunScope()}
	for _, p := range rs[0].Phases {
		if p.Warmup {
			continue
		}
		all := true
		for _, r := range rs[1:] {
			if q := r.Phase(p.Name); q == nil || q.Warmup {
				all = false
			}
		}
		if all {
			scopes = append(scopes, results.PhaseScope(p.Name))
		}
	}
	for _, e := range rs[0].Endpoints {
		all := true
		for _, r := range rs[1:] {
			if r.Endpoint(e.Name) == nil {
				all = false
			}
		}
		if all {
			scopes = append(scopes, results.EndpointScope(e.Name))
		}
	}
	return scopes
}

// higherIsBetter tells the direction of a metric (results.Metric): under
// an attack scenario read block_rate's direction the other way.
func higherIsBetter(metric string) bool {
	row := results.LookupMetric(metric)
	return row != nil && row.HigherIsBetter
}

// bootstrappable tells whether the single-run bootstrap can bound a metric.
func bootstrappable(metric string) bool {
	row := results.LookupMetric(metric)
	return row != nil && row.Bootstrappable
}

func pctChange(base, cur float64) float64 {
	if base == 0 {
		return 0
	}
	return (cur - base) / math.Abs(base) * 100
}

func round2(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*100) / 100
}

// newDelta fills the point figures of a row.
func newDelta(sc results.Scope, metric string, b, n float64) results.MetricDelta {
	d := results.MetricDelta{
		Metric: metric, Scope: sc, Unit: MetricUnit(metric),
		Base: round(b), New: round(n), DeltaPct: round2(pctChange(b, n)),
	}
	d.ImprovementPct = improvement(metric, d.DeltaPct)
	return d
}

func improvement(metric string, deltaPct float64) float64 {
	if deltaPct == 0 {
		return 0
	}
	if higherIsBetter(metric) {
		return deltaPct
	}
	return -deltaPct
}

// judge sets significant and the verdict from the CI (single run) or p.
func judge(d *results.MetricDelta, significant bool, direction float64) {
	d.Significant = significant
	switch {
	case !significant:
		d.Verdict = NoChange
	case (direction > 0) == higherIsBetter(d.Metric):
		d.Verdict = Better
	default:
		d.Verdict = Worse
	}
}

// serverMetricsOfAll are the server-side metrics every run of both sides
// has (the server's own figures, compared for the run scope only).
func serverMetricsOfAll(base, cur []*results.Result) []string {
	var out []string
	for _, m := range results.ServerMetrics {
		all := true
		for _, r := range append(append([]*results.Result{}, base...), cur...) {
			if math.IsNaN(results.LookupMetric(m).FromResult(r, &r.Summary)) {
				all = false
				break
			}
		}
		if all {
			out = append(out, m)
		}
	}
	return out
}
