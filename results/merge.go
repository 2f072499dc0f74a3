package results

import (
	"errors"
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MergeSequential combines runs of one scenario made one after another into
// one aggregate result: counts add up, histograms merge exactly (the
// aggregate's percentiles are those of all requests together), rates are
// totals over the summed measured time, per-second intervals are
// concatenated (each run's shifted after the previous one's), phases and
// endpoints merge by name, and a phase's duration_s is its total over the
// runs. Unlike a merge of concurrent shards, throughputs do not add up.
func MergeSequential(runs []*Result) (*Result, error) {
	if len(runs) == 0 {
		return nil, errors.New("merging runs: no runs")
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	first := runs[0]
	agg := &Result{
		Schema: Schema, Scenario: first.Scenario, Engine: first.Engine, StartedAt: first.StartedAt,
		Environment: first.Environment,
		Histograms:  Histograms{Unit: "us", Phases: map[string]HistogramSet{}, Endpoints: map[string]HistogramSet{}},
		Phases:      []Phase{}, Endpoints: []Endpoint{}, Intervals: []Interval{},
	}
	var runAcc scopeAcc
	phaseAcc := map[string]*scopeAcc{}
	endpointAcc := map[string]*scopeAcc{}
	offset := 0
	var pinnedWeighted float64
	for _, r := range runs {
		agg.DurationS += r.DurationS
		agg.Partial = agg.Partial || r.Partial
		secs := 0.0
		for _, p := range r.Phases {
			if !p.Warmup {
				secs += p.DurationS
			}
		}
		if err := runAcc.add(&r.Summary, r.Histograms.Run, secs); err != nil {
			return nil, err
		}
		for _, p := range r.Phases {
			acc := phaseAcc[p.Name]
			if acc == nil {
				acc = &scopeAcc{}
				phaseAcc[p.Name] = acc
				agg.Phases = append(agg.Phases, Phase{Name: p.Name, Kind: p.Kind, Warmup: p.Warmup, StartS: p.StartS})
			}
			if err := acc.add(&p.Summary, r.Histograms.Phases[p.Name], p.DurationS); err != nil {
				return nil, err
			}
		}
		for _, e := range r.Endpoints {
			acc := endpointAcc[e.Name]
			if acc == nil {
				acc = &scopeAcc{}
				endpointAcc[e.Name] = acc
				agg.Endpoints = append(agg.Endpoints, Endpoint{Name: e.Name})
			}
			if err := acc.add(&e.Summary, r.Histograms.Endpoints[e.Name], secs); err != nil {
				return nil, err
			}
		}
		last := 0
		for _, iv := range r.Intervals {
			iv.TS += offset
			agg.Intervals = append(agg.Intervals, iv)
			last = max(last, iv.TS)
		}
		offset = last + 1
		g := r.Generator
		a := &agg.Generator
		a.MaxWorkers = max(a.MaxWorkers, g.MaxWorkers)
		a.PlannedReqs += g.PlannedReqs
		a.SentReqs += g.SentReqs
		a.DroppedIterations += g.DroppedIterations
		a.Saturated = a.Saturated || g.Saturated
		a.Reasons = append(a.Reasons, g.Reasons...)
		pinnedWeighted += g.PinnedFraction * float64(r.Summary.Requests)
	}
	if agg.Generator.PlannedReqs > 0 {
		agg.Generator.AchievedRatio = float64(agg.Generator.SentReqs) / float64(agg.Generator.PlannedReqs)
	}
	if runAcc.sum.Requests > 0 {
		agg.Generator.PinnedFraction = pinnedWeighted / float64(runAcc.sum.Requests)
	}
	agg.Summary, agg.Histograms.Run = runAcc.result()
	for i := range agg.Phases {
		acc := phaseAcc[agg.Phases[i].Name]
		agg.Phases[i].Summary, agg.Histograms.Phases[agg.Phases[i].Name] = acc.result()
		agg.Phases[i].DurationS = acc.seconds
	}
	for i := range agg.Endpoints {
		agg.Endpoints[i].Summary, agg.Histograms.Endpoints[agg.Endpoints[i].Name] = endpointAcc[agg.Endpoints[i].Name].result()
	}
	agg.ScriptThresholds = mergeScriptThresholds(runs)
	return agg, nil
}

// scopeAcc accumulates one scope (run, phase or endpoint) over runs.
type scopeAcc struct {
	sum                        Summary
	seconds, targetWeighted    float64
	latency, service, lateness *hdrhistogram.Histogram
}

func (a *scopeAcc) add(s *Summary, hs HistogramSet, seconds float64) error {
	if a.latency == nil {
		a.latency, a.service, a.lateness = NewHistogram(), NewHistogram(), NewHistogram()
		a.sum.StatusCodes, a.sum.Errors = map[string]int64{}, map[string]int64{}
	}
	for _, m := range []struct {
		into *hdrhistogram.Histogram
		enc  string
	}{{a.latency, hs.Latency}, {a.service, hs.ServiceLatency}, {a.lateness, hs.Lateness}} {
		h, err := DecodeHistogram(m.enc)
		if err != nil {
			return fmt.Errorf("merging runs: %w", err)
		}
		m.into.Merge(h)
	}
	a.sum.Requests += s.Requests
	a.sum.SuccessCount += s.SuccessCount
	a.sum.BlockedCount += s.BlockedCount
	a.sum.ErrorCount += s.ErrorCount
	a.sum.Censored += s.Censored
	a.sum.Cancelled += s.Cancelled
	a.sum.GeneratorErrors += s.GeneratorErrors
	a.sum.BytesIn += s.BytesIn
	a.sum.BytesOut += s.BytesOut
	for k, v := range s.StatusCodes {
		a.sum.StatusCodes[k] += v
	}
	for k, v := range s.Errors {
		a.sum.Errors[k] += v
	}
	a.seconds += seconds
	a.targetWeighted += s.TargetRateRPS * seconds
	return nil
}

func (a *scopeAcc) result() (Summary, HistogramSet) {
	s := a.sum
	s.LatencyMs = LatencyFrom(a.latency)
	s.ServiceLatencyMs = LatencyFrom(a.service)
	s.LatenessMs = LatencyFrom(a.lateness)
	s.SetRates(a.seconds)
	if a.seconds > 0 {
		s.TargetRateRPS = round3(a.targetWeighted / a.seconds)
	}
	var hs HistogramSet
	hs.Latency, _ = EncodeHistogram(a.latency)
	hs.ServiceLatency, _ = EncodeHistogram(a.service)
	hs.Lateness, _ = EncodeHistogram(a.lateness)
	return s, hs
}
