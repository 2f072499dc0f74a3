package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
)

// The results history: `slogate run` appends every result to a directory
// (results.DefaultHistoryDir, --history DIR or $SLOGATE_HISTORY), `slogate
// history` lists it, and --baseline last-pass / median-of:N read baselines
// from it.

const historyFlagHelp = "results history directory (default $" + results.HistoryEnv + ", else " + results.DefaultHistoryDir + ")"

func newHistoryCmd() *cobra.Command {
	var dir, scenario, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the runs stored in the results history (newest last)",
		Long: `List the runs 'slogate run' stored in the results history: start time, scenario,
verdict, p99, error rate and file. The directory is --history, else $` + results.HistoryEnv + `,
else ` + results.DefaultHistoryDir + ` (relative to the working directory).
'slogate run --baseline last-pass' and '--baseline median-of:N' pick baselines from it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return badInput(fmt.Errorf("--format %q: want text or json", format))
			}
			h := results.History{Dir: results.HistoryDir(dir)}
			entries, skipped, err := h.List(scenario)
			if err != nil {
				return badInput(err)
			}
			if limit > 0 && len(entries) > limit {
				entries = entries[len(entries)-limit:]
			}
			for _, s := range skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "slogate: history: skipped %s\n", s)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if entries == nil {
					entries = []results.HistoryEntry{}
				}
				return writeJSON(out, entries)
			}
			if len(entries) == 0 {
				fmt.Fprintf(out, "no runs in %s\n", h.Dir)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME (UTC)\tSCENARIO\tVERDICT\tREQUESTS\tP99\tERROR RATE\tFILE")
			for _, e := range entries {
				verdict := e.Verdict
				if verdict == "" {
					verdict = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.StartedAt.UTC().Format("2006-01-02 15:04:05"), e.Scenario,
					strings.ToUpper(verdict), e.Requests, results.FormatValue(e.P99Ms, "ms"), results.FormatValue(e.ErrorRate, "fraction"), e.Path)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&scenario, "scenario", "", "only runs of this scenario")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the last N runs")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// resolveBaseline reads --baseline: a result file, or "last-pass" /
// "median-of:N" from the history (runs of the same scenario content on the
// same kind of machine). With an empty history it says so on stderr and
// returns no baseline: budgets then read "no baseline" (inconclusive) and
// the next passing run becomes the baseline.
// Only runs started before before count (zero: any).
func resolveBaseline(spec, historyDir, scenario string, env results.Environment, before time.Time, stderr io.Writer) (*results.Result, error) {
	if spec == "" {
		return nil, nil
	}
	if !results.IsHistoryBaseline(spec) {
		return results.Read(spec)
	}
	h := results.History{Dir: results.HistoryDir(historyDir)}
	pick, err := h.Baseline(spec, scenario, env, before)
	if errors.Is(err, results.ErrNoBaseline) {
		fmt.Fprintf(stderr, "slogate: --baseline %s: %v; regression budgets are not checked\n", spec, err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	how := "the last passing run"
	if pick.Asked > 1 {
		how = fmt.Sprintf("the median-p99 run of the last %d passing runs", len(pick.Considered))
		if len(pick.Considered) == 1 {
			how = "the only passing run"
		}
		if len(pick.Considered) < pick.Asked {
			how += fmt.Sprintf(" (median-of:%d asked, %d stored)", pick.Asked, len(pick.Considered))
		}
	}
	fmt.Fprintf(stderr, "slogate: baseline %s: %s (p99 %s)\n", pick.Entry.Path, how, results.FormatValue(pick.Entry.P99Ms, "ms"))
	return pick.Result, nil
}
