package slo

import (
	"testing"

	"github.com/slogate/slogate/results"
)

func TestEvaluateWithThresholds(t *testing.T) {
	v := 42.5
	passing := []results.ScriptThreshold{{Metric: "http_req_duration", Threshold: "p(95)<200", Value: &v, Unit: "ms"}}
	failing := []results.ScriptThreshold{{Metric: "http_req_duration", Threshold: "p(95)<20", Value: &v, Unit: "ms", Failed: true}}
	for _, tc := range []struct {
		name       string
		thresholds []results.ScriptThreshold
		set        *Set
		partial    bool
		saturated  bool
		want       string
		objectives int
	}{
		{"a failed threshold fails", failing, Default(), false, false, Fail, 1},
		{"passing thresholds replace the defaults", passing, Default(), false, false, Pass, 1},
		{"a saturated run with a failed threshold still fails", failing, Default(), false, true, Fail, 1},
		{"a saturated run with passing thresholds is inconclusive", passing, Default(), false, true, Inconclusive, 1},
		{"an interrupted run stays inconclusive", failing, Default(), true, false, Inconclusive, 1},
		{"--slo objectives are kept beside the thresholds", failing, &Set{File: "slo.yaml", Objectives: Default().Objectives, Scoring: Scoring{Pass: 100, Warning: 100}}, false, false, Fail, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := synthetic(uniform(1000, 1, 10), 0, 0, 100)
			r.ScriptThresholds = tc.thresholds
			r.Partial = tc.partial
			r.Generator.Saturated = tc.saturated
			rep := EvaluateWithThresholds(r, tc.set, Options{})
			if rep.Verdict != tc.want || len(rep.Objectives) != tc.objectives {
				t.Fatalf("verdict %s (want %s), %d objectives (want %d): %+v", rep.Verdict, tc.want, len(rep.Objectives), tc.objectives, rep)
			}
			last := rep.Objectives[len(rep.Objectives)-1]
			if last.Name != "k6: http_req_duration "+tc.thresholds[0].Threshold || last.Value != v || last.Unit != "ms" {
				t.Errorf("threshold objective %+v", last)
			}
		})
	}
	// Without thresholds it is Evaluate.
	r := synthetic(uniform(1000, 1, 10), 0, 0, 100)
	if a, b := EvaluateWithThresholds(r, Default(), Options{}), Evaluate(r, Default(), Options{}); a.Verdict != b.Verdict || len(a.Objectives) != len(b.Objectives) {
		t.Errorf("no thresholds: %+v vs %+v", a, b)
	}
}
