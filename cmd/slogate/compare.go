package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/gate"
)

type compareFlags struct {
	format    string
	force     bool
	alpha     float64
	resamples int
	seed      uint64
	base      []string
	new       []string
	out       string
	reports   []string
	scope     string
}

func newCompareCmd() *cobra.Command {
	f := &compareFlags{}
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json | compare BASE... vs NEW... | compare --base F... --new F...",
		Short: "Compare results: improvement per metric with confidence intervals and significance",
		Long: `Compare a NEW result with a BASE result: per metric (p50 p90 p95 p99 p999 max mean
throughput error_rate block_rate), for the run, each measured phase and each endpoint
present in both: base, new, change %, improvement % (positive = NEW is better: lower
latency, error rate and block rate, higher throughput), a confidence interval of the
change, whether it is significant, and a verdict (better, worse, no change, inconclusive).

One result per side: a circular block bootstrap over the per-second intervals (2000
resamples, fixed seed). max cannot be bounded from one run and endpoints keep no
per-second intervals: their rows show the change but no verdict.

Several results per side (from 'slogate run --repeat N'): give them as
  slogate compare base-1.json base-2.json ... vs new-1.json new-2.json ...
or with repeated --base/--new flags. Each run gives one value per metric; the sides'
medians are compared with the Mann-Whitney U test (as benchstat does). With too few
runs for any p-value to reach --alpha (fewer than 4 per side at 0.05) no verdict is
given, and the output says how many runs are needed.

Results of different scenarios (name or content) or machines (OS, CPU model or count)
are refused with exit 3 unless --force. Exit codes: 0 compared; 2 bad input;
3 refused, or a run is unreliable (saturated generator, interrupted) without --force.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output: "+strings.Join(report.ComparisonFormats(), ", "))
	fl.BoolVar(&f.force, "force", false, "compare results of different scenarios or machines, or unreliable runs")
	fl.Float64Var(&f.alpha, "alpha", 0.05, "significance level: CIs are 1−alpha intervals, U-test p must be below it")
	fl.IntVar(&f.resamples, "resamples", 2000, "bootstrap resamples (one result per side)")
	fl.Uint64Var(&f.seed, "seed", 1, "bootstrap seed (the same inputs and seed give the same intervals)")
	fl.StringArrayVar(&f.base, "base", nil, "a BASE result file (repeatable; instead of positional arguments)")
	fl.StringVar(&f.scope, "scope", "all", "rows to show: all, run, phase or endpoint")
	fl.StringVarP(&f.out, "out", "o", "", "write the comparison to FILE (atomically) instead of stdout")
	fl.StringArrayVar(&f.reports, "report", nil, "also write the comparison as FORMAT=FILE (text, markdown, json, html; repeatable)")
	fl.StringArrayVar(&f.new, "new", nil, "a NEW result file (repeatable; instead of positional arguments)")
	return cmd
}

// compareSides splits the inputs: --base/--new, or "A... vs B...", or
// exactly two positional files.
func compareSides(args []string, f *compareFlags) (base, cur []string, err error) {
	if len(f.base) > 0 || len(f.new) > 0 {
		if len(args) > 0 {
			return nil, nil, errors.New("give the files either as arguments or with --base/--new, not both")
		}
		if len(f.base) == 0 || len(f.new) == 0 {
			return nil, nil, errors.New("--base and --new both need at least one result file")
		}
		return f.base, f.new, nil
	}
	for i, a := range args {
		if a == "vs" {
			base, cur = args[:i], args[i+1:]
			if len(base) == 0 || len(cur) == 0 {
				return nil, nil, errors.New(`"vs" needs result files on both sides: BASE... vs NEW...`)
			}
			return base, cur, nil
		}
	}
	if len(args) != 2 {
		return nil, nil, fmt.Errorf("want BASE.json NEW.json (got %d files); for several runs per side write BASE... vs NEW...", len(args))
	}
	return args[:1], args[1:], nil
}

func readResults(paths []string) ([]*results.Result, error) {
	var out []*results.Result
	for _, p := range paths {
		r, err := results.Read(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func runCompare(cmd *cobra.Command, args []string, f *compareFlags) error {
	format, err := report.NormalizeFormat(f.format, true)
	if err != nil {
		return badInput(fmt.Errorf("--format: %w", err))
	}
	if !(f.alpha > 0 && f.alpha < 1) {
		return badInput(fmt.Errorf("--alpha %g: want a level between 0 and 1, e.g. 0.05", f.alpha))
	}
	if f.resamples < 100 {
		return badInput(fmt.Errorf("--resamples %d: want at least 100", f.resamples))
	}
	reports, err := parseReportSpecs(f.reports, true)
	if err != nil {
		return badInput(fmt.Errorf("--report: %w", err))
	}
	if f.out != "" {
		if err := gate.CheckWritable(f.out); err != nil {
			return badInput(fmt.Errorf("--out: %w", err))
		}
	}
	basePaths, newPaths, err := compareSides(args, f)
	if err != nil {
		return badInput(err)
	}
	base, err := readResults(basePaths)
	if err != nil {
		return badInput(err)
	}
	cur, err := readResults(newPaths)
	if err != nil {
		return badInput(err)
	}
	c, err := slo.Compare(base, cur, slo.CompareOptions{
		Alpha: f.alpha, Resamples: f.resamples, Seed: f.seed, Force: f.force,
		BaseFiles: basePaths, NewFiles: newPaths,
	})
	var mismatch *slo.MismatchError
	if errors.As(err, &mismatch) {
		return withCode(ExitInconclusive, err)
	}
	if err != nil {
		return badInput(err)
	}
	if err := filterScope(c, f.scope); err != nil {
		return badInput(err)
	}
	slo.JudgeComparison(c, append(append([]*results.Result{}, base...), cur...), f.force)
	if f.out != "" {
		var buf bytes.Buffer
		if err := report.WriteComparison(&buf, format, c, base[0], cur[0]); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(f.out, buf.Bytes()); err != nil {
			return withCode(ExitBadInput, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "comparison written to %s\n", f.out)
	} else if err := report.WriteComparison(cmd.OutOrStdout(), format, c, base[0], cur[0]); err != nil {
		return err
	}
	if err := gate.WriteComparisonReports(reports, os.Getenv(gate.StepSummaryEnv), c, base[0], cur[0]); err != nil {
		return withCode(ExitBadInput, fmt.Errorf("--report: %w", err))
	}
	if c.Verdict == slo.Inconclusive { // exit 3, as every report says
		return withCode(ExitInconclusive, errors.New("inconclusive: "+strings.Join(c.Reasons, "; ")))
	}
	return nil
}

// filterScope keeps the comparison rows of one kind of scope.
func filterScope(c *results.Comparison, scope string) error {
	kind := results.ScopeKind(scope)
	switch kind {
	case "all", "":
		return nil
	case results.ScopeRun, results.ScopePhase, results.ScopeEndpoint:
	default:
		return fmt.Errorf("--scope %q: want all, run, phase or endpoint", scope)
	}
	kept := c.Metrics[:0]
	for _, m := range c.Metrics {
		if m.Scope.Kind == kind {
			kept = append(kept, m)
		}
	}
	c.Metrics = kept
	return nil
}
