package k6

import (
	"math"
	"time"

	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// Executor is one k6 scenario (options.scenarios.<name>) as JSON.
type Executor struct {
	Executor        string  `json:"executor"`
	StartTime       string  `json:"startTime"`
	GracefulStop    string  `json:"gracefulStop"`
	TimeUnit        string  `json:"timeUnit"`
	Rate            int64   `json:"rate,omitempty"`
	Duration        string  `json:"duration,omitempty"`
	StartRate       *int64  `json:"startRate,omitempty"`
	Stages          []Stage `json:"stages,omitempty"`
	PreAllocatedVUs int64   `json:"preAllocatedVUs"`
	MaxVUs          int64   `json:"maxVUs"`
}

// Stage is one stage of a ramping-arrival-rate executor: the rate moves
// linearly to Target over Duration (a 0s stage is a jump).
type Stage struct {
	Duration string `json:"duration"`
	Target   int64  `json:"target"`
}

// Options is the part of k6's options the engine generates.
type Options struct {
	Scenarios             map[string]Executor `json:"scenarios"`
	DiscardResponseBodies bool                `json:"discardResponseBodies"`
	MaxRedirects          int                 `json:"maxRedirects"`
	SystemTags            []string            `json:"systemTags"`
	// ScenarioNames maps the k6 scenario names back to phases, in order
	// (not a k6 option; not serialised).
	ScenarioNames []string `json:"-"`
}

// prealloc is how much latency the pre-allocated VUs cover at the peak
// rate. k6 allocates more VUs (up to maxVUs) during the run, but an
// iteration that finds no free VU is dropped, so start with enough for a
// target answering within this time.
const prealloc = 100 * time.Millisecond

// BuildOptions translates the job's phases into k6 arrival-rate executors,
// back to back by startTime:
//
//	constant  constant-arrival-rate at rate
//	ramp      ramping-arrival-rate, startRate from, one stage to `to` over D
//	step      ramping-arrival-rate, per step a 0s jump then a hold of D/steps
//	burst     ramping-arrival-rate, jumps between burst_rate and rate
//	sine      ramping-arrival-rate, piecewise linear through r(t) every
//	          period/16 (at least 250 ms, at most 2000 stages)
//
// k6 rates are integers per timeUnit: when a phase has a fractional rate
// the rates are scaled by 1000 with a timeUnit of 1000s, so 0.5 req/s is
// 500 per 1000s. maxVUs is the job's concurrency cap (MaxWorkers, the same
// cap vegeta gets); preAllocatedVUs cover the peak rate × 100 ms (at least
// 20, at most maxVUs), because k6 drops an iteration that finds no free VU
// while it initialises another; gracefulStop is the job's drain time, so
// in-flight requests finish as they do in the vegeta engine.
func BuildOptions(job plan.Job) Options {
	phases := job.Scenario.Phases
	specs := job.Schedule.PhaseSpecs()
	names := ScenarioNames(phases)
	opts := Options{
		Scenarios:             map[string]Executor{},
		DiscardResponseBodies: true,
		MaxRedirects:          0,
		SystemTags:            []string{"status", "method", "scenario", "error", "error_code"},
		ScenarioNames:         names,
	}
	for i := range phases {
		p := &phases[i]
		scale := 1.0
		unit := "1s"
		if hasFraction(p) {
			scale, unit = 1000, "1000s"
		}
		peak := p.PeakRate()
		maxVUs := int64(job.MaxWorkers)
		pre := int64(math.Ceil(peak * prealloc.Seconds()))
		pre = max(pre, 20)
		if maxVUs <= 0 {
			maxVUs = max(pre, 32)
		}
		pre = min(pre, maxVUs)
		ex := Executor{
			StartTime:       dur(specs[i].Start),
			GracefulStop:    dur(max(job.Drain, time.Second)),
			TimeUnit:        unit,
			PreAllocatedVUs: pre,
			MaxVUs:          maxVUs,
		}
		rate := func(r float64) int64 { return int64(math.Round(r * scale)) }
		D := p.Duration.D()
		switch p.Kind {
		case "constant":
			ex.Executor = "constant-arrival-rate"
			ex.Rate = rate(p.Rate)
			ex.Duration = dur(D)
		default:
			ex.Executor = "ramping-arrival-rate"
			start, stages := rampStages(p)
			s := rate(start)
			ex.StartRate = &s
			for _, st := range stages {
				ex.Stages = append(ex.Stages, Stage{Duration: dur(st.d), Target: rate(st.r)})
			}
		}
		opts.Scenarios[names[i]] = ex
	}
	return opts
}

type stage struct {
	d time.Duration
	r float64
}

// rampStages returns the start rate and the stages of a non-constant phase.
func rampStages(p *scenarios.Phase) (float64, []stage) {
	D := p.Duration.D()
	switch p.Kind {
	case "ramp":
		return p.From, []stage{{D, p.To}}
	case "step":
		hold := D / time.Duration(p.Steps)
		var st []stage
		for k := 0; k < p.Steps; k++ {
			r := p.From + (p.To-p.From)*float64(k)/float64(p.Steps-1)
			if k == p.Steps-1 {
				hold = D - hold*time.Duration(p.Steps-1)
			}
			st = append(st, stage{0, r}, stage{hold, r})
		}
		return p.From, st
	case "burst":
		every, burst := p.BurstEvery.D(), p.BurstDuration.D()
		var st []stage
		for at := time.Duration(0); at < D; at += every {
			on := min(burst, D-at)
			st = append(st, stage{0, p.BurstRate}, stage{on, p.BurstRate})
			if off := min(every-burst, D-at-on); off > 0 {
				st = append(st, stage{0, p.Rate}, stage{off, p.Rate})
			}
		}
		return p.BurstRate, st
	case "sine":
		seg := max(p.Period.D()/16, 250*time.Millisecond)
		if D/seg > 2000 {
			seg = D / 2000
		}
		var st []stage
		for at := time.Duration(0); at < D; at += seg {
			d := min(seg, D-at)
			st = append(st, stage{d, p.RateAt(at + d)})
		}
		return p.RateAt(0), st
	}
	return p.Rate, []stage{{D, p.Rate}}
}

// hasFraction reports whether any rate the phase names is not a whole
// number of requests per second.
func hasFraction(p *scenarios.Phase) bool {
	frac := func(v float64) bool { return math.Abs(v-math.Round(v)) > 1e-9 }
	switch p.Kind {
	case "constant":
		return frac(p.Rate)
	case "ramp":
		return frac(p.From) || frac(p.To) || p.PeakRate() < 100
	case "step":
		for k := 0; k < p.Steps; k++ {
			if frac(p.From + (p.To-p.From)*float64(k)/float64(p.Steps-1)) {
				return true
			}
		}
		return false
	case "burst":
		return frac(p.Rate) || frac(p.BurstRate)
	default: // sine: every stage target is fractional
		return p.PeakRate() < 1000
	}
}

// dur formats d the way k6 parses durations ("1m30s", "250ms").
func dur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.String()
}
