package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
	"github.com/slogate/slogate/runner"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/gate"
)

// runRepeated is `slogate run --repeat N` and the A/B form
// (--compare-with / --base-env): the gate's Repeat with runner.Run as the
// run step, then the gate's last stage on the NEW side's aggregate (to
// --out, not stored in the history: every run already is), then, in A/B,
// the comparison of the sides. Every run is written (--out r.json →
// r-1.json …, or r-base-1.json / r-new-1.json in A/B).
func runRepeated(ctx context.Context, cmd *cobra.Command, args []string, f *runFlags, s *scenarios.Scenario, stage *gate.Stage, opts runner.Options) error {
	if f.repeat < 1 || f.repeat > gate.MaxRepeat {
		return badInput(fmt.Errorf("--repeat %d: want 1..%d", f.repeat, gate.MaxRepeat))
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
	scenarioOf := map[gate.Side]*scenarios.Scenario{gate.New: s, gate.Base: baseScenario}
	rp := &gate.Repeat{
		Runs: f.repeat,
		AB:   ab,
		Run: func(ctx context.Context, side gate.Side, _ int) (*results.Result, error) {
			res, err := runner.Run(ctx, scenarioOf[side], opts)
			if opts.Progress != nil {
				fmt.Fprint(stderr, "\r\033[K")
			}
			return res, err
		},
		New:     stage.Criteria,
		Base:    gate.Criteria{Objectives: baseSet},
		Out:     f.out,
		History: stage.History,
		Warn:    stage.Warn,
		Ran: func(r gate.RunReport) {
			l := r.Result.Summary.LatencyMs
			label := ""
			if r.AB {
				label = " " + string(r.Side)
			}
			fmt.Fprintf(progress, "run %d/%d%s: p50 %s · p99 %s · errors %s · %s",
				r.Done, r.Total, label, results.FormatValue(l.P50, "ms"), results.FormatValue(l.P99, "ms"),
				results.FormatValue(r.Result.Summary.ErrorRate, "fraction"), strings.ToUpper(r.Result.SLO.Verdict))
			if r.File != "" {
				fmt.Fprintf(progress, " · %s", r.File)
			}
			fmt.Fprintln(progress)
		},
	}
	done, code, err := rp.Do(ctx)
	if err != nil {
		return exitWith(code, err)
	}
	aggregate := *stage
	aggregate.History = nil // the runs are stored, their aggregate is no run
	if !ab {
		fmt.Fprintf(progress, "\naggregate of %d runs (histograms merged):\n", len(done.New))
		return exitWith(aggregate.Finish(done.Aggregate))
	}
	c := done.Comparison
	if f.format == "json" {
		// The comparison is the document; the aggregate goes to --out.
		aggregate.Show, aggregate.Wrote = nil, nil
		code, gateErr := aggregate.Finish(done.Aggregate)
		if err := writeJSON(stdout, c); err != nil {
			return err
		}
		return exitWith(code, gateErr)
	}
	fmt.Fprintf(stdout, "\naggregate of the %d new runs (histograms merged):\n", len(done.New))
	code, gateErr := aggregate.Finish(done.Aggregate)
	fmt.Fprintf(stdout, "\ncomparison, %d interleaved runs per side (base: %s, new: %s):\n", len(done.New), describeConfig(baseScenario), describeConfig(s))
	if err := report.WriteComparison(stdout, report.Text, c, done.Base[0], done.New[0]); err != nil {
		return err
	}
	return exitWith(code, gateErr)
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
