package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
	"github.com/slogate/slogate/runner"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/slo"
)

// maxRepeat bounds --repeat: beyond it the runs cost more than the
// statistics gain (benchstat: "at least 10, ideally 20").
const maxRepeat = 100

// historyStore returns the function finish uses to store a run in the
// history, or nil with --no-history.
func (f *runFlags) historyStore(stderr io.Writer) func(*results.Result) string {
	if f.noHistory {
		return nil
	}
	dir := f.history
	return func(r *results.Result) string { return appendHistory(dir, r, stderr) }
}

// runRepeated is `slogate run --repeat N` and the A/B form
// (--compare-with / --base-env). Every run is evaluated, written (--out
// r.json → r-1.json …, or r-base-1.json / r-new-1.json in A/B) and stored
// in the history. The gate is the NEW side's aggregate: its runs merged
// histogram by histogram (never averaged percentiles), written to --out.
//
// A/B runs are interleaved base, new, base, new … so slow drift of the
// machine (thermal, other tenants) spreads over both sides instead of
// becoming a difference, then compared with slo.Compare: Mann-Whitney U
// across runs from 2 runs a side (needing 4 for significance at 0.05),
// the interval bootstrap for 1.
func runRepeated(ctx context.Context, cmd *cobra.Command, args []string, f *runFlags, s *scenarios.Scenario, set *slo.Set, baseline *results.Result, opts runner.Options) error {
	if f.repeat < 1 || f.repeat > maxRepeat {
		return badInput(fmt.Errorf("--repeat %d: want 1..%d", f.repeat, maxRepeat))
	}
	ab := f.compareWith != "" || len(f.baseEnv) > 0
	var baseScenario *scenarios.Scenario
	var baseSet *slo.Set
	if ab {
		bf := *f
		bf.env = f.baseEnv
		baseArgs := args
		if f.compareWith != "" {
			baseArgs = []string{f.compareWith}
		}
		var err error
		if baseScenario, err = loadRunScenario(baseArgs, &bf); err != nil {
			return badInput(fmt.Errorf("baseline side: %w", err))
		}
		if baseSet, err = objectivesFor(f.sloFile, baseScenario); err != nil {
			return badInput(fmt.Errorf("baseline side: %w", err))
		}
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	progress := stdout
	if f.format == "json" {
		progress = stderr
	}
	store := f.historyStore(stderr)

	type side struct {
		label    string
		scenario *scenarios.Scenario
		set      *slo.Set
		baseline *results.Result
		runs     []*results.Result
	}
	newSide := &side{label: "new", scenario: s, set: set, baseline: baseline}
	sides := []*side{newSide}
	if ab {
		sides = []*side{{label: "base", scenario: baseScenario, set: baseSet}, newSide}
	}
	total := f.repeat * len(sides)
	done := 0
	for i := 1; i <= f.repeat && ctx.Err() == nil; i++ {
		for _, sd := range sides {
			if ctx.Err() != nil {
				break
			}
			done++
			res, err := runner.Run(ctx, sd.scenario, opts)
			if opts.Progress != nil {
				fmt.Fprint(stderr, "\r\033[K")
			}
			if err != nil {
				return withCode(ExitBadInput, fmt.Errorf("run %d of %d (%s): %w", done, total, sd.label, err))
			}
			rep := slo.EvaluateWithThresholds(res, sd.set, evalOptions(sd.baseline, res))
			res.SLO = &rep
			file := ""
			if f.out != "" {
				file = repeatFileName(f.out, sd.label, i, ab)
				if err := results.Write(file, res); err != nil {
					return withCode(ExitBadInput, err)
				}
			}
			if store != nil {
				store(res)
			}
			sd.runs = append(sd.runs, res)
			l := res.Summary.LatencyMs
			label := ""
			if ab {
				label = " " + sd.label
			}
			fmt.Fprintf(progress, "run %d/%d%s: p50 %s · p99 %s · errors %s · %s",
				done, total, label, results.FormatValue(l.P50, "ms"), results.FormatValue(l.P99, "ms"),
				results.FormatValue(res.Summary.ErrorRate, "fraction"), strings.ToUpper(rep.Verdict))
			if file != "" {
				fmt.Fprintf(progress, " · %s", file)
			}
			fmt.Fprintln(progress)
		}
	}
	if len(newSide.runs) == 0 {
		return withCode(ExitInconclusive, errors.New("interrupted before any run finished"))
	}
	agg, err := results.MergeSequential(newSide.runs)
	if err != nil {
		return withCode(ExitBadInput, err)
	}
	if !ab {
		fmt.Fprintf(progress, "\naggregate of %d runs (histograms merged):\n", len(newSide.runs))
		return finish(stdout, agg, set, baseline, f.out, f.format, nil, f.reports)
	}

	base := sides[0].runs
	c, cerr := slo.Compare(base, newSide.runs, slo.CompareOptions{Force: true, ABRun: true})
	if cerr != nil {
		return withCode(ExitBadInput, cerr)
	}
	// The gate is the aggregate's; the sides differ on purpose here.
	slo.JudgeComparison(c, append(append([]*results.Result{}, base...), newSide.runs...), true)
	if f.format == "json" {
		// The comparison is the document; the aggregate goes to --out.
		gate := finish(io.Discard, agg, set, baseline, f.out, "text", nil, f.reports)
		if err := writeJSON(stdout, c); err != nil {
			return err
		}
		return gate
	}
	fmt.Fprintf(stdout, "\naggregate of the %d new runs (histograms merged):\n", len(newSide.runs))
	gate := finish(stdout, agg, set, baseline, f.out, f.format, nil, f.reports)
	fmt.Fprintf(stdout, "\ncomparison, %d interleaved runs per side (base: %s, new: %s):\n", len(newSide.runs), describeConfig(sides[0].scenario), describeConfig(s))
	if err := report.WriteComparison(stdout, report.Text, c, base[0], newSide.runs[0]); err != nil {
		return err
	}
	return gate
}

// repeatFileName is r-3.json for the third run of --out r.json, or
// r-base-3.json / r-new-3.json in A/B.
func repeatFileName(out, label string, i int, ab bool) string {
	ext := filepath.Ext(out)
	stem := strings.TrimSuffix(out, ext)
	if ext == "" {
		ext = ".json"
	}
	if ab {
		return fmt.Sprintf("%s-%s-%d%s", stem, label, i, ext)
	}
	return fmt.Sprintf("%s-%d%s", stem, i, ext)
}

func describeConfig(s *scenarios.Scenario) string {
	d := s.Name
	if len(s.Target.Env) > 0 {
		keys := make([]string, 0, len(s.Target.Env))
		for k := range s.Target.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+s.Target.Env[k])
		}
		d += " " + strings.Join(kv, " ")
	}
	return d
}
