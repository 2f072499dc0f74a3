package resultstest_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
)

func TestDefaultsReadBack(t *testing.T) {
	r := resultstest.New(t)
	if r.Summary.Requests != 1000 || len(r.Intervals) != 10 || r.Engine != "vegeta" || r.Scenario != "synthetic" {
		t.Fatalf("defaults: %d requests, %d intervals, engine %s, scenario %s", r.Summary.Requests, len(r.Intervals), r.Engine, r.Scenario)
	}
	// Lognormal around 10 ms: the median within 5 %.
	if p50 := r.Summary.LatencyMs.P50; math.Abs(p50-10) > 0.5 {
		t.Errorf("p50 %.2f ms, want 10 ± 0.5", p50)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := results.Decode(data); err != nil {
		t.Fatalf("the result does not read back: %v", err)
	}
}

func TestSeedPinsTheRun(t *testing.T) {
	opts := []resultstest.Option{resultstest.Seed(7), resultstest.Drift(0.1), resultstest.Outcomes(0.05, 0.2), resultstest.Endpoints("a", "b")}
	a, _ := json.Marshal(resultstest.New(t, opts...))
	b, _ := json.Marshal(resultstest.New(t, opts...))
	if string(a) != string(b) {
		t.Error("two runs with the same seed differ")
	}
	r := resultstest.New(t, append(opts, resultstest.Rate(200), resultstest.Phases(results.PhaseSpec{Name: "p", Duration: 20 * time.Second}))...)
	// 4000 requests: 5 % errors and 20 % blocks within 3 standard errors.
	if s := r.Summary; s.Requests != 4000 || math.Abs(s.ErrorRate-0.05) > 0.011 || math.Abs(s.BlockRate-0.2) > 0.02 {
		t.Errorf("%d requests, error rate %.3f, block rate %.3f", s.Requests, s.ErrorRate, s.BlockRate)
	}
	if len(r.Endpoints) != 2 || r.Endpoints[0].Requests != 2000 {
		t.Errorf("endpoints %+v", r.Endpoints)
	}
}

func TestSamplesAndShape(t *testing.T) {
	r := resultstest.New(t, resultstest.Samples(
		results.Sample{Latency: time.Millisecond, ServiceLatency: time.Millisecond, Status: 200},
		results.Sample{Latency: time.Millisecond, ServiceLatency: time.Millisecond, Status: 500, Outcome: results.OutcomeError},
	))
	if r.Summary.Requests != 2 || r.Summary.ErrorCount != 1 {
		t.Errorf("samples: %+v", r.Summary)
	}
	r = resultstest.New(t, resultstest.Shape(func(req resultstest.Request, s *results.Sample) {
		s.Latency = time.Duration(1+req.Seq%3) * time.Millisecond
		s.ServiceLatency = s.Latency
	}))
	if r.Summary.LatencyMs.Max > 3.01 || r.Summary.LatencyMs.Min < 0.99 {
		t.Errorf("shaped latencies %+v", r.Summary.LatencyMs)
	}
}
