package results

import (
	"testing"
	"time"
)

// Requests cancelled by the user's interruption are counted apart: not in
// Requests, the rates, the histograms or the intervals.
func TestCancelledRequestsAreNotErrors(t *testing.T) {
	rec := NewRecorder(Plan{
		Phases:    []PhaseSpec{{Name: "main", Kind: "constant", Duration: 10 * time.Second, Planned: 100}},
		Endpoints: []string{"home"},
	})
	for i := 0; i < 90; i++ {
		rec.Record(Sample{Phase: 0, Endpoint: 0, Due: time.Duration(i) * 100 * time.Millisecond, Latency: time.Millisecond, ServiceLatency: time.Millisecond, Status: 200})
	}
	for i := 0; i < 10; i++ {
		rec.Record(Sample{Phase: 0, Endpoint: 0, Due: 9 * time.Second, Latency: 5 * time.Second, ServiceLatency: 5 * time.Second,
			Error: "context canceled", Outcome: OutcomeError, Cancelled: true})
	}
	res := rec.Result(Finish{Elapsed: 10 * time.Second})
	for name, s := range map[string]Summary{"run": res.Summary, "phase": res.Phases[0].Summary, "endpoint": res.Endpoints[0].Summary} {
		if s.Requests != 90 || s.Cancelled != 10 || s.ErrorRate != 0 || s.ErrorCount != 0 || len(s.Errors) != 0 || s.LatencyMs.Max > 2 {
			t.Errorf("%s: %d requests, %d cancelled, error rate %g, errors %v, max %.1f ms", name, s.Requests, s.Cancelled, s.ErrorRate, s.Errors, s.LatencyMs.Max)
		}
	}
	var n int64
	for _, iv := range res.Intervals {
		n += iv.Requests
	}
	if n != 90 {
		t.Errorf("intervals count %d requests, want 90", n)
	}
	merged, err := MergeSequential([]*Result{res, res})
	if err != nil {
		t.Fatal(err)
	}
	if merged.Summary.Cancelled != 20 {
		t.Errorf("merged cancelled %d, want 20", merged.Summary.Cancelled)
	}
}

// Merging repeated runs of a k6 script keeps its thresholds: one failed
// run fails the threshold of the merged result.
func TestMergeKeepsScriptThresholds(t *testing.T) {
	v1, v2 := 120.0, 310.0
	mk := func(v *float64, failed bool) *Result {
		r := recordRun(t, 10, []mergeSample{{ms: 5, outcome: OutcomeSuccess}, {ms: 7, outcome: OutcomeSuccess}})
		r.ScriptThresholds = []ScriptThreshold{{Metric: "http_req_duration", Threshold: "p(95)<200", Failed: failed, Value: v, Unit: "ms"}}
		return r
	}
	merged, err := MergeSequential([]*Result{mk(&v1, false), mk(&v2, true), mk(&v1, false)})
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.ScriptThresholds) != 1 {
		t.Fatalf("merged thresholds %+v, want the one threshold kept", merged.ScriptThresholds)
	}
	if th := merged.ScriptThresholds[0]; !th.Failed || th.Value == nil || *th.Value != 310 {
		t.Errorf("merged threshold %+v, want failed with the failing run's value 310", th)
	}
}
