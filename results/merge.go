package results

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

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
	return merge(runs, false)
}

// MergeShards combines the shards of one run, made at the same time by
// several processes (execution segments), into the run: counts and
// histograms merge exactly as in MergeSequential (the same code), but on
// one time axis: the run lasts as long as its longest shard, per-second
// intervals of the same second add up (their histograms merged), a phase
// lasts as long as in any shard, rates are the summed counts over that
// time, target rates and planned requests add up (each shard planned its
// share), and the server side keeps one copy of each scraped URL (see
// mergeServers). The caller checks that the shards belong together
// (CheckShards) and sets the merged Segment.
func MergeShards(shards []*Result) (*Result, error) {
	if len(shards) == 0 {
		return nil, errors.New("merging shards: no shards")
	}
	return merge(shards, true)
}

// merge is MergeSequential's and MergeShards' one code: concurrent says
// whether the runs share one time axis (shards) or follow each other.
func merge(runs []*Result, concurrent bool) (*Result, error) {
	first := runs[0]
	agg := &Result{
		Schema: Schema, Scenario: first.Scenario, Engine: first.Engine, StartedAt: first.StartedAt,
		Environment: first.Environment,
		Histograms:  Histograms{Unit: "us", Phases: map[string]HistogramSet{}, Endpoints: map[string]HistogramSet{}},
		Phases:      []Phase{}, Endpoints: []Endpoint{}, Intervals: []Interval{},
	}
	runAcc := scopeAcc{concurrent: concurrent}
	phaseAcc := map[string]*scopeAcc{}
	endpointAcc := map[string]*scopeAcc{}
	offset := 0
	var pinnedWeighted, onSchedule float64
	intervals := intervalMerger{}
	for _, r := range runs {
		if concurrent {
			agg.DurationS = max(agg.DurationS, r.DurationS)
			if r.StartedAt.Before(agg.StartedAt) {
				agg.StartedAt = r.StartedAt
			}
			if r.Engine != first.Engine && agg.Engine == first.Engine {
				agg.Engine = first.Engine + "+" + r.Engine
			}
		} else {
			agg.DurationS += r.DurationS
		}
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
				acc = &scopeAcc{concurrent: concurrent}
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
				acc = &scopeAcc{concurrent: concurrent}
				endpointAcc[e.Name] = acc
				agg.Endpoints = append(agg.Endpoints, Endpoint{Name: e.Name})
			}
			if err := acc.add(&e.Summary, r.Histograms.Endpoints[e.Name], secs); err != nil {
				return nil, err
			}
		}
		if concurrent {
			if err := intervals.add(r.Intervals); err != nil {
				return nil, err
			}
		} else {
			last := 0
			for _, iv := range r.Intervals {
				iv.TS += offset
				agg.Intervals = append(agg.Intervals, iv)
				last = max(last, iv.TS)
			}
			offset = last + 1
		}
		g := r.Generator
		a := &agg.Generator
		if concurrent {
			a.MaxWorkers += g.MaxWorkers
		} else {
			a.MaxWorkers = max(a.MaxWorkers, g.MaxWorkers)
		}
		a.PlannedReqs += g.PlannedReqs
		a.SentReqs += g.SentReqs
		a.DroppedIterations += g.DroppedIterations
		a.Saturated = a.Saturated || g.Saturated
		// How the requests went: each client, HTTP version and proxy once.
		a.Transport = joinOnce(a.Transport, g.Transport)
		a.Proxy = joinOnce(a.Proxy, g.Proxy)
		for _, p := range g.Protocols {
			if !slices.Contains(a.Protocols, p) {
				a.Protocols = append(a.Protocols, p)
			}
		}
		slices.Sort(a.Protocols)
		for _, reason := range g.Reasons {
			if concurrent && r.Segment != nil {
				reason = "segment " + r.Segment.Value + ": " + reason
			}
			a.Reasons = append(a.Reasons, reason)
		}
		pinnedWeighted += g.PinnedFraction * float64(r.Summary.Requests)
		onSchedule += g.AchievedRatio * float64(g.PlannedReqs)
	}
	if agg.Generator.PlannedReqs > 0 {
		if concurrent {
			// Each shard's ratio is of its own share: weighted by the share,
			// they are the share of the whole run sent on schedule.
			agg.Generator.AchievedRatio = math.Round(1e4*onSchedule/float64(agg.Generator.PlannedReqs)) / 1e4
		} else {
			agg.Generator.AchievedRatio = float64(agg.Generator.SentReqs) / float64(agg.Generator.PlannedReqs)
		}
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
	if concurrent {
		agg.Intervals = intervals.result()
		agg.Server = mergeServers(runs)
	}
	return agg, nil
}

// intervalMerger adds up the per-second intervals of concurrent shards:
// the same second's counts and target rates add up and its histograms
// merge (2 significant digits, as recorded).
type intervalMerger struct {
	bySecond map[int]*Interval
	hists    map[int]*hdrhistogram.Histogram
}

func (m *intervalMerger) add(ivs []Interval) error {
	if m.bySecond == nil {
		m.bySecond, m.hists = map[int]*Interval{}, map[int]*hdrhistogram.Histogram{}
	}
	for _, iv := range ivs {
		h, err := DecodeHistogram(iv.Histogram)
		if err != nil {
			return fmt.Errorf("merging shards: second %d: %w", iv.TS, err)
		}
		a := m.bySecond[iv.TS]
		if a == nil {
			a = &Interval{TS: iv.TS}
			m.bySecond[iv.TS] = a
			m.hists[iv.TS] = newIntervalHistogram()
		}
		a.Requests += iv.Requests
		a.Success += iv.Success
		a.Blocked += iv.Blocked
		a.Errors += iv.Errors
		a.TargetRPS = round3(a.TargetRPS + iv.TargetRPS)
		a.SpanS = max(a.SpanS, iv.SpanS)
		m.hists[iv.TS].Merge(h)
	}
	return nil
}

func (m *intervalMerger) result() []Interval {
	out := make([]Interval, 0, len(m.bySecond))
	for ts, iv := range m.bySecond {
		h := m.hists[ts]
		iv.LatencyMs = LatencyFrom(h)
		iv.Histogram, _ = EncodeHistogram(h)
		out = append(out, *iv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// mergeServers combines the shards' server sides. Shards that scraped the
// same URL saw the same server (its counters count every shard's
// requests), so one copy of each URL is kept, the first shard's: keeping
// every copy would count the server's figures once per shard. Targets only
// some shards scraped are kept as they are. The summary is left to the
// caller (it is computed from the samples).
func mergeServers(runs []*Result) *Server {
	var out *Server
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Server == nil {
			continue
		}
		if out == nil {
			out = &Server{Keep: r.Server.Keep, Targets: []ScrapeTarget{}, Series: []ServerSeries{}}
		}
		out.DroppedSeries += r.Server.DroppedSeries
		out.DroppedScrapes += r.Server.DroppedScrapes
		index := map[int]int{}
		for i, t := range r.Server.Targets {
			if seen[t.URL] {
				continue
			}
			seen[t.URL] = true
			index[i] = len(out.Targets)
			out.Targets = append(out.Targets, t)
		}
		for _, s := range r.Server.Series {
			if to, ok := index[s.Target]; ok {
				s.Target = to
				out.Series = append(out.Series, s)
			}
		}
		if out.Summary == nil {
			out.Summary = r.Server.Summary
		}
	}
	return out
}

// scopeAcc accumulates one scope (run, phase or endpoint) over runs.
type scopeAcc struct {
	// concurrent: the scopes ran at the same time (shards), so their
	// seconds do not add up and their target rates do.
	concurrent                 bool
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
	if a.concurrent {
		a.seconds = max(a.seconds, seconds)
		a.targetWeighted += s.TargetRateRPS
	} else {
		a.seconds += seconds
		a.targetWeighted += s.TargetRateRPS * seconds
	}
	return nil
}

func (a *scopeAcc) result() (Summary, HistogramSet) {
	s := a.sum
	s.LatencyMs = LatencyFrom(a.latency)
	s.ServiceLatencyMs = LatencyFrom(a.service)
	s.LatenessMs = LatencyFrom(a.lateness)
	s.SetRates(a.seconds)
	switch {
	case a.concurrent:
		s.TargetRateRPS = round3(a.targetWeighted)
	case a.seconds > 0:
		s.TargetRateRPS = round3(a.targetWeighted / a.seconds)
	}
	var hs HistogramSet
	hs.Latency, _ = EncodeHistogram(a.latency)
	hs.ServiceLatency, _ = EncodeHistogram(a.service)
	hs.Lateness, _ = EncodeHistogram(a.lateness)
	return s, hs
}

// joinOnce adds b to the comma-separated list a unless it is empty or
// already there.
func joinOnce(a, b string) string {
	switch {
	case b == "" || slices.Contains(strings.Split(a, ", "), b):
		return a
	case a == "":
		return b
	}
	return a + ", " + b
}
