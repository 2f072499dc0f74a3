package gate

import (
	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
)

// Alpha is the significance level at which a regression budget's change
// must be significant to fail: a broken budget that the bootstrap cannot
// tell from noise does not fail the gate.
const Alpha = 0.05

// Criteria are what a run is gated on: its objectives and, for their
// regression budgets, a baseline (nil: budgets are not checked).
type Criteria struct {
	Objectives *slo.Set
	Baseline   *results.Result
}

// Evaluate judges res against the objectives and the k6 script's own
// thresholds (slo.EvaluateWithThresholds) with the significance policy of
// Options, stores the report in res.SLO and returns it.
func (c Criteria) Evaluate(res *results.Result) results.SLOReport {
	rep := slo.EvaluateWithThresholds(res, c.Objectives, Options(c.Baseline, res))
	res.SLO = &rep
	return rep
}

// Options are the evaluation options for a result and its baseline:
// regression budgets are judged with the single-run bootstrap's
// significance at level Alpha (slo.Significance), so noise never fails a
// gate.
func Options(baseline, res *results.Result) slo.Options {
	opts := slo.Options{Baseline: baseline}
	if baseline != nil {
		opts.Significant = slo.Significance(baseline, res, Alpha)
	}
	return opts
}
