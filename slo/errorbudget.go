package slo

import (
	"math"
	"time"

	"github.com/slogate/slogate/results"
)

// DefaultBudgetWindow is the SLO window error budgets are expressed
// against when none is given: 30 days, sloth's and the SRE workbook's
// default period.
const DefaultBudgetWindow = 30 * 24 * time.Hour

// ErrorBudgets translates a run into error-budget terms for each SLI its
// objectives define at run scope (sloth / SRE workbook definitions):
//
//   - availability, from `error_rate < X`: target = 1 − X (error_rate <
//     0.1 % is a 99.9 % SLO), bad events = errors. Blocked requests do not
//     burn the budget: a guard answering 429 is doing its job (DESIGN.md).
//   - latency, from `pQ < T`: target = Q % of requests within T (p99 <
//     200 ms is "99 % of requests within 200 ms"), bad events = requests
//     slower than T, counted from the run's HDR histogram.
//
// For each: budget B = 1 − target; burn rate BR = bad ratio / B (1 spends
// exactly the budget over the window); the run's budget spent = BR × run
// duration / window, the share of a window's budget this run would have
// consumed as production traffic; the budget lasts window / BR at this
// rate. An objective whose target leaves no budget (error_rate <= 0) gives
// no entry: its burn rate is undefined.
func ErrorBudgets(r *results.Result, set *Set, window time.Duration) []results.ErrorBudget {
	if window <= 0 {
		window = DefaultBudgetWindow
	}
	runSeconds := r.MeasuredSeconds(results.PhaseTime)
	var out []results.ErrorBudget
	var hist []barCount // decoded once, for latency SLIs
	for i := range set.Objectives {
		o := &set.Objectives[i]
		if o.Phase != "" || o.Endpoint != "" || (o.op != "<" && o.op != "<=") || o.relative {
			continue
		}
		var eb results.ErrorBudget
		switch q := quantileOf(o.Metric); {
		case o.Metric == "error_rate":
			eb = results.ErrorBudget{SLI: "availability", Target: 1 - o.value, BadEvents: r.Summary.ErrorCount}
		case q > 0:
			if r.Summary.SuccessCount+r.Summary.BlockedCount == 0 {
				// No answers: the histogram holds only failures, whose
				// speed is no latency budget ("lasts forever" would lie).
				continue
			}
			if hist == nil {
				hist = runHistogram(r)
			}
			eb = results.ErrorBudget{SLI: "latency", Target: q / 100, BadEvents: slowerThan(hist, o.value, o.op == "<")}
		default:
			continue
		}
		eb.Objective = o.String()
		eb.Budget = round(1 - eb.Target)
		eb.Target = round(eb.Target)
		if eb.Budget <= 0 {
			continue
		}
		eb.TotalEvents = r.Summary.Requests
		if eb.TotalEvents > 0 {
			eb.BadRatio = float64(eb.BadEvents) / float64(eb.TotalEvents)
		}
		burn := eb.BadRatio / eb.Budget
		eb.BurnRate = round(burn)
		eb.BadRatio = round(eb.BadRatio)
		eb.WindowDays = round(window.Hours() / 24)
		eb.RunSeconds = round(runSeconds)
		eb.BudgetSpent = round(burn * runSeconds / window.Seconds())
		if burn > 0 {
			eb.ExhaustedInHours = math.Round(window.Hours()/burn*100) / 100
		}
		out = append(out, eb)
	}
	return out
}

type barCount struct {
	toMs  float64 // highest equivalent value of the bucket, ms
	count int64
}

func runHistogram(r *results.Result) []barCount {
	h, err := results.DecodeHistogram(r.Histograms.Run.Latency)
	if err != nil {
		return []barCount{}
	}
	out := []barCount{}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out = append(out, barCount{toMs: float64(b.To) / 1000, count: b.Count})
		}
	}
	return out
}

// slowerThan counts requests that break a latency threshold, bucket by
// bucket with the value HdrHistogram reports for the bucket (its highest
// equivalent value), so the count agrees with the objective's percentile
// verdict: `< T` is broken at ≥ T, `<= T` above T.
func slowerThan(hist []barCount, thresholdMs float64, strict bool) int64 {
	var n int64
	for _, b := range hist {
		if b.toMs > thresholdMs || (strict && b.toMs == thresholdMs) {
			n += b.count
		}
	}
	return n
}
