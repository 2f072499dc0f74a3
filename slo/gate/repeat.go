package gate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
)

// MaxRepeat bounds the runs per side: beyond it the runs cost more than
// the statistics gain (benchstat: "at least 10, ideally 20").
const MaxRepeat = 100

// Side names one side of an A/B run; a plain repeat has only New.
type Side string

const (
	Base Side = "base" // the baseline side, run first in each pair
	New  Side = "new"  // the side under test: its aggregate is gated
)

// RunFunc runs the i-th run (1-based) of a side and returns its result,
// not yet evaluated. A run cut short by ctx returns its partial result.
type RunFunc func(ctx context.Context, side Side, i int) (*results.Result, error)

// Repeat is `slogate run --repeat N` and its A/B form: N runs of one
// scenario, or N runs of each of two sides interleaved base, new, base,
// new … so that slow drift of the machine (thermal, other tenants) spreads
// over both sides instead of becoming a difference.
type Repeat struct {
	// Runs per side, 1..MaxRepeat.
	Runs int
	// AB runs the Base side too.
	AB bool
	// Run runs one run; it is the only part that sends load.
	Run RunFunc
	// New and Base are what each side's runs are judged on; Base only
	// with AB.
	New, Base Criteria
	// Out, when set, names the runs' files (RunFileName).
	Out string
	// History, when set, stores every run (not the aggregate: it is no run).
	History Store
	// Ran is told each run once it is evaluated, written and stored.
	Ran func(RunReport)
	// Warn is told what went wrong without changing a verdict.
	Warn func(error)
}

// RunReport describes one finished run of a Repeat.
type RunReport struct {
	Done, Total int  // this is run Done of Total (all sides)
	Side        Side // its side
	AB          bool // whether there are two sides
	Result      *results.Result
	File        string // where it was written ("" without Out)
}

// Repeated is what a Repeat produced.
type Repeated struct {
	// The runs of each side, in order (Base empty without AB).
	Base, New []*results.Result
	// Aggregate is the NEW side's runs merged histogram by histogram
	// (results.MergeSequential, never averaged percentiles): the result to
	// gate on (Stage.Finish), not yet evaluated.
	Aggregate *results.Result
	// Comparison of the sides (AB only): slo.Compare's Mann-Whitney U
	// across runs from 2 runs a side (4 for significance at 0.05), the
	// interval bootstrap for 1, judged with slo.JudgeComparison.
	Comparison *results.Comparison
}

// Do runs the repeat: every run is evaluated against its side's criteria,
// written (RunFileName) and stored in the history, in the order base, new,
// base, new …; a cancelled ctx stops after the run under way. Then it
// merges the NEW side and, in A/B, compares the sides. The exit code comes
// with an error: ExitBadInput for a run or a file that failed,
// ExitInconclusive when no NEW run finished.
func (r *Repeat) Do(ctx context.Context) (*Repeated, ExitCode, error) {
	if r.Runs < 1 || r.Runs > MaxRepeat {
		return nil, ExitBadInput, fmt.Errorf("%d runs per side: want 1..%d", r.Runs, MaxRepeat)
	}
	type side struct {
		name     Side
		criteria Criteria
		runs     []*results.Result
	}
	newSide := &side{name: New, criteria: r.New}
	sides := []*side{newSide}
	if r.AB {
		sides = []*side{{name: Base, criteria: r.Base}, newSide}
	}
	total := r.Runs * len(sides)
	done := 0
	for i := 1; i <= r.Runs && ctx.Err() == nil; i++ {
		for _, sd := range sides {
			if ctx.Err() != nil {
				break
			}
			done++
			res, err := r.Run(ctx, sd.name, i)
			if err != nil {
				return nil, ExitBadInput, fmt.Errorf("run %d of %d (%s): %w", done, total, sd.name, err)
			}
			sd.criteria.Evaluate(res)
			file := ""
			if r.Out != "" {
				file = RunFileName(r.Out, sd.name, i, r.AB)
				if err := results.Write(file, res); err != nil {
					return nil, ExitBadInput, err
				}
			}
			storeIn(r.History, r.Warn, res)
			sd.runs = append(sd.runs, res)
			if r.Ran != nil {
				r.Ran(RunReport{Done: done, Total: total, Side: sd.name, AB: r.AB, Result: res, File: file})
			}
		}
	}
	if len(newSide.runs) == 0 {
		return nil, ExitInconclusive, errors.New("interrupted before any run finished")
	}
	out := &Repeated{New: newSide.runs}
	agg, err := results.MergeSequential(newSide.runs)
	if err != nil {
		return nil, ExitBadInput, err
	}
	out.Aggregate = agg
	if !r.AB {
		return out, ExitPass, nil
	}
	out.Base = sides[0].runs
	c, err := slo.Compare(out.Base, out.New, slo.CompareOptions{Force: true, ABRun: true})
	if err != nil {
		return nil, ExitBadInput, err
	}
	// The gate is the aggregate's; the sides differ on purpose here.
	slo.JudgeComparison(c, append(append([]*results.Result{}, out.Base...), out.New...), true)
	out.Comparison = c
	return out, ExitPass, nil
}

// RunFileName is r-3.json for the third run of out r.json, or
// r-base-3.json / r-new-3.json in A/B.
func RunFileName(out string, side Side, i int, ab bool) string {
	ext := filepath.Ext(out)
	stem := strings.TrimSuffix(out, ext)
	if ext == "" {
		ext = ".json"
	}
	if ab {
		return fmt.Sprintf("%s-%s-%d%s", stem, side, i, ext)
	}
	return fmt.Sprintf("%s-%d%s", stem, i, ext)
}
