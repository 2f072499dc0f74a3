package slo

import (
	"sync"

	"github.com/slogate/slogate/results"
)

// Significance returns an Options.Significant for budgets of cur against
// base: the single-run block bootstrap of Compare at level alpha, per
// metric and scope, computed once per scope and cached. known is false
// where the bootstrap cannot judge (max, min, endpoints, too few intervals
// or requests): then a broken budget counts, as the evaluation's default.
func Significance(base, cur *results.Result, alpha float64) func(metric, phase, endpoint string) (significant, known bool) {
	opts := CompareOptions{Alpha: alpha}.withDefaults()
	var mu sync.Mutex
	cache := map[string]map[string]bootResult{}
	return func(metric, phase, endpoint string) (bool, bool) {
		if base == nil || cur == nil || !bootstrappable(metric) {
			return false, false
		}
		sc := results.RunScope()
		switch {
		case phase != "":
			sc = results.PhaseScope(phase)
		case endpoint != "":
			sc = results.EndpointScope(endpoint)
		}
		b, bReq, okB := scopeMetric(sc, base, metric)
		n, nReq, okN := scopeMetric(sc, cur, metric)
		if !okB || !okN || bReq < minSamples(metric) || nReq < minSamples(metric) {
			return false, false
		}
		mu.Lock()
		defer mu.Unlock()
		byMetric, ok := cache[sc.String()]
		if !ok {
			var all []string
			for _, m := range append(append([]string{}, CompareMetrics...), "p75", "success_rate", "request_rate", "success_throughput") {
				if bootstrappable(m) {
					all = append(all, m)
				}
			}
			byMetric = bootstrapScope(base, cur, sc, all, opts)
			cache[sc.String()] = byMetric
		}
		br, ok := byMetric[metric]
		if !ok || !br.ok {
			return false, false
		}
		d := results.MetricDelta{Metric: metric, Unit: MetricUnit(metric)}
		applyBoot(&d, br, b, n)
		return d.Significant, true
	}
}
