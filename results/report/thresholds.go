package report

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slogate/slogate/results"
)

// threshold is a latency objective with a numeric bound, drawn as a line on
// the time chart and as a step on the percentile spectrum.
type threshold struct {
	Metric string  // p50 p75 p90 p95 p99 p999 max min mean
	Upper  bool    // the latency must stay below (<, <=) rather than above
	Ms     float64 // the bound in milliseconds
	Scope  string  // "run", "phase NAME" or "endpoint NAME"
	Label  string  // what the legend says: "p99 < 200ms"
}

// quantile is where a latency metric sits on the percentile spectrum (0..1),
// or -1 for metrics that are not a percentile (mean).
func quantileOf(metric string) float64 {
	switch metric {
	case "min":
		return 0
	case "p50":
		return 0.5
	case "p75":
		return 0.75
	case "p90":
		return 0.9
	case "p95":
		return 0.95
	case "p99":
		return 0.99
	case "p999":
		return 0.999
	case "max":
		return 1
	}
	return -1
}

var (
	// "p99 < 200ms", "max <= 1.5s", "p50 > 1" (a bare number is ms).
	absoluteRE = regexp.MustCompile(`^(p\d+(?:\.\d+)?|min|max|mean)\s*(<=|>=|<|>)\s*([0-9.]+\s*[a-zµ]*)$`)
	// "p99 1ms..200ms".
	rangeRE = regexp.MustCompile(`^(p\d+(?:\.\d+)?|min|max|mean)\s+([0-9.]+\s*[a-zµ]*)\s*\.\.\s*([0-9.]+\s*[a-zµ]*)$`)
	// "p99 <=+10% vs baseline": a regression budget, bound = baseline × (1 + pct).
	budgetRE = regexp.MustCompile(`^(p\d+(?:\.\d+)?|min|max|mean)\s*(<=|<|>=|>)\s*([+-]?[0-9.]+)\s*%\s*vs baseline$`)
)

// latencyThresholds reads the numeric latency bounds out of the SLO
// report. package slo renders each objective as text ("p99 < 200ms", with
// ", p99 <=+10% vs baseline" appended for a regression budget); results
// keeps only that text, so the bound is parsed back here. Objectives whose
// text does not parse (a custom form, a non-latency metric) are skipped: a
// chart without a line is better than a wrong line.
func latencyThresholds(rep *results.SLOReport) []threshold {
	if rep == nil {
		return nil
	}
	var out []threshold
	for i := range rep.Objectives {
		o := &rep.Objectives[i]
		if o.Unit != "" && o.Unit != "ms" {
			continue
		}
		scope := o.Scope
		if scope == "" {
			scope = "run"
		}
		for _, part := range strings.Split(o.Objective, ",") {
			part = strings.TrimSpace(part)
			if m := absoluteRE.FindStringSubmatch(part); m != nil {
				if v, ok := parseMs(m[3]); ok {
					out = append(out, threshold{Metric: normMetric(m[1]), Upper: m[2][0] == '<', Ms: v, Scope: scope, Label: part})
				}
				continue
			}
			if m := rangeRE.FindStringSubmatch(part); m != nil {
				lo, okLo := parseMs(m[2])
				hi, okHi := parseMs(m[3])
				if okLo && okHi {
					metric := normMetric(m[1])
					out = append(out,
						threshold{Metric: metric, Upper: false, Ms: lo, Scope: scope, Label: metric + " ≥ " + strings.TrimSpace(m[2])},
						threshold{Metric: metric, Upper: true, Ms: hi, Scope: scope, Label: metric + " ≤ " + strings.TrimSpace(m[3])})
				}
				continue
			}
			if m := budgetRE.FindStringSubmatch(part); m != nil && o.Baseline != nil && *o.Baseline > 0 {
				pct, err := strconv.ParseFloat(m[3], 64)
				if err != nil {
					continue
				}
				out = append(out, threshold{
					Metric: normMetric(m[1]), Upper: m[2][0] == '<', Ms: *o.Baseline * (1 + pct/100), Scope: scope,
					Label: normMetric(m[1]) + " budget " + strings.TrimSpace(m[2]) + m[3] + "% of baseline " + ms(*o.Baseline),
				})
			}
		}
	}
	return out
}

func normMetric(m string) string {
	if m == "p99.9" {
		return "p999"
	}
	return m
}

// parseMs reads a latency as slo writes it: "200ms", "1.5s", "500us", or a
// bare number of milliseconds.
func parseMs(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, " ", ""))
	if err != nil || d < 0 {
		return 0, false
	}
	return float64(d) / float64(time.Millisecond), true
}
