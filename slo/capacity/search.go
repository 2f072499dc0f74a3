package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/slogate/slogate/results"
)

// Schema names the capacity document.
const Schema = "slogate.capacity/v1"

// Step is one constant-rate run of the search and its gate.
type Step struct {
	RateRPS   float64 `json:"rate_rps"`
	DurationS float64 `json:"duration_s"`
	// Phase: "rise", "bisect" or "confirm".
	Phase   string `json:"phase"`
	Verdict string `json:"verdict"` // pass | fail | inconclusive
	// GeneratorSaturated: the generator could not send at the asked rate
	// (the step says nothing about the target).
	GeneratorSaturated bool `json:"generator_saturated,omitempty"`
	// LimitedBy is the first failing objective of a failed step.
	LimitedBy *LimitedBy      `json:"limited_by,omitempty"`
	Summary   results.Summary `json:"summary"`
	// Server holds server-side figures of the step when they were scraped
	// (cpu_cores: rate of process_cpu_seconds_total; rss_mb).
	Server map[string]float64 `json:"server,omitempty"`
}

// LimitedBy names the objective that broke and where.
type LimitedBy struct {
	Objective string  `json:"objective"`
	RateRPS   float64 `json:"rate_rps"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit,omitempty"`
}

// Measure runs one step: load at rate for d, gated on the objectives. It
// fills Verdict, GeneratorSaturated, LimitedBy, Summary and Server.
type Measure func(ctx context.Context, rate float64, d time.Duration) (Step, error)

// Config bounds and paces the search.
type Config struct {
	StartRate       float64       // first step (default MaxRate/32, at least 1)
	MaxRate         float64       // never ask more
	Growth          float64       // rising steps multiply the rate by this (default 2)
	StepDuration    time.Duration // default 10 s
	ConfirmDuration time.Duration // the answer held this long (default 3 × StepDuration)
	Budget          time.Duration // the whole search (0: no bound)
	// Precision ends the bisection when (fail − pass) / pass is below it
	// (default 0.05).
	Precision float64
	Now       func() time.Time // clock (tests)
}

// Search is the outcome (the capacity document without the model and plan).
type Search struct {
	Schema            string     `json:"schema"`
	CapacityRPS       float64    `json:"capacity_rps"`
	Confirmed         bool       `json:"confirmed"`
	LimitedBy         *LimitedBy `json:"limited_by,omitempty"`
	GeneratorBound    bool       `json:"generator_bound"`
	GeneratorLimitRPS float64    `json:"generator_limit_rps,omitempty"`
	KneeRPS           float64    `json:"knee_rps,omitempty"`
	// Stopped says why the search ended where it did.
	Stopped string `json:"stopped"`
	Steps   []Step `json:"steps"`
}

// Found reports whether the search gives a capacity figure (exit 0); else
// the answer is generator-bound or the budget ran out first (exit 3).
func (s *Search) Found() bool { return s.CapacityRPS > 0 && !s.GeneratorBound }

// Run searches the highest rate at which every objective passes: rising
// steps (×Growth) until one fails, the generator saturates or MaxRate passes;
// then bisection between the last passing and the first failing rate down to
// Precision; then the answer held for ConfirmDuration (a failed confirmation
// becomes the new upper bound and the bisection goes on). A step the
// generator could not hold is never read as the target's failure: if it
// comes before any objective breaks, the answer is generator-bound at that
// rate. The budget stops the search between steps, with the best bound known.
func Run(ctx context.Context, cfg Config, measure Measure) (*Search, error) {
	if cfg.MaxRate <= 0 {
		return nil, errors.New("capacity: --max-rate must be > 0")
	}
	if cfg.Growth <= 1 {
		cfg.Growth = 2
	}
	if cfg.StartRate <= 0 {
		cfg.StartRate = math.Max(1, cfg.MaxRate/32)
	}
	cfg.StartRate = math.Min(cfg.StartRate, cfg.MaxRate)
	if cfg.StepDuration <= 0 {
		cfg.StepDuration = 10 * time.Second
	}
	if cfg.ConfirmDuration <= 0 {
		cfg.ConfirmDuration = 3 * cfg.StepDuration
	}
	if cfg.Precision <= 0 {
		cfg.Precision = 0.05
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Search{Schema: Schema, Steps: []Step{}}
	begin := cfg.Now()
	fits := func(d time.Duration) bool { return cfg.Budget <= 0 || cfg.Now().Sub(begin)+d <= cfg.Budget }

	step := func(rate float64, d time.Duration, phase string) (Step, error) {
		st, err := measure(ctx, rate, d)
		if err != nil {
			return st, err
		}
		st.RateRPS, st.DurationS, st.Phase = rate, d.Seconds(), phase
		s.Steps = append(s.Steps, st)
		return st, nil
	}
	var pass, fail float64 // best passing rate, lowest failing rate (0: none yet)
	var failAt *LimitedBy
	judge := func(st Step) (stop bool) {
		switch {
		case st.Verdict == results.VerdictPass && !st.GeneratorSaturated:
			pass = math.Max(pass, st.RateRPS)
		case st.Verdict == results.VerdictFail:
			if fail == 0 || st.RateRPS < fail {
				fail, failAt = st.RateRPS, st.LimitedBy
			}
		default: // inconclusive: the generator, or too few samples
			if st.GeneratorSaturated {
				s.GeneratorBound = fail == 0
				s.GeneratorLimitRPS = st.Summary.RequestRateRPS
				if s.GeneratorLimitRPS == 0 {
					s.GeneratorLimitRPS = st.RateRPS
				}
				return true
			}
		}
		return false
	}

	// Rising steps (falling ones first when the first rate already fails).
	for rate := cfg.StartRate; ; {
		if err := ctx.Err(); err != nil {
			s.Stopped = "interrupted"
			return s.finish(pass, failAt), nil
		}
		if !fits(cfg.StepDuration) {
			s.Stopped = "budget exhausted while rising"
			return s.finish(pass, failAt), nil
		}
		st, err := step(rate, cfg.StepDuration, "rise")
		if err != nil {
			return nil, err
		}
		if judge(st) {
			if s.GeneratorBound {
				s.Stopped = fmt.Sprintf("the generator could not hold %.0f req/s before any objective failed", rate)
				return s.finish(0, nil), nil
			}
			break
		}
		if pass == 0 && fail > 0 {
			if rate/cfg.Growth < 1 {
				s.Stopped = "the objectives fail even at 1 req/s"
				return s.finish(0, failAt), nil
			}
			rate = math.Round(rate / cfg.Growth)
			continue
		}
		if fail > 0 || rate >= cfg.MaxRate {
			break
		}
		rate = math.Min(math.Round(rate*cfg.Growth), cfg.MaxRate)
	}
	if s.GeneratorLimitRPS > 0 && fail == 0 {
		fail = s.GeneratorLimitRPS // the generator bounds the bisection from above
	}
	if fail == 0 {
		s.Stopped = fmt.Sprintf("every objective passed up to --max-rate %.0f req/s", cfg.MaxRate)
	}
	// Bisection, then confirmation; a failed confirmation is the new upper
	// bound, the lower one falls back to the best rate that passed below it
	// (a rate never measured is never an answer), and the bisection goes on.
	confirmed := false
	for tries := 0; tries < 3 && pass > 0 && !confirmed; tries++ {
		if fail > 0 {
			for (fail-pass)/pass > cfg.Precision {
				if err := ctx.Err(); err != nil {
					s.Stopped = "interrupted"
					return s.finish(pass, failAt), nil
				}
				if !fits(cfg.StepDuration + cfg.ConfirmDuration) {
					s.Stopped = "budget exhausted while bisecting"
					return s.finish(pass, failAt), nil
				}
				mid := math.Round((pass + fail) / 2)
				if mid <= pass || mid >= fail {
					break
				}
				st, err := step(mid, cfg.StepDuration, "bisect")
				if err != nil {
					return nil, err
				}
				judge(st)
				if st.GeneratorSaturated { // no answer above mid from this generator
					fail = mid
				}
			}
			s.Stopped = fmt.Sprintf("bisected to %.0f%%", cfg.Precision*100)
		}
		if ctx.Err() != nil || !fits(cfg.ConfirmDuration) {
			break
		}
		st, err := step(pass, cfg.ConfirmDuration, "confirm")
		if err != nil {
			return nil, err
		}
		if st.Verdict == results.VerdictPass && !st.GeneratorSaturated {
			confirmed = true
			break
		}
		// Not held: that rate is no capacity.
		if st.Verdict == results.VerdictFail {
			failAt = st.LimitedBy
		}
		fail = pass
		pass = passedBelow(s.Steps, fail)
		s.Stopped = fmt.Sprintf("%.0f req/s did not hold for the confirmation step", fail)
	}
	s.Confirmed = confirmed
	return s.finish(pass, failAt), nil
}

// passedBelow is the highest rate below limit at which a step passed with a
// generator that held its rate (0: none).
func passedBelow(steps []Step, limit float64) float64 {
	best := 0.0
	for _, st := range steps {
		if st.RateRPS < limit && st.Verdict == results.VerdictPass && !st.GeneratorSaturated {
			best = math.Max(best, st.RateRPS)
		}
	}
	return best
}

// finish sets the answer and the knee.
func (s *Search) finish(pass float64, failAt *LimitedBy) *Search {
	if !s.GeneratorBound {
		s.CapacityRPS = pass
	}
	s.LimitedBy = failAt
	s.KneeRPS = Knee(s.Steps)
	return s
}

// Knee is the lowest stepped rate whose p99 is more than twice the p99 of
// the lightest passing steps (where latency starts to climb); 0 when it never
// does. Twice, not a few percent: a quiet step's p99 moves by tens of percent
// on a shared machine.
func Knee(steps []Step) float64 {
	base := math.Inf(1)
	lightest := math.Inf(1)
	for _, st := range steps {
		if st.Summary.Requests > 0 && st.RateRPS < lightest {
			lightest = st.RateRPS
		}
	}
	for _, st := range steps {
		if st.Summary.Requests > 0 && st.RateRPS <= 2*lightest {
			base = math.Min(base, st.Summary.LatencyMs.P99)
		}
	}
	knee := 0.0
	for _, st := range steps {
		if st.Summary.Requests > 0 && st.Summary.LatencyMs.P99 > 2*base && (knee == 0 || st.RateRPS < knee) {
			knee = st.RateRPS
		}
	}
	return knee
}

// PlanRow is how many instances a load needs.
type PlanRow struct {
	LoadRPS   float64 `json:"load_rps"`
	Instances int     `json:"instances"`
	// Headroom is the fraction of each instance's capacity kept free.
	Headroom float64 `json:"headroom"`
	// PerInstanceRPS is the load each instance then carries.
	PerInstanceRPS float64 `json:"per_instance_rps"`
}

// Plan sizes each load: instances = ⌈load / (capacity × (1 − headroom))⌉.
func Plan(capacityRPS, headroom float64, loads []float64) []PlanRow {
	if capacityRPS <= 0 || headroom < 0 || headroom >= 1 {
		return nil
	}
	usable := capacityRPS * (1 - headroom)
	rows := make([]PlanRow, 0, len(loads))
	for _, l := range loads {
		n := int(math.Ceil(l / usable))
		n = max(n, 1)
		rows = append(rows, PlanRow{LoadRPS: l, Instances: n, Headroom: headroom, PerInstanceRPS: l / float64(n)})
	}
	return rows
}
