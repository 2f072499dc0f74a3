package slo

import (
	"fmt"
	"math"

	"github.com/slogate/slogate/results"
)

func compareRuns(base, cur []*results.Result, sc scopeRef, metric string, opts CompareOptions) results.MetricDelta {
	var x, y []float64
	minReq := int64(math.MaxInt64)
	for _, r := range base {
		v, req, _ := sc.value(r, metric)
		x = append(x, v)
		minReq = min(minReq, req)
	}
	for _, r := range cur {
		v, req, _ := sc.value(r, metric)
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
