package report

import (
	"math"
	"strconv"

	"github.com/slogate/slogate/results"
)

// threshold is a latency objective with a numeric bound, drawn as a line on
// the time chart and as a step on the percentile spectrum.
type threshold struct {
	Metric string        // p50 p75 p90 p95 p99 p999 max min mean
	Upper  bool          // the latency must stay below (<, <=) rather than above
	Ms     float64       // the bound in milliseconds
	Scope  results.Scope // the run, a phase or an endpoint
	Label  string        // what the legend says: "p99 < 200ms"
}

// quantileOf is where a latency metric sits on the percentile spectrum
// (0..1), or -1 for metrics that are not a percentile (mean): the table's
// Spectrum.
func quantileOf(metric string) float64 {
	if row := results.LookupMetric(metric); row != nil {
		return row.Spectrum
	}
	return -1
}

// latencyThresholds are the latency bounds of the SLO report, in ms (package
// slo records each objective's limits as results.Bound). Non-latency metrics
// are skipped, and so are result files written before bounds were recorded: a
// chart without a line is better than a wrong line.
func latencyThresholds(rep *results.SLOReport) []threshold {
	if rep == nil {
		return nil
	}
	var out []threshold
	for i := range rep.Objectives {
		o := &rep.Objectives[i]
		if o.Unit != "ms" {
			continue
		}
		scope := o.Scope.OrRun()
		for _, b := range o.Bounds {
			metric := normMetric(b.Metric)
			if quantileOf(metric) < 0 && metric != "mean" || len(b.Op) == 0 || b.Op[0] != '<' && b.Op[0] != '>' ||
				math.IsNaN(b.Value) || math.IsInf(b.Value, 0) || b.Value < 0 {
				continue
			}
			label := metric + " " + b.Op + " " + latencyText(b.Value)
			if b.Budget != "" && o.Baseline != nil {
				label = metric + " budget " + b.Budget + " of baseline " + ms(*o.Baseline)
			}
			out = append(out, threshold{Metric: metric, Upper: b.Op[0] == '<', Ms: b.Value, Scope: scope, Label: label})
		}
	}
	return out
}

// latencyText writes a bound as an SLO file would: "200ms", "0.5ms", "1.5s", "60s".
func latencyText(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "s"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "ms"
}

func normMetric(m string) string {
	if m == "p99.9" {
		return "p999"
	}
	return m
}
