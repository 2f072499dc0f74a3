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
