package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo/gate"
	"github.com/slogate/slogate/slo/promql"
)

func newMergeCmd() *cobra.Command {
	var out, sloFile, format string
	var reports []string
	cmd := &cobra.Command{
		Use:   "merge SHARD.json... --out RESULT.json",
		Short: "Merge the shards of one run (--segment) exactly and gate once on the whole run",
		Long: `Merge the result files of the processes of one distributed run (slogate run
--segment A:B --segment-sequence ...): histograms, counts, per-second intervals,
phases and endpoints merge exactly, on one time axis. The SLOs (--slo, else the
objectives the shards were judged by, which must be the same in every shard)
are evaluated once on the merged run, and the exit code is that verdict. Shards of different scenarios or sequences, or a segment held twice
or overlapping another, are refused (exit 2); a missing or interrupted shard makes
the run inconclusive (exit 3), naming the gap.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return badInput(fmt.Errorf("--format %q: want text or json", format))
			}
			if out == "" {
				return badInput(errors.New("--out RESULT.json is required"))
			}
			specs, err := parseReportSpecs(reports, false)
			if err != nil {
				return badInput(fmt.Errorf("--report: %w", err))
			}
			if err := gate.CheckWritable(out); err != nil {
				return badInput(fmt.Errorf("--out: %w", err))
			}
			shards := make([]*results.Result, len(args))
			for i, path := range args {
				if shards[i], err = results.Read(path); err != nil {
					return badInput(err)
				}
			}
			set, err := judgedBy(sloFile, args, shards)
			if err != nil {
				return badInput(err)
			}
			found, err := results.CheckShards(args, shards)
			if err != nil {
				return badInput(fmt.Errorf("merge: %w", err))
			}
			// Seconds are aligned from each shard's own start: shards that
			// did not start together (--start-at) blur the per-second view.
			first, last := shards[0].StartedAt, shards[0].StartedAt
			for _, r := range shards {
				first, last = minTime(first, r.StartedAt), maxTime(last, r.StartedAt)
			}
			if spread := last.Sub(first); spread > time.Second {
				fmt.Fprintf(cmd.ErrOrStderr(), "slogate: the shards started %s apart: their seconds are merged as if together (start them with one --start-at)\n", spread.Round(time.Millisecond))
			}
			merged, err := results.MergeShards(shards)
			if err != nil {
				return badInput(err)
			}
			merged.Segment = found.Segment()
			if merged.Server != nil {
				merged.Server.Summary = promql.Summarize(context.Background(), merged.Server)
			}
			var gap error
			if !found.Complete() {
				// Never a pass: the run is partial (the evaluation makes it
				// inconclusive) and the exit says what is missing.
				merged.Partial = true
				var what []string
				if len(found.Missing) > 0 {
					what = append(what, fmt.Sprintf("missing segments %s of the sequence %s", strings.Join(found.Missing, ", "), found.Sequence))
				}
				if len(found.Partial) > 0 {
					what = append(what, "interrupted shards "+strings.Join(found.Partial, ", "))
				}
				gap = fmt.Errorf("inconclusive: %s: the merged run is not the whole run", strings.Join(what, "; "))
			}
			stdout := cmd.OutOrStdout()
			stage := &gate.Stage{
				Criteria:    gate.Criteria{Objectives: set},
				Out:         out,
				Reports:     specs,
				StepSummary: os.Getenv(gate.StepSummaryEnv),
				Warn:        func(err error) { fmt.Fprintf(cmd.ErrOrStderr(), "slogate: %v\n", err) },
				Show: func(res *results.Result, _ string) error {
					if format == "json" {
						return writeJSON(stdout, res)
					}
					fmt.Fprintf(stdout, "merged %d shards (%s of %s)\n", len(shards), res.Segment.Value, res.Segment.Sequence)
					return results.WriteText(stdout, res)
				},
			}
			if format != "json" {
				stage.Wrote = func(path string) { fmt.Fprintf(stdout, "result written to %s\n", path) }
			}
			code, err := stage.Finish(merged)
			if err == nil && gap != nil {
				return withCode(ExitInconclusive, gap)
			}
			return exitWith(code, err)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&out, "out", "o", "", "write the merged result here (required)")
	fl.StringVar(&sloFile, "slo", "", "SLO file (default: the objectives the shards were judged by; else the seed objectives)")
	fl.StringVar(&format, "format", "text", "what to print: text or json")
	fl.StringArrayVar(&reports, "report", nil, "also write a report, FORMAT=FILE (text, markdown, json, junit, html; repeatable)")
	return cmd
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
