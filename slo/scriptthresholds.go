package slo

import (
	"strings"

	"github.com/slogate/slogate/results"
)

// EvaluateWithThresholds is Evaluate plus the k6 script's own thresholds
// recorded in r (results.ScriptThreshold), so that a script's criteria gate
// the run as they gate stock k6 (exit 99 there, fail here):
//
//   - each threshold becomes an objective "k6: METRIC EXPR" with k6's
//     verdict and the value it compared; a failed one is a key objective,
//     so it fails the run even when the generator was saturated (k6 fails
//     it too); only an interrupted (partial) run stays inconclusive;
//   - when set is the default objectives (no --slo, no slo block), the
//     script's thresholds replace them: they are the user's own criteria.
//
// Without script thresholds it is exactly Evaluate.
func EvaluateWithThresholds(r *results.Result, set *Set, opts Options) results.SLOReport {
	if len(r.ScriptThresholds) == 0 {
		return Evaluate(r, set, opts)
	}
	var rep results.SLOReport
	if set != nil && !set.IsDefault() && len(set.Objectives) > 0 {
		rep = Evaluate(r, set, opts)
	} else {
		rep = results.SLOReport{Verdict: Pass, Objectives: []results.ObjectiveResult{}}
		if r.Generator.Saturated {
			rep.Reasons = append(rep.Reasons, "load generator could not hold the asked rate: "+strings.Join(r.Generator.Reasons, "; "))
			rep.Verdict = Inconclusive
		}
		if r.Partial {
			rep.Reasons = append(rep.Reasons, "the run was interrupted: the result is partial")
			rep.Verdict = Inconclusive
		}
	}
	var failed []string
	for _, th := range r.ScriptThresholds {
		or := results.ObjectiveResult{
			Name:      "k6: " + th.Metric + " " + th.Threshold,
			Objective: th.Metric + " " + th.Threshold,
			Scope:     results.Scope{Kind: results.ScopeScriptThreshold},
			Unit:      th.Unit,
			Verdict:   Pass,
			Key:       true,
		}
		switch {
		case th.Metric == results.ScriptVerdictMetric:
			or.Name, or.Objective, or.Scope = "k6: "+th.Threshold, th.Threshold, results.Scope{Kind: results.ScopeScript}
		case th.Value != nil:
			or.Value = *th.Value
		default:
			or.Detail = "no samples of the metric"
		}
		if th.AbortOnFail {
			or.Detail = strings.TrimPrefix(or.Detail+"; abortOnFail", "; ")
		}
		if th.Failed {
			or.Verdict = Fail
			failed = append(failed, th.Metric+" "+th.Threshold)
		}
		rep.Objectives = append(rep.Objectives, or)
	}
	if len(failed) > 0 && !r.Partial {
		rep.Verdict = Fail
		rep.Reasons = append(rep.Reasons, "k6 thresholds failed: "+strings.Join(failed, ", "))
	}
	return rep
}
