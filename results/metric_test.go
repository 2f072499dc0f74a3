package results

import (
	"math"
	"testing"
)

// The metric table answers for every metric name the SLO files accept, and
// each row reads the summary field it names.
func TestMetricTable(t *testing.T) {
	s := &Summary{
		LatencyMs: Latency{Min: 1, Mean: 2, P50: 3, P90: 4, P95: 5, P99: 6, P999: 7, Max: 8},
		ErrorRate: 0.1, BlockRate: 0.2, SuccessRate: 0.7,
		ThroughputRPS: 90, RequestRateRPS: 100, SuccessRPS: 70,
	}
	for _, tc := range []struct {
		name           string
		unit           string
		quantile, want float64
		higher, boot   bool
	}{
		{"min", UnitMs, 0, 1, false, false},
		{"mean", UnitMs, 0, 2, false, true},
		{"p50", UnitMs, 50, 3, false, true},
		{"p75", UnitMs, 75, math.NaN(), false, true}, // read from the histogram
		{"p90", UnitMs, 90, 4, false, true},
		{"p95", UnitMs, 95, 5, false, true},
		{"p99", UnitMs, 99, 6, false, true},
		{"p999", UnitMs, 99.9, 7, false, true},
		{"max", UnitMs, 0, 8, false, false},
		{"error_rate", UnitFraction, 0, 0.1, false, true},
		{"block_rate", UnitFraction, 0, 0.2, false, true},
		{"success_rate", UnitFraction, 0, 0.7, true, true},
		{"throughput", UnitRPS, 0, 90, true, true},
		{"request_rate", UnitRPS, 0, 100, true, true},
		{"success_throughput", UnitRPS, 0, 70, true, true},
	} {
		m := LookupMetric(tc.name)
		if m == nil {
			t.Errorf("%s: no row", tc.name)
			continue
		}
		got := m.Value(s)
		if m.Unit != tc.unit || m.Quantile != tc.quantile || m.HigherIsBetter != tc.higher || m.Bootstrappable != tc.boot ||
			!(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: %+v reads %v, want unit %s quantile %g higher %v bootstrappable %v value %v",
				tc.name, *m, got, tc.unit, tc.quantile, tc.higher, tc.boot, tc.want)
		}
	}
	if LookupMetric("p42") != nil || !math.IsNaN(LookupMetric("p42").Value(s)) {
		t.Error("an unknown metric has no row and no value")
	}
}
