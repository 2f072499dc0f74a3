package slo

import "github.com/slogate/slogate/results"

// targetView is the result as the target alone made it: latency from the
// actual send (service latency, so no generator lateness or queueing in
// the generator), and only the requests that reached the target (censored
// ones, never sent before the drain deadline, are left out).
//
// A run whose generator could not hold the asked rate is inconclusive,
// unless it fails even on this view: then the target broke its objectives
// at less load than asked, by its own answers, and no limit of the
// generator explains that away (a hung target pins every worker; that is
// the target's latency, not the generator's fault).
func targetView(r *results.Result) *results.Result {
	v := *r
	v.Generator.Saturated = false
	v.Partial = false
	v.Summary = targetSummary(r.Summary)
	v.Phases = make([]results.Phase, len(r.Phases))
	for i, p := range r.Phases {
		p.Summary = targetSummary(p.Summary)
		v.Phases[i] = p
	}
	v.Endpoints = make([]results.Endpoint, len(r.Endpoints))
	for i, e := range r.Endpoints {
		e.Summary = targetSummary(e.Summary)
		v.Endpoints[i] = e
	}
	v.Histograms.Run = serviceSet(r.Histograms.Run)
	v.Histograms.Phases = map[string]results.HistogramSet{}
	for k, s := range r.Histograms.Phases {
		v.Histograms.Phases[k] = serviceSet(s)
	}
	v.Histograms.Endpoints = map[string]results.HistogramSet{}
	for k, s := range r.Histograms.Endpoints {
		v.Histograms.Endpoints[k] = serviceSet(s)
	}
	return &v
}

func serviceSet(s results.HistogramSet) results.HistogramSet {
	s.Latency = s.ServiceLatency
	return s
}

func targetSummary(s results.Summary) results.Summary {
	s.LatencyMs = s.ServiceLatencyMs
	s.Requests -= s.Censored
	s.ErrorCount -= s.Censored
	s.Censored = 0
	s.SetRates(0) // the outcome fractions; the per-second rates never counted censored requests
	return s
}

// failsOnItsOwn reports whether the target fails set on targetView(r).
func failsOnItsOwn(r *results.Result, set *Set, opts Options) bool {
	rep := Evaluate(targetView(r), set, opts)
	return rep.Verdict == Fail
}
