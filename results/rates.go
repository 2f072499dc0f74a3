package results

// SetRates derives a scope's rates from its counts, the one rule every
// producer of a Summary follows (the recorder, a merge of runs, k6's extra
// endpoints, the target's own view of a saturated run):
//
//	success_rate = success / requests
//	block_rate   = blocked / requests
//	error_rate   = errors / requests     (the three add up to 1)
//
// left as they are when there are no requests, and per second of measured
// time, rounded to 0.001 req/s,
//
//	request_rate_rps = (requests − censored) / seconds
//	throughput_rps   = (success + blocked) / seconds
//	success_rps      = success / seconds
//
// left as they are when seconds ≤ 0. Censored requests were never sent, so
// they count as errors but not as requests per second.
func (s *Summary) SetRates(seconds float64) {
	if s.Requests > 0 {
		n := float64(s.Requests)
		s.SuccessRate = float64(s.SuccessCount) / n
		s.BlockRate = float64(s.BlockedCount) / n
		s.ErrorRate = float64(s.ErrorCount) / n
	}
	if seconds > 0 {
		s.RequestRateRPS = round3(float64(s.Requests-s.Censored) / seconds)
		s.ThroughputRPS = round3(float64(s.SuccessCount+s.BlockedCount) / seconds)
		s.SuccessRPS = round3(float64(s.SuccessCount) / seconds)
	}
}

// Clock names a way of reading how long a result measured.
type Clock int

const (
	// PhaseTime is the duration of the measured (non-warm-up) phases, or
	// the run's duration when it has no phases or was interrupted: the
	// time base of the rates and of the error budget's spend.
	PhaseTime Clock = iota
	// IntervalSpan is the time the per-second intervals cover, from the
	// first one's start to the last one's end (warm-up included), or the
	// run's duration when it kept no intervals: what the HTML report's
	// "s measured" card shows beside its per-second charts.
	IntervalSpan
)

// MeasuredSeconds is how long r measured, read by clock. The two clocks
// differ by the warm-up and by gaps at the ends of a run, so say which.
func (r *Result) MeasuredSeconds(clock Clock) float64 {
	if clock == IntervalSpan {
		if len(r.Intervals) == 0 {
			return r.DurationS
		}
		lo, hi := r.Intervals[0].TS, r.Intervals[0].TS+1
		for _, iv := range r.Intervals[1:] {
			lo, hi = min(lo, iv.TS), max(hi, iv.TS+1)
		}
		return float64(hi - lo)
	}
	var s float64
	for _, p := range r.Phases {
		if !p.Warmup {
			s += p.DurationS
		}
	}
	if s == 0 || r.Partial {
		return r.DurationS
	}
	return s
}
