package scenarios

import (
	"math"
	"time"

	"github.com/slogate/slogate/scenarios/yamlfile"
)

// Phase is one stage of the open-model load profile. The rate r(t) of each
// kind, with t measured from the phase start and D its duration:
//
//	constant  r(t) = rate
//	ramp      r(t) = from + (to−from)·t/D
//	step      `steps` equal stages; stage k (0-based) runs at from + (to−from)·k/(steps−1)
//	sine      r(t) = rate + amplitude·sin(2πt/period)          (amplitude ≤ rate)
//	burst     r(t) = burst_rate during [k·every, k·every+burst_duration), else rate
//
// The schedule sends hit i of the phase at the t where Hits(t) = i, with
// Hits(t) = ∫₀ᵗ r(u) du, so hit 0 goes at the phase start and the phase
// sends ⌈Hits(D)⌉ requests.
type Phase struct {
	Name          string   `yaml:"name"`
	Kind          string   `yaml:"kind"`
	Duration      Duration `yaml:"duration"`
	Warmup        bool     `yaml:"warmup"`
	Rate          float64  `yaml:"rate"`
	From          float64  `yaml:"from"`
	To            float64  `yaml:"to"`
	Steps         int      `yaml:"steps"`
	Amplitude     float64  `yaml:"amplitude"`
	Period        Duration `yaml:"period"`
	BurstRate     float64  `yaml:"burst_rate"`
	BurstEvery    Duration `yaml:"burst_every"`
	BurstDuration Duration `yaml:"burst_duration"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// ferr is an error about one of the phase's fields; Scenario.validate
// adds the file, the line and the phase's index.
func ferr(field, format string, args ...any) error { return yamlfile.Errorf(field, format, args...) }

func (p *Phase) validate() error {
	if p.Kind == "" {
		p.Kind = "constant"
	}
	if len(p.Name) > MaxNameBytes {
		return ferr("name", "%d bytes, at most %d", len(p.Name), MaxNameBytes)
	}
	if p.Duration <= 0 {
		return ferr("duration", "must be > 0 (e.g. 30s)")
	}
	for _, d := range []struct {
		field string
		value Duration
	}{{"duration", p.Duration}, {"period", p.Period}, {"burst_every", p.BurstEvery}, {"burst_duration", p.BurstDuration}} {
		if d.value.D() > MaxDuration {
			return ferr(d.field, "at most %s (got %s)", durText(MaxDuration), d.value.D())
		}
	}
	// NaN fails every comparison, so each test is written to fail on it.
	positive := func(field string, v float64) error {
		if !(v > 0 && v <= maxRate) {
			return ferr(field, "must be > 0 and <= %g requests/s (got %g)", maxRate, v)
		}
		return nil
	}
	nonNeg := func(field string, v float64) error {
		if !(v >= 0 && v <= maxRate) {
			return ferr(field, "must be >= 0 and <= %g requests/s (got %g)", maxRate, v)
		}
		return nil
	}
	switch p.Kind {
	case "constant":
		return positive("rate", p.Rate)
	case "ramp":
		if err := nonNeg("from", p.From); err != nil {
			return err
		}
		if err := nonNeg("to", p.To); err != nil {
			return err
		}
		if p.From == 0 && p.To == 0 {
			return ferr("to", "a ramp needs from or to > 0")
		}
	case "step":
		if err := positive("from", p.From); err != nil {
			return err
		}
		if err := positive("to", p.To); err != nil {
			return err
		}
		if p.Steps < 2 || p.Steps > MaxSteps {
			return ferr("steps", "must be >= 2 and at most %d (got %d)", MaxSteps, p.Steps)
		}
	case "sine":
		if err := positive("rate", p.Rate); err != nil {
			return err
		}
		if !(p.Amplitude >= 0 && p.Amplitude <= p.Rate) {
			return ferr("amplitude", "must be between 0 and rate (%g)", p.Rate)
		}
		if p.Period <= 0 {
			return ferr("period", "must be > 0 (e.g. 10s)")
		}
	case "burst":
		if err := nonNeg("rate", p.Rate); err != nil {
			return err
		}
		if err := positive("burst_rate", p.BurstRate); err != nil {
			return err
		}
		if p.BurstEvery <= 0 {
			return ferr("burst_every", "must be > 0 (e.g. 10s)")
		}
		if p.BurstDuration <= 0 || p.BurstDuration > p.BurstEvery {
			return ferr("burst_duration", "must be > 0 and <= burst_every")
		}
	default:
		return ferr("kind", "unknown phase kind %q (want constant, ramp, step, sine or burst)", p.Kind)
	}
	if p.Planned() < 1 {
		return ferr("duration", "the phase schedules no request at all: raise rate or duration")
	}
	return nil
}

// RateAt returns r(t) for t in [0, D).
func (p *Phase) RateAt(t time.Duration) float64 {
	x := t.Seconds()
	d := p.Duration.D().Seconds()
	switch p.Kind {
	case "ramp":
		return p.From + (p.To-p.From)*x/d
	case "step":
		k := math.Floor(x / (d / float64(p.Steps)))
		k = math.Min(k, float64(p.Steps-1))
		return p.From + (p.To-p.From)*k/float64(p.Steps-1)
	case "sine":
		return p.Rate + p.Amplitude*math.Sin(2*math.Pi*x/p.Period.D().Seconds())
	case "burst":
		every, dur := p.BurstEvery.D().Seconds(), p.BurstDuration.D().Seconds()
		if math.Mod(x, every) < dur {
			return p.BurstRate
		}
		return p.Rate
	default:
		return p.Rate
	}
}

// Hits returns ∫₀ᵗ r(u) du: how many requests are due by t.
func (p *Phase) Hits(t time.Duration) float64 {
	x := t.Seconds()
	d := p.Duration.D().Seconds()
	switch p.Kind {
	case "ramp":
		return p.From*x + (p.To-p.From)*x*x/(2*d)
	case "step":
		// k whole stages of length d/steps have passed, each at its own
		// rate; their sum is an arithmetic series:
		//   stage·Σ_{j<k} (from + Δ·j) = stage·(k·from + Δ·k(k−1)/2), Δ = (to−from)/(steps−1)
		// plus the part of stage k reached so far.
		if x <= 0 {
			return 0
		}
		stage := d / float64(p.Steps)
		steps := float64(p.Steps)
		delta := (p.To - p.From) / (steps - 1)
		k := math.Min(math.Floor(x/stage), steps)
		whole := stage * (k*p.From + delta*k*(k-1)/2)
		if k >= steps {
			return whole
		}
		return whole + (x-k*stage)*(p.From+delta*k)
	case "sine":
		per := p.Period.D().Seconds()
		return p.Rate*x + p.Amplitude*per/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/per))
	case "burst":
		every, dur := p.BurstEvery.D().Seconds(), p.BurstDuration.D().Seconds()
		cycles := math.Floor(x / every)
		rem := x - cycles*every
		perCycle := dur*p.BurstRate + (every-dur)*p.Rate
		inCycle := math.Min(rem, dur)*p.BurstRate + math.Max(0, rem-dur)*p.Rate
		return cycles*perCycle + inCycle
	default:
		return p.Rate * x
	}
}

// Planned is the number of requests the phase sends: ⌈Hits(D)⌉.
func (p *Phase) Planned() int64 {
	h := p.Hits(p.Duration.D())
	return int64(math.Ceil(h - 1e-9))
}

// Due returns the offset from the phase start at which hit i (0-based) is
// due: the smallest t with Hits(t) = i. Hits is piecewise linear or
// quadratic for every kind but sine, so those invert in closed form;
// sine's Hits mixes t and cos t and is solved by Newton's method
// (sineDue). The engine computes it once per request (the vegeta engine's
// pacer keeps it for the transport and the recorder).
func (p *Phase) Due(i int64) time.Duration {
	if i <= 0 {
		return 0
	}
	target := float64(i)
	switch {
	case p.Kind == "constant":
		return time.Duration(target / p.Rate * float64(time.Second))
	case p.Kind == "step":
		return p.stepDue(target)
	case p.Kind == "burst":
		return p.burstDue(target)
	case p.Kind == "sine":
		return p.sineDue(target)
	case p.Kind == "ramp" && p.To != p.From:
		// Hits(t) = a·t + k·t²/2 with k = (to−from)/D: the positive root of
		// k/2·t² + a·t − i = 0, written as 2i/(a+√(a²+2ki)) so it stays exact
		// when k is tiny or negative (a ramp down).
		a, k := p.From, (p.To-p.From)/p.Duration.D().Seconds()
		disc := a*a + 2*k*target
		if disc >= 0 && a+math.Sqrt(disc) > 0 {
			return time.Duration(2 * target / (a + math.Sqrt(disc)) * float64(time.Second))
		}
	}
	lo, hi := 0.0, p.Duration.D().Seconds()
	for range 64 {
		mid := (lo + hi) / 2
		if p.Hits(time.Duration(mid*float64(time.Second))) < target {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-7 {
			break
		}
	}
	return time.Duration(hi * float64(time.Second))
}

// stepDue inverts the step profile's Hits. Stage k (length L = D/steps)
// starts after H_k = L·(k·from + Δ·k(k−1)/2) hits (Hits above) and runs at
// r_k = from + Δ·k, so hit i is due at k·L + (i − H_k)/r_k in the last
// stage k with H_k ≤ i, found by binary search over k (H_k grows with k:
// every stage rate is > 0).
func (p *Phase) stepDue(i float64) time.Duration {
	d := p.Duration.D().Seconds()
	steps := p.Steps
	stage := d / float64(steps)
	delta := (p.To - p.From) / float64(steps-1)
	startHits := func(k int) float64 {
		kf := float64(k)
		return stage * (kf*p.From + delta*kf*(kf-1)/2)
	}
	lo, hi := 0, steps-1 // the last stage k with startHits(k) <= i
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if startHits(mid) <= i {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	t := float64(lo)*stage + (i-startHits(lo))/(p.From+delta*float64(lo))
	return seconds(math.Min(t, d))
}

// burstDue inverts the burst profile's Hits. A cycle of length E = every
// sends B = dur·burst_rate hits in its burst and (E − dur)·rate after it,
// c = ⌊i/perCycle⌋ whole cycles come first, and the rest ρ = i − c·perCycle
// falls in the burst (ρ < B: at c·E + ρ/burst_rate) or after it (at
// c·E + dur + (ρ − B)/rate). With rate 0, Hits is flat between bursts, so
// the smallest t for a hit that ends a cycle (ρ = 0) is that cycle's last
// instant: the end of the previous burst.
func (p *Phase) burstDue(i float64) time.Duration {
	d := p.Duration.D().Seconds()
	every, dur := p.BurstEvery.D().Seconds(), p.BurstDuration.D().Seconds()
	inBurst := dur * p.BurstRate
	perCycle := inBurst + (every-dur)*p.Rate
	cycles := math.Floor(i / perCycle)
	rest := i - cycles*perCycle
	var t float64
	switch {
	case p.Rate == 0 && cycles > 0 && rest < 1e-9*i:
		t = (cycles-1)*every + dur
	case rest <= inBurst:
		t = cycles*every + rest/p.BurstRate
	case p.Rate > 0:
		t = cycles*every + dur + (rest-inBurst)/p.Rate
	default: // rounding: ρ past the burst's hits with nothing after it
		t = cycles*every + dur
	}
	return seconds(math.Min(t, d))
}

// sineDue solves Hits(t) = i for a sine phase by Newton's method,
// t ← t − (Hits(t) − i)/r(t), kept inside a bracket [lo, hi] of the root
// that every step narrows (Hits is non-decreasing): a step that would leave
// the bracket, or r(t) = 0 (amplitude = rate, at a trough), bisects
// instead. Starting from i/rate it converges in a few steps where plain
// bisection to 100 ns took some 30 evaluations of the cosine.
func (p *Phase) sineDue(i float64) time.Duration {
	d := p.Duration.D().Seconds()
	w := 2 * math.Pi / p.Period.D().Seconds()
	hits := func(x float64) float64 { return p.Rate*x + p.Amplitude/w*(1-math.Cos(w*x)) }
	lo, hi := 0.0, d
	x := math.Min(i/p.Rate, d)
	for range 100 {
		f := hits(x) - i
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		r := p.Rate + p.Amplitude*math.Sin(w*x)
		next := x - f/r
		if !(r > 0) || !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-x) < 1e-9 || hi-lo < 1e-9 {
			x = next
			break
		}
		x = next
	}
	return seconds(math.Min(x, d))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// PeakRate is the highest rate the phase asks for.
func (p *Phase) PeakRate() float64 {
	switch p.Kind {
	case "ramp", "step":
		return math.Max(p.From, p.To)
	case "sine":
		return p.Rate + p.Amplitude
	case "burst":
		return math.Max(p.Rate, p.BurstRate)
	default:
		return p.Rate
	}
}
