package slo

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo/promql"
)

// Verdicts (the words are results.Verdict*).
const (
	Pass         = results.VerdictPass
	Fail         = results.VerdictFail
	Inconclusive = results.VerdictInconclusive
	Warning      = results.VerdictWarning
)

// Options carry what an evaluation may compare against.
type Options struct {
	// Baseline, when set, enables the objectives' regression budgets.
	Baseline *results.Result
	// Significant, when set, tells whether the change of a metric between
	// Baseline and the result is statistically significant. A budget broken
	// by a change that is not significant does not fail: noise never fails
	// a gate. When nil, every change counts.
	Significant func(metric, phase, endpoint string) (significant bool, known bool)
	// Prometheus, when set, evaluates PromQL objectives (a running
	// Prometheus over the run's window) instead of the samples the result
	// kept (Result.Server).
	Prometheus promql.Source
	// BudgetWindow is the SLO window the error budget is expressed against
	// (default DefaultBudgetWindow, 30 days).
	BudgetWindow time.Duration

	current *results.Result // the result being evaluated (set by Evaluate)
}

// baselineMismatch lists why the baseline cannot judge r's budgets: it is
// from another scenario or machine (see Mismatches). Nil without budgets.
func baselineMismatch(r *results.Result, set *Set, opts Options) []string {
	if opts.Baseline == nil {
		return nil
	}
	for i := range set.Objectives {
		if set.Objectives[i].budget != nil {
			return Mismatches([]*results.Result{opts.Baseline}, []*results.Result{r})
		}
	}
	return nil
}

// Evaluate checks r against set and returns the verdict to store in r.SLO.
//
// Run verdict: a failed key objective fails the run; otherwise the weighted
// score (see Score) gives pass (≥ scoring.pass), warning (≥ scoring.warning)
// or fail. The score is judged as it is shown, floored to one decimal, so it
// is never rounded across a mark; with the default marks (100) any failed
// objective fails the run. A run that passes on its score although an
// objective failed keeps that failure in its report (a reason, and
// SLOReport.Headline). If nothing failed but some objective could not be
// judged, the run is inconclusive. An interrupted run is inconclusive
// whatever the objectives say; so is a run whose generator could not hold
// the asked rate, unless it fails on the target's own figures (targetView):
// a hung target that pins every worker fails, it is not the generator's fault.
func Evaluate(r *results.Result, set *Set, opts Options) results.SLOReport {
	rep := results.SLOReport{Objectives: []results.ObjectiveResult{}, Definition: set.Definition()}
	opts.current = r
	if !(set.Scoring.Pass > 0) { // a Set built in code without marks: the default
		scored := *set
		scored.Scoring = Scoring{Pass: 100, Warning: 100}
		set = &scored
	}
	var wPass, wFail float64
	keyFailed, anyInconclusive := false, false
	for i := range set.Objectives {
		o := &set.Objectives[i]
		or := evaluateOne(r, o, opts)
		switch or.Verdict {
		case Pass:
			wPass += o.Weight
		case Fail:
			wFail += o.Weight
			if o.Key {
				keyFailed = true
			}
		default:
			anyInconclusive = true
		}
		rep.Objectives = append(rep.Objectives, or)
	}
	if wPass+wFail > 0 {
		score := Score(wPass, wFail)
		rep.Score = &score
		rep.PassMark, rep.WarningMark = set.Scoring.Pass, set.Scoring.Warning
	}
	switch {
	case keyFailed:
		rep.Verdict = Fail
		rep.Reasons = append(rep.Reasons, "a key objective failed")
	case rep.Score != nil && *rep.Score < set.Scoring.Warning:
		rep.Verdict = Fail
	case rep.Score != nil && *rep.Score < set.Scoring.Pass:
		rep.Verdict = Warning
	case anyInconclusive:
		rep.Verdict = Inconclusive
		rep.Reasons = append(rep.Reasons, "some objectives could not be judged")
	case len(set.Objectives) == 0:
		rep.Verdict = Inconclusive
		rep.Reasons = append(rep.Reasons, "no objectives to check")
	default:
		rep.Verdict = Pass
	}
	if reason := unjudgedErrors(r, set); reason != "" {
		rep.Reasons = append(rep.Reasons, reason)
	}
	if failed := rep.FailingObjectives(); failed > 0 && (rep.Verdict == Pass || rep.Verdict == Warning || rep.Verdict == Inconclusive) {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("%d of %d objectives failed (weighted score %.1f, pass mark %g)",
			failed, len(rep.Objectives), *rep.Score, set.Scoring.Pass))
	}
	rep.ErrorBudget = ErrorBudgets(r, set, opts.BudgetWindow)
	if reasons := baselineMismatch(r, set, opts); len(reasons) > 0 {
		// DESIGN: a baseline from another scenario or machine is exit 3,
		// unless the run failed on its own.
		rep.Reasons = append(rep.Reasons, "the baseline is not comparable ("+strings.Join(reasons, "; ")+"): regression budgets not checked")
		if rep.Verdict == Pass || rep.Verdict == Warning {
			rep.Verdict = Inconclusive
		}
	}
	if r.Generator.Saturated {
		rep.Reasons = append(rep.Reasons, "load generator could not hold the asked rate: "+strings.Join(r.Generator.Reasons, "; "))
		// Out of descriptors or ports, the generator itself is broken: never
		// judge the target then. Otherwise a failure on the target's own
		// figures stands.
		if rep.Verdict == Fail && r.Summary.GeneratorErrors == 0 && failsOnItsOwn(r, set, opts) {
			rep.Reasons = append(rep.Reasons, "the target fails even on its own figures (latency from the actual send, errors of the requests it got): the generator's limits do not explain the failure")
		} else {
			rep.Verdict = Inconclusive
		}
	}
	if r.Partial {
		rep.Reasons = append(rep.Reasons, "the run was interrupted: the result is partial")
		rep.Verdict = Inconclusive
	}
	return rep
}

// unjudgedErrors reports the run's errors when no objective judges the
// run's error or success rate, so a latency-only SLO never hides failed
// requests: "" when there were none or an objective looks at them.
func unjudgedErrors(r *results.Result, set *Set) string {
	s := &r.Summary
	if s.ErrorCount == 0 {
		return ""
	}
	for i := range set.Objectives {
		o := &set.Objectives[i]
		if o.Phase == "" && o.Endpoint == "" && (o.Metric == "error_rate" || o.Metric == "success_rate") {
			return ""
		}
	}
	return fmt.Sprintf("error rate %.2f%% (%d of %d requests failed); no objective checks the error rate",
		100*s.ErrorRate, s.ErrorCount, s.Requests)
}

// Score is the weighted score of a run, 100·Σw(pass)/Σw(pass+fail),
// floored (never rounded) to one decimal: 2000 passed against 1 failed is
// 99.95, scored 99.9. A run with any failed weight scores at most 99.9, even
// when floating point rounds the ratio to 1.
func Score(wPass, wFail float64) float64 {
	if wPass+wFail <= 0 {
		return 0
	}
	// The 1e-9 absorbs floating-point error in sums of decimal weights
	// (0.1+0.2+0.3 against 0.4 is 60, not 59.9), far below a tenth.
	score := math.Floor(1000*wPass/(wPass+wFail)+1e-9) / 10
	if wFail > 0 && score > 99.9 {
		score = 99.9
	}
	return score
}

// minSamples is how many requests a metric needs before it can be judged:
// a percentile q needs n·(1−q) ≥ 5, so that at least five requests lie
// beyond it (p99 needs 500, p99.9 needs 5000), as benchstat refuses to
// over-claim on too few samples.
func minSamples(metric string) int64 {
	q := quantileOf(metric)
	if q == 0 {
		return 1
	}
	return int64(math.Ceil(5/(1-q/100) - 1e-9))
}

// quantileOf is the percentile of a latency percentile metric (99 for
// p99), 0 for any other (results.Metric).
func quantileOf(metric string) float64 {
	if row := results.LookupMetric(metric); row != nil {
		return row.Quantile
	}
	return 0
}

// scopeOf finds the summary an objective is about.
func scopeOf(r *results.Result, o *Objective) (*results.Summary, results.Scope, error) {
	switch {
	case o.Phase != "":
		sc := results.PhaseScope(o.Phase)
		p := r.Phase(o.Phase)
		if p == nil {
			return nil, sc, fmt.Errorf("the result has no phase %q", o.Phase)
		}
		return &p.Summary, sc, nil
	case o.Endpoint != "":
		sc := results.EndpointScope(o.Endpoint)
		e := r.Endpoint(o.Endpoint)
		if e == nil {
			return nil, sc, fmt.Errorf("the result has no endpoint %q", o.Endpoint)
		}
		return &e.Summary, sc, nil
	}
	return &r.Summary, results.RunScope(), nil
}

// Value returns a metric of a summary in its unit (ms, fraction or req/s);
// NaN for a metric the summary does not keep (results.Metric).
func Value(s *results.Summary, metric string) float64 {
	return results.LookupMetric(metric).Value(s)
}

// scopeValue reads a metric, from the encoded histogram when the summary
// does not keep that percentile.
func scopeValue(r *results.Result, o *Objective, s *results.Summary) float64 {
	if o.Metric == "p75" {
		set := r.Histograms.Run
		if o.Phase != "" {
			set = r.Histograms.Phases[o.Phase]
		} else if o.Endpoint != "" {
			set = r.Histograms.Endpoints[o.Endpoint]
		}
		if h, err := results.DecodeHistogram(set.Latency); err == nil {
			return results.QuantileMs(h, 75)
		}
	}
	return results.LookupMetric(o.Metric).FromResult(r, s)
}

func evaluateOne(r *results.Result, o *Objective, opts Options) results.ObjectiveResult {
	if o.PromQL != "" {
		return evaluatePromQL(r, o, opts)
	}
	unit := MetricUnit(o.Metric)
	out := results.ObjectiveResult{Name: o.Name, Objective: o.String(), Unit: unit, Key: o.Key, Weight: o.Weight, Bounds: o.bounds()}
	s, scope, err := scopeOf(r, o)
	out.Scope = scope
	if err != nil {
		out.Verdict, out.Detail = Inconclusive, err.Error()
		return out
	}
	v := scopeValue(r, o, s)
	out.Value = round(v)
	server := results.LookupMetric(o.Metric).Server != nil
	if server && math.IsNaN(v) {
		out.Verdict, out.Detail = Inconclusive, "no server figure: the run scraped no /metrics endpoint, or the target does not expose it"
		return out
	}
	if !server && unit == unitMs && s.Requests > 0 && s.SuccessCount+s.BlockedCount == 0 {
		// The latencies are those of failures (a refused connection
		// answers in microseconds): they say nothing of the service's speed.
		out.Verdict = Fail
		out.Detail = fmt.Sprintf("no successful responses: all %d requests failed", s.Requests)
		return out
	}
	if need := minSamples(o.Metric); s.Requests < need {
		out.Verdict = Inconclusive
		out.Detail = fmt.Sprintf("need >= %d requests to judge %s, have %d", need, o.Metric, s.Requests)
		return out
	}
	verdict, detail := Pass, ""
	if o.op != "" {
		cmp := v
		if o.relative {
			if s.TargetRateRPS <= 0 {
				out.Verdict, out.Detail = Inconclusive, "no asked rate to compare throughput with"
				return out
			}
			cmp = v / s.TargetRateRPS
			detail = fmt.Sprintf("%.1f%% of the asked %.0f req/s", 100*cmp, s.TargetRateRPS)
		}
		if !holds(o, cmp) {
			verdict = Fail
		}
	}
	if o.budget != nil {
		bv, bdetail, bverdict := checkBudget(o, v, opts, func(base *results.Result) (float64, error) {
			bs, _, err := scopeOf(base, o)
			if err != nil {
				return 0, err
			}
			return scopeValue(base, o, bs), nil
		})
		verdict, detail = withBudget(&out, o, o.Metric, verdict, detail, bv, bdetail, bverdict)
	}
	out.Verdict, out.Detail = verdict, detail
	return out
}

// withBudget folds a regression budget's outcome into an objective's
// verdict and detail, and draws its bound.
func withBudget(out *results.ObjectiveResult, o *Objective, metric, verdict, detail string, bv *float64, bdetail, bverdict string) (string, string) {
	out.Baseline = bv
	if bv != nil {
		out.Bounds = append(out.Bounds, results.Bound{Metric: metric, Op: o.budget.op, Value: round(*bv * (1 + o.budget.pct/100)), Budget: o.Budget})
	}
	detail = joinDetail(detail, bdetail)
	switch {
	case bverdict == Fail:
		verdict = Fail
	case bverdict == Inconclusive && verdict == Pass && o.op == "":
		verdict = Inconclusive
	}
	return verdict, detail
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func holds(o *Objective, v float64) bool {
	switch o.op {
	case "<":
		return v < o.value
	case "<=":
		return v <= o.value
	case ">":
		return v > o.value
	case ">=":
		return v >= o.value
	case "range":
		return v >= o.lo && v <= o.hi
	}
	return false
}

// checkBudget applies a relative budget: change = (v − base)/base·100 %
// must satisfy the budget's comparison. A broken budget whose change is not
// statistically significant passes, with the reason in the detail.
// baseline reads the objective's value from the baseline result.
func checkBudget(o *Objective, v float64, opts Options, baseline func(*results.Result) (float64, error)) (*float64, string, string) {
	if opts.Baseline == nil {
		return nil, "no baseline: budget " + o.Budget + " not checked", Inconclusive
	}
	if reasons := Mismatches([]*results.Result{opts.Baseline}, []*results.Result{opts.current}); len(reasons) > 0 {
		return nil, "baseline not comparable: " + strings.Join(reasons, "; "), Inconclusive
	}
	bv, err := baseline(opts.Baseline)
	if err != nil {
		return nil, "baseline: " + err.Error(), Inconclusive
	}
	bvr := round(bv)
	if bv == 0 {
		if v == 0 {
			return &bvr, "baseline and run both 0", Pass
		}
		return &bvr, "baseline value is 0: relative budget not defined", Inconclusive
	}
	change := (v - bv) / math.Abs(bv) * 100
	ok := change <= o.budget.pct
	if o.budget.op == ">=" {
		ok = change >= o.budget.pct
	}
	detail := fmt.Sprintf("%+.1f%% vs baseline %g (budget %s)", change, bvr, o.Budget)
	if ok {
		return &bvr, detail, Pass
	}
	if opts.Significant != nil {
		if sig, known := opts.Significant(o.Metric, o.Phase, o.Endpoint); known && !sig {
			return &bvr, detail + ", but the change is not significant", Pass
		}
	}
	return &bvr, detail, Fail
}

func round(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1e6) / 1e6
}
