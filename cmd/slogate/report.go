package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
	"github.com/slogate/slogate/slo/gate"
)

func newReportCmd() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Render a result as text, Markdown, JSON, JUnit XML or a self-contained HTML page with charts",
		Long: `Render a result file for people or CI:

  text      the summary and SLO table (as 'slogate run' prints it)
  markdown  the SLO table with ✅/❌/⚠️, key figures, phases and endpoints
  json      the result itself
  junit     JUnit XML: one test case per objective (failure = failed, skipped = inconclusive)
  html      one self-contained file: latency over time with the SLO lines, throughput by
            outcome, the percentile spectrum, phase boundaries, SLO table and summary

Without -o the report goes to standard output; with -o it is written atomically.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := report.NormalizeFormat(format, false)
			if err != nil {
				return badInput(fmt.Errorf("--format: %w", err))
			}
			res, err := results.Read(args[0])
			if err != nil {
				return badInput(err)
			}
			if out == "" {
				return report.Write(cmd.OutOrStdout(), f, res)
			}
			if err := gate.CheckWritable(out); err != nil {
				return badInput(fmt.Errorf("-o: %w", err))
			}
			var buf bytes.Buffer
			if err := report.Write(&buf, f, res); err != nil {
				return err
			}
			return results.WriteFileAtomic(out, buf.Bytes())
		},
	}
	cmd.Flags().StringVar(&format, "format", report.Text, "report format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the report to this file (atomically) instead of standard output")
	return cmd
}

// parseReportSpecs checks --report FORMAT=FILE values before anything runs,
// so a typo fails in a second (exit 2) and not after a ten-minute test.
// comparison selects the formats of `slogate compare` (no junit).
func parseReportSpecs(specs []string, comparison bool) ([]gate.Report, error) {
	var out []gate.Report
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(path) == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, e.g. --report html=report.html", s)
		}
		f, err := report.NormalizeFormat(format, comparison)
		if err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		if err := gate.CheckWritable(path); err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		out = append(out, gate.Report{Format: f, Path: path})
	}
	return out, nil
}
