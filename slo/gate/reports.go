package gate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/report"
)

// StepSummaryEnv names the file GitHub Actions shows on the job's page;
// callers pass its value as the step summary path.
const StepSummaryEnv = "GITHUB_STEP_SUMMARY"

// Report is one report file to write: a format of package report
// (report.NormalizeFormat) and its path.
type Report struct {
	Format string
	Path   string
}

// WriteReports writes every report of r, each file atomically, and, when
// stepSummary is not empty, appends the Markdown report to that file
// (several CI steps may each add a section).
//
// Every path is checked again first (CheckWritable: the run may have taken
// long enough for a directory to go): if one cannot be written, nothing is
// written. Past that check every error is reported, joined: one report
// that fails does not stop the others.
func WriteReports(reports []Report, stepSummary string, r *results.Result) error {
	return writeReports(reports, stepSummary, func(format string, buf *bytes.Buffer) error {
		return report.Write(buf, format, r)
	})
}

// WriteComparisonReports is WriteReports for a comparison (formats text,
// markdown, json and html); base and cur feed the HTML charts.
func WriteComparisonReports(reports []Report, stepSummary string, c *results.Comparison, base, cur *results.Result) error {
	return writeReports(reports, stepSummary, func(format string, buf *bytes.Buffer) error {
		return report.WriteComparison(buf, format, c, base, cur)
	})
}

func writeReports(reports []Report, stepSummary string, render func(format string, buf *bytes.Buffer) error) error {
	for _, s := range reports {
		if err := CheckWritable(s.Path); err != nil {
			return fmt.Errorf("%s report: %w", s.Format, err)
		}
	}
	var errs []error
	for _, s := range reports {
		var buf bytes.Buffer
		if err := render(s.Format, &buf); err != nil {
			errs = append(errs, fmt.Errorf("%s report: %w", s.Format, err))
			continue
		}
		if err := results.WriteFileAtomic(s.Path, buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	if stepSummary != "" {
		var buf bytes.Buffer
		if err := render(report.Markdown, &buf); err != nil {
			errs = append(errs, fmt.Errorf("markdown step summary: %w", err))
		} else if err := appendFile(stepSummary, buf.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("$%s: %w", StepSummaryEnv, err))
		}
	}
	return errors.Join(errs...)
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

// CheckWritable fails early when a file could not be written at path: the
// path is a directory, its directory does not exist, or the directory
// refuses a new file (read-only). Callers check --out and report paths
// before any load is sent, so a typo fails in a second and not after a
// ten-minute test.
func CheckWritable(path string) error {
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
