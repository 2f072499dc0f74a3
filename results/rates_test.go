package results

import "testing"

func TestSetRates(t *testing.T) {
	s := Summary{Requests: 1000, SuccessCount: 900, BlockedCount: 60, ErrorCount: 40, Censored: 10}
	s.SetRates(3)
	if s.SuccessRate != 0.9 || s.BlockRate != 0.06 || s.ErrorRate != 0.04 {
		t.Errorf("fractions %v %v %v, want 0.9 0.06 0.04", s.SuccessRate, s.BlockRate, s.ErrorRate)
	}
	// (1000 − 10)/3 = 330, 960/3 = 320, 900/3 = 300; rounded to 0.001.
	if s.RequestRateRPS != 330 || s.ThroughputRPS != 320 || s.SuccessRPS != 300 {
		t.Errorf("per second %v %v %v, want 330 320 300", s.RequestRateRPS, s.ThroughputRPS, s.SuccessRPS)
	}
	s.SetRates(7)
	if s.SuccessRPS != 128.571 {
		t.Errorf("900/7 = %v, want 128.571", s.SuccessRPS)
	}
	empty := Summary{SuccessRate: 1, RequestRateRPS: 5}
	empty.SetRates(0)
	if empty.SuccessRate != 1 || empty.RequestRateRPS != 5 {
		t.Errorf("no requests, no seconds changed the rates: %+v", empty)
	}
}

func TestMeasuredSeconds(t *testing.T) {
	r := &Result{
		DurationS: 13,
		Phases:    []Phase{{Name: "warm", Warmup: true, DurationS: 2}, {Name: "steady", DurationS: 10}},
		Intervals: []Interval{{TS: 1}, {TS: 0}, {TS: 11}},
	}
	if got := r.MeasuredSeconds(PhaseTime); got != 10 {
		t.Errorf("phase time %v, want 10 (warm-up out)", got)
	}
	if got := r.MeasuredSeconds(IntervalSpan); got != 12 {
		t.Errorf("interval span %v, want 12 (t=0 .. t=12)", got)
	}
	r.Partial = true
	if got := r.MeasuredSeconds(PhaseTime); got != 13 {
		t.Errorf("interrupted run: phase time %v, want its duration 13", got)
	}
	r.Intervals = nil
	if got := r.MeasuredSeconds(IntervalSpan); got != 13 {
		t.Errorf("no intervals: span %v, want the duration 13", got)
	}
}
