package plan

import (
	"sort"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/scenarios"
)

// Schedule is the open-model arrival schedule of a whole scenario: all
// phases back to back. Request seq (0-based, across phases) is due at
// Due(seq) from the run start.
//
// A segmented schedule (Segmented) is one process's share of the run:
// seq then numbers this process's requests, and Global(seq) is the
// request's number in the whole run (what the mix's entry, identity and
// body are functions of). Without a segment Global(seq) = seq.
type Schedule struct {
	phases  []scenarios.Phase
	starts  []time.Duration // phase start offsets
	firsts  []int64         // first seq of each phase (this process's)
	gfirsts []int64         // first global seq of each phase
	total   int64
	end     time.Duration
	segment *Segment
}

// NewSchedule lays the scenario's phases end to end.
func NewSchedule(s *scenarios.Scenario) *Schedule {
	sc := &Schedule{phases: s.Phases}
	var at time.Duration
	var seq int64
	for i := range s.Phases {
		sc.starts = append(sc.starts, at)
		sc.firsts = append(sc.firsts, seq)
		seq += s.Phases[i].Planned()
		at += s.Phases[i].Duration.D()
	}
	sc.total, sc.end = seq, at
	sc.gfirsts = sc.firsts
	return sc
}

// Segmented returns the share of a whole schedule (NewSchedule) that
// belongs to seg: in each phase, the requests whose position in the phase
// seg owns.
func (sc *Schedule) Segmented(seg *Segment) *Schedule {
	if seg == nil {
		return sc
	}
	out := *sc
	out.segment = seg
	out.firsts = make([]int64, len(sc.gfirsts))
	var seq int64
	for i := range sc.phases {
		out.firsts[i] = seq
		seq += seg.Count(sc.phaseTotal(i))
	}
	out.total = seq
	return &out
}

// Segment is the schedule's segment, or nil for the whole run.
func (sc *Schedule) Segment() *Segment {
	if sc == nil {
		return nil
	}
	return sc.segment
}

// phaseTotal is the whole run's number of requests in phase i.
func (sc *Schedule) phaseTotal(i int) int64 {
	if i+1 < len(sc.gfirsts) {
		return sc.gfirsts[i+1] - sc.gfirsts[i]
	}
	var n int64
	for j := range sc.phases {
		n += sc.phases[j].Planned()
	}
	return n - sc.gfirsts[i]
}

// Global returns the whole run's number of this process's request seq.
func (sc *Schedule) Global(seq int64) int64 {
	if sc.segment == nil {
		return seq
	}
	i := sc.PhaseOf(seq)
	return sc.gfirsts[i] + sc.segment.Nth(seq-sc.firsts[i])
}

// Total is the number of requests the schedule sends.
func (sc *Schedule) Total() int64 { return sc.total }

// End is the schedule's length.
func (sc *Schedule) End() time.Duration { return sc.end }

// PhaseOf returns the index of the phase request seq belongs to.
func (sc *Schedule) PhaseOf(seq int64) int {
	i := sort.Search(len(sc.firsts), func(i int) bool { return sc.firsts[i] > seq }) - 1
	if i < 0 {
		return 0
	}
	return i
}

// Due returns when request seq is due, from the run start, and its phase.
func (sc *Schedule) Due(seq int64) (time.Duration, int) {
	i := sc.PhaseOf(seq)
	return sc.starts[i] + sc.phases[i].Due(sc.segment.Nth(seq-sc.firsts[i])), i
}

// RateAt is the asked rate at offset t from the run start (this process's
// share of it when segmented).
func (sc *Schedule) RateAt(t time.Duration) float64 {
	return sc.segment.Fraction() * sc.wholeRateAt(t)
}

func (sc *Schedule) wholeRateAt(t time.Duration) float64 {
	for i := len(sc.starts) - 1; i >= 0; i-- {
		if t >= sc.starts[i] {
			if t-sc.starts[i] >= sc.phases[i].Duration.D() {
				return 0
			}
			return sc.phases[i].RateAt(t - sc.starts[i])
		}
	}
	return 0
}

// PhaseSpecs describes the phases to a results.Recorder.
func (sc *Schedule) PhaseSpecs() []results.PhaseSpec {
	var out []results.PhaseSpec
	for i := range sc.phases {
		p := &sc.phases[i]
		planned := sc.total - sc.firsts[i]
		if i+1 < len(sc.firsts) {
			planned = sc.firsts[i+1] - sc.firsts[i]
		}
		out = append(out, results.PhaseSpec{
			Name: p.Name, Kind: p.Kind, Warmup: p.Warmup,
			Start: sc.starts[i], Duration: p.Duration.D(), Planned: planned,
		})
	}
	return out
}

// MeasuredPlanned is the number of requests scheduled in measured phases.
func (sc *Schedule) MeasuredPlanned() int64 {
	var n int64
	for _, p := range sc.PhaseSpecs() {
		if !p.Warmup {
			n += p.Planned
		}
	}
	return n
}
