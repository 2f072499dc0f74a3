package gate

import (
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/promql"
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
	// Prometheus, when set, is a running Prometheus that evaluates the
	// PromQL objectives over the run's window (--prometheus,
	// target.prometheus) instead of the samples the run kept.
	Prometheus string
}

// Evaluate judges res against the objectives and the k6 script's own
// thresholds (slo.EvaluateWithThresholds) with the significance policy of
// Options, stores the report in res.SLO and returns it.
func (c Criteria) Evaluate(res *results.Result) results.SLOReport {
	opts := Options(c.Baseline, res)
	if c.Prometheus != "" {
		opts.Prometheus = promql.Remote{URL: c.Prometheus, Start: res.StartedAt,
			End: res.StartedAt.Add(time.Duration(res.DurationS * float64(time.Second)))}
	}
	rep := slo.EvaluateWithThresholds(res, c.Objectives, opts)
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
