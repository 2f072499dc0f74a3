// Package resultstest builds synthetic results for tests, in the style of
// net/http/httptest: one builder, New, records a made-up run through the
// real results.Recorder (so the result has the histograms, intervals and
// summaries of a result from the runner) and checks that it validates.
//
// It is for tests only: nothing outside _test.go files imports it. Package
// results' own tests may use it only from package results_test.
package resultstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// Request is one synthetic request, as a Shape function sees it.
type Request struct {
	Seq       int        // index in the run, from 0
	Second    int        // the second of the run it is due in
	InSecond  int        // index within that second
	PerSecond int        // requests due in that second
	Rand      *rand.Rand // the run's generator; draws made here follow the builder's
}

// Option sets one knob of New.
type Option func(*config)

type config struct {
	scenario, engine string
	startedAt        time.Time
	env              results.Environment
	gen              results.Generator
	phases           []results.PhaseSpec
	endpoints        []string
	rate             func(time.Duration) float64
	medianMs, sigma  float64
	drift            *float64
	errRate, blkRate float64
	outcomes         bool
	rng              *rand.Rand
	shape            func(Request, *results.Sample)
	samples          []results.Sample
	given            bool // samples were given: no generated traffic
}

// Scenario names the run (default "synthetic").
func Scenario(name string) Option { return func(c *config) { c.scenario = name } }

// Engine names the engine (default "vegeta").
func Engine(name string) Option { return func(c *config) { c.engine = name } }

// StartedAt sets the start time (default 2026-01-01T00:00:00Z).
func StartedAt(t time.Time) Option { return func(c *config) { c.startedAt = t } }

// Environment sets the environment fingerprint (default none).
func Environment(env results.Environment) Option { return func(c *config) { c.env = env } }

// Generator sets the generator's report (default: the asked rate held,
// AchievedRatio 1).
func Generator(g results.Generator) Option { return func(c *config) { c.gen = g } }

// Phases sets the load profile (default one 10 s constant phase "steady").
// A phase with Planned 0 plans what the rate sends in its seconds.
func Phases(p ...results.PhaseSpec) Option { return func(c *config) { c.phases = p } }

// Endpoints names the request mix (default "home"); request i of each
// second goes to endpoint i mod len.
func Endpoints(names ...string) Option { return func(c *config) { c.endpoints = names } }

// Rate sends rps requests in every second, and records it as the asked
// rate. Without Rate or RateFunc, 100 req/s are sent and no asked rate is
// recorded.
func Rate(rps float64) Option {
	return RateFunc(func(time.Duration) float64 { return rps })
}

// RateFunc sends int(f(s + 0.5 s)) requests in second s, evenly spread, and
// records f as the asked rate.
func RateFunc(f func(at time.Duration) float64) Option { return func(c *config) { c.rate = f } }

// Lognormal draws each latency as medianMs · exp(sigma · N(0,1)) (default
// 10 ms, σ 0.25), times the second's drift factor. Service latency is the
// same unless Shape changes it.
func Lognormal(medianMs, sigma float64) Option {
	return func(c *config) { c.medianMs, c.sigma = medianMs, sigma }
}

// Drift multiplies every latency of a second by exp(sigma · N(0,1)), drawn
// once per second, so seconds are not independent draws. Given (even as 0),
// the factor is drawn at the start of every second.
func Drift(sigma float64) Option { return func(c *config) { c.drift = &sigma } }

// Outcomes makes a fraction of the requests errors (500) and blocked (429):
// one uniform draw u per request after its latency, error when u <
// errorRate, blocked when u < errorRate+blockRate. Given (even as 0, 0),
// u is drawn for every request.
func Outcomes(errorRate, blockRate float64) Option {
	return func(c *config) { c.errRate, c.blkRate, c.outcomes = errorRate, blockRate, true }
}

// Seed seeds the run's generator (PCG with the stream 0x5eed; default seed 0).
func Seed(seed uint64) Option {
	return func(c *config) { c.rng = rand.New(rand.NewPCG(seed, 0x5eed)) }
}

// Rand sets the run's generator.
func Rand(r *rand.Rand) Option { return func(c *config) { c.rng = r } }

// Shape changes each generated sample before it is recorded (a burst, a
// stall, a status): it runs after the builder's draws for the request.
func Shape(f func(Request, *results.Sample)) Option { return func(c *config) { c.shape = f } }

// Samples records exactly these samples, in order, instead of generated
// traffic: for a run whose distribution the test spells out.
func Samples(s ...results.Sample) Option {
	return func(c *config) { c.samples, c.given = append(c.samples, s...), true }
}

// New records a synthetic run and returns its result; the test fails when
// the result does not validate (results.Result.Validate, as a read checks).
// See Build.
func New(t testing.TB, opts ...Option) *results.Result {
	t.Helper()
	r, err := Build(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Build records a synthetic run and returns its result, or why it does not
// validate (for test code that has no testing.TB at hand).
//
// Without options: scenario "synthetic", engine "vegeta", one 10 s constant
// phase "steady" at 100 req/s to endpoint "home", lognormal latencies
// around 10 ms (σ 0.25), every request a 200.
//
// The draws, in order: per second the drift factor (when Drift is given);
// per request the latency, then u (when Outcomes is given), then whatever
// Shape draws. A test that pins a seed pins the run.
func Build(opts ...Option) (*results.Result, error) {
	c := config{
		scenario:  "synthetic",
		engine:    "vegeta",
		startedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		gen:       results.Generator{AchievedRatio: 1},
		phases:    []results.PhaseSpec{{Name: "steady", Kind: "constant", Duration: 10 * time.Second}},
		endpoints: []string{"home"},
		medianMs:  10,
		sigma:     0.25,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(0, 0x5eed))
	}
	rate := c.rate
	if rate == nil {
		rate = func(time.Duration) float64 { return 100 }
	}
	perSecond := func(sec int) int { return int(rate(time.Duration(sec)*time.Second + time.Second/2)) }

	phases := append([]results.PhaseSpec(nil), c.phases...)
	var end time.Duration
	for i := range phases {
		p := &phases[i]
		if p.Planned == 0 && !c.given {
			for sec := int(p.Start / time.Second); sec < int((p.Start+p.Duration)/time.Second); sec++ {
				p.Planned += int64(perSecond(sec))
			}
		}
		end = max(end, p.Start+p.Duration)
	}
	rec := results.NewRecorder(results.Plan{Phases: phases, Endpoints: c.endpoints, TargetRate: c.rate})
	for _, s := range c.samples {
		rec.Record(s)
	}
	seq := 0
	for sec := 0; !c.given && time.Duration(sec)*time.Second < end; sec++ {
		factor := 1.0
		if c.drift != nil {
			factor = math.Exp(*c.drift * c.rng.NormFloat64())
		}
		n := perSecond(sec)
		for i := 0; i < n; i++ {
			due := time.Duration(sec)*time.Second + time.Duration(i)*time.Second/time.Duration(n)
			ms := c.medianMs * factor * math.Exp(c.sigma*c.rng.NormFloat64())
			lat := time.Duration(ms * float64(time.Millisecond))
			s := results.Sample{
				Phase: phaseAt(phases, due), Endpoint: i % len(c.endpoints), Due: due,
				Latency: lat, ServiceLatency: lat, Status: 200, Outcome: results.OutcomeSuccess,
			}
			if c.outcomes {
				switch u := c.rng.Float64(); {
				case u < c.errRate:
					s.Status, s.Outcome = 500, results.OutcomeError
				case u < c.errRate+c.blkRate:
					s.Status, s.Outcome = 429, results.OutcomeBlocked
				}
			}
			if c.shape != nil {
				c.shape(Request{Seq: seq, Second: sec, InSecond: i, PerSecond: n, Rand: c.rng}, &s)
			}
			rec.Record(s)
			seq++
		}
	}
	r := rec.Result(results.Finish{
		Scenario: c.scenario, Engine: c.engine, StartedAt: c.startedAt, Elapsed: end,
		Environment: c.env, Generator: c.gen,
	})
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("resultstest: the synthetic result does not validate: %w", err)
	}
	return r, nil
}

// phaseAt is the index of the phase due falls in (the last one after the end).
func phaseAt(phases []results.PhaseSpec, due time.Duration) int {
	for i, p := range phases {
		if due >= p.Start && due < p.Start+p.Duration {
			return i
		}
	}
	return len(phases) - 1
}
