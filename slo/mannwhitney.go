package slo

import (
	"fmt"
	"math"

	"github.com/slogate/slogate/results"
)

// MannWhitney compares repeated runs (slogate run --repeat), as
// benchstat's AssumeNothing does: each run gives one value per metric, the
// sides are summarised by their medians, and the Mann-Whitney U (Wilcoxon
// rank-sum) test asks whether one side's values tend to lie above the
// other's, assuming nothing about their distribution.
//
// With x the base runs' values (n₁ of them) and y the new runs' (n₂),
// ranked together with midranks for ties, W = Σ rank(xᵢ) and
// U = W − n₁(n₁+1)/2. The two-sided p is the probability, if both came from
// one distribution, of a W at least as far from n₁(N+1)/2 (N = n₁+n₂): from
// W's exact permutation distribution for N ≤ 60, from the tie-corrected
// normal approximation above (MannWhitneyP). A change is significant when
// p < Alpha. The smallest p any samples can give is 2/C(N, n₁)
// (MinMannWhitneyP); with 3 runs a side that is 0.1, so at Alpha = 0.05 the
// row says how many runs are needed (RunsNeeded) instead of judging.
//
// The interval is Hodges-Lehmann's (HodgesLehmann): the order statistics
// [D₍ₖ₎, D₍ₙ₁ₙ₂₊₁₋ₖ₎] of the n₁n₂ differences yⱼ − xᵢ, k from the U
// distribution. When every value is positive it is taken on logarithms, so
// that exp(D) − 1 is a relative change; otherwise on the values, divided by
// |median(x)|.
type MannWhitney struct {
	Alpha float64 // significance level (default 0.05)
}

// Method implements Test.
func (t MannWhitney) Method() string {
	opts := t.options()
	return fmt.Sprintf("Mann-Whitney U test across runs (medians; exact p up to %d runs in all), "+
		"Hodges-Lehmann CI; significant when p < %g", exactMWULimit, opts.Alpha)
}

// Compare implements Test.
func (t MannWhitney) Compare(base, cur []*results.Result, sc results.Scope, metrics []string) []results.MetricDelta {
	opts := t.options()
	rows := make([]results.MetricDelta, 0, len(metrics))
	for _, m := range metrics {
		rows = append(rows, compareRuns(base, cur, sc, m, opts))
	}
	return rows
}

// options are the test's settings, defaults filled in, as compareRuns
// takes them.
func (t MannWhitney) options() CompareOptions {
	return CompareOptions{Alpha: t.Alpha}.withDefaults()
}

func compareRuns(base, cur []*results.Result, sc results.Scope, metric string, opts CompareOptions) results.MetricDelta {
	var x, y []float64
	minReq := int64(math.MaxInt64)
	for _, r := range base {
		v, req, _ := scopeMetric(sc, r, metric)
		x = append(x, v)
		minReq = min(minReq, req)
	}
	for _, r := range cur {
		v, req, _ := scopeMetric(sc, r, metric)
		y = append(y, v)
		minReq = min(minReq, req)
	}
	b, n := median(x), median(y)
	d := newDelta(sc, metric, b, n)
	if need := minSamples(metric); minReq < need {
		d.Verdict = NotJudged
		d.Note = fmt.Sprintf("need >= %d requests in every run to judge %s, the smallest run has %d", need, metric, minReq)
		return d
	}
	p := MannWhitneyP(x, y)
	pr := math.Round(p*10000) / 10000
	d.PValue = &pr
	if MinMannWhitneyP(len(x), len(y)) > opts.Alpha {
		d.Verdict = NotJudged
		d.Note = fmt.Sprintf("need >= %d runs per side to detect a difference at alpha level %g", RunsNeeded(opts.Alpha), opts.Alpha)
		return d
	}
	// Hodges-Lehmann on log values gives a ratio (a relative change) when
	// every value is positive; otherwise on the values, relative to base.
	positive := true
	for _, v := range append(append([]float64{}, x...), y...) {
		if v <= 0 {
			positive = false
		}
	}
	if positive {
		lx, ly := logs(x), logs(y)
		if _, lo, hi, ok := HodgesLehmann(lx, ly, opts.Alpha); ok {
			d.CILowPct, d.CIHighPct = round2((math.Exp(lo)-1)*100), round2((math.Exp(hi)-1)*100)
		}
	} else if b != 0 {
		if _, lo, hi, ok := HodgesLehmann(x, y, opts.Alpha); ok {
			d.CILowPct, d.CIHighPct = round2(lo/math.Abs(b)*100), round2(hi/math.Abs(b)*100)
		}
	} else if n != b {
		d.Note = fmt.Sprintf("base median is 0: absolute change %s", signedValue(n-b, d.Unit))
	}
	judge(&d, p < opts.Alpha, n-b)
	return d
}

func logs(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Log(v)
	}
	return out
}
