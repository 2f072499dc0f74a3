package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
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
			if err := checkReportPath(out); err != nil {
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

// reportSpec is one --report FORMAT=FILE.
type reportSpec struct {
	format, path string
}

// parseReportSpecs checks --report FORMAT=FILE values before anything runs,
// so a typo fails in a second (exit 2) and not after a ten-minute test.
// comparison selects the formats of `slogate compare` (no junit).
func parseReportSpecs(specs []string, comparison bool) ([]reportSpec, error) {
	var out []reportSpec
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(path) == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, e.g. --report html=report.html", s)
		}
		f, err := report.NormalizeFormat(format, comparison)
		if err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		if err := checkReportPath(path); err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		out = append(out, reportSpec{format: f, path: path})
	}
	return out, nil
}

// writeReports writes every --report FORMAT=FILE for a result, each file
// atomically, and appends the Markdown report to $GITHUB_STEP_SUMMARY when
// that variable is set (GitHub Actions shows it on the job's page).
// Validate the specs up front with parseReportSpecs; errors here are I/O
// errors, all of them reported together.
//
// Wiring into a command: add
//
//	fl.StringArrayVar(&f.reports, "report", nil, "also write a report: FORMAT=FILE (repeatable; "+strings.Join(report.Formats(), ", ")+")")
//
// check the values with parseReportSpecs before running, and call
// writeReports(f.reports, res) once res.SLO is set.
func writeReports(specs []string, r *results.Result) error {
	return writeReportsWith(specs, false, func(format string, buf *bytes.Buffer) error {
		return report.Write(buf, format, r)
	})
}

// writeComparisonReports is writeReports for `slogate compare`: formats
// text, markdown, json and html; base and new feed the HTML charts.
func writeComparisonReports(specs []string, c *results.Comparison, base, new *results.Result) error {
	return writeReportsWith(specs, true, func(format string, buf *bytes.Buffer) error {
		return report.WriteComparison(buf, format, c, base, new)
	})
}

func writeReportsWith(specs []string, comparison bool, render func(format string, buf *bytes.Buffer) error) error {
	parsed, err := parseReportSpecs(specs, comparison)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range parsed {
		var buf bytes.Buffer
		if err := render(s.format, &buf); err != nil {
			errs = append(errs, fmt.Errorf("%s report: %w", s.format, err))
			continue
		}
		if err := results.WriteFileAtomic(s.path, buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	if summary := os.Getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		var buf bytes.Buffer
		if err := render(report.Markdown, &buf); err != nil {
			errs = append(errs, fmt.Errorf("markdown step summary: %w", err))
		} else if err := appendFile(summary, buf.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkReportPath fails early when a report could not be written: the path
// is a directory or its directory does not exist.
func checkReportPath(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("directory %s does not exist", dir)
	}
	// Find a read-only directory before the load is sent, not after.
	probe, err := os.CreateTemp(dir, ".slogate-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// appendFile appends data to path (created if missing), as GitHub's step
// summary file expects: several steps may each add a section.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
