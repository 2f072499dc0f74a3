package slo

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
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

// synthResult records a synthetic run through the real recorder, so the
// result has the same histograms and intervals as one from the runner.
func synthResult(t testing.TB, s synth) *results.Result {
	t.Helper()
	s = s.withDefaults()
	rng := rand.New(rand.NewPCG(s.seed, 0x5eed))
	dur := time.Duration(s.seconds) * time.Second
	rec := results.NewRecorder(results.Plan{
		Phases: []results.PhaseSpec{
			{Name: "steady", Kind: "constant", Duration: dur, Planned: int64(s.seconds * s.rps)},
		},
		Endpoints:  []string{"home", "api"},
		TargetRate: func(time.Duration) float64 { return float64(s.rps) },
	})
	for sec := 0; sec < s.seconds; sec++ {
		factor := math.Exp(s.drift * rng.NormFloat64())
		for i := 0; i < s.rps; i++ {
			due := time.Duration(sec)*time.Second + time.Duration(i)*time.Second/time.Duration(s.rps)
			ms := s.medianMs * factor * math.Exp(s.sigma*rng.NormFloat64())
			lat := time.Duration(ms * float64(time.Millisecond))
			x := results.Sample{
				Phase: 0, Endpoint: i % 2, Due: due,
				Latency: lat, ServiceLatency: lat, Lateness: 0,
				Status: 200, Outcome: results.OutcomeSuccess,
			}
			switch u := rng.Float64(); {
			case u < s.errorRate:
				x.Status, x.Outcome = 500, results.OutcomeError
			case u < s.errorRate+s.blockRate:
				x.Status, x.Outcome = 429, results.OutcomeBlocked
			}
			rec.Record(x)
		}
	}
	return rec.Result(results.Finish{
		Scenario:  s.scenario,
		Engine:    "vegeta",
		StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(s.seed) * time.Minute),
		Elapsed:   dur,
		Environment: results.Environment{
			OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "Test CPU", ScenarioHash: "hash-" + s.scenario,
		},
		Generator: results.Generator{AchievedRatio: 1},
	})
}
