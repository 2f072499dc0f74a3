package slo

import (
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
)

// synth describes a synthetic run: lognormal latencies around a median,
// a small per-second drift (so seconds are not independent draws), and a
// fixed fraction of errors and blocks.
type synth struct {
	scenario  string
	medianMs  float64
	sigma     float64 // lognormal shape of request latency
	drift     float64 // lognormal shape of each second's factor
	seconds   int
	rps       int
	errorRate float64
	blockRate float64
	seed      uint64
}

func (s synth) withDefaults() synth {
	if s.scenario == "" {
		s.scenario = "synthetic"
	}
	if s.sigma == 0 {
		s.sigma = 0.25
	}
	if s.seconds == 0 {
		s.seconds = 60
	}
	if s.rps == 0 {
		s.rps = 100
	}
	return s
}

// synthResult records a synthetic run through resultstest (the real
// recorder), so the result has the same histograms and intervals as one
// from the runner.
func synthResult(t testing.TB, s synth) *results.Result {
	t.Helper()
	s = s.withDefaults()
	return resultstest.New(t,
		resultstest.Scenario(s.scenario),
		resultstest.StartedAt(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(s.seed)*time.Minute)),
		resultstest.Environment(results.Environment{
			OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "Test CPU", ScenarioHash: "hash-" + s.scenario,
		}),
		resultstest.Phases(results.PhaseSpec{Name: "steady", Kind: "constant", Duration: time.Duration(s.seconds) * time.Second}),
		resultstest.Endpoints("home", "api"),
		resultstest.Rate(float64(s.rps)),
		resultstest.Lognormal(s.medianMs, s.sigma),
		resultstest.Drift(s.drift),
		resultstest.Outcomes(s.errorRate, s.blockRate),
		resultstest.Seed(s.seed),
	)
}
