package gate

import (
	"fmt"

	"github.com/slogate/slogate/results"
)

// Store keeps finished, evaluated runs: the results history
// (results.History) is one. Append returns where it stored the run.
type Store interface {
	Append(*results.Result) (string, error)
}

// Stage is the last stage of a run: what a result is judged on and where
// it goes. The hooks are how the caller shows it; nil hooks show nothing.
type Stage struct {
	Criteria
	// History, when set, stores the evaluated result. A failure to store
	// is passed to Warn and never changes the verdict.
	History Store
	// Out, when set, is the result file, written atomically.
	Out string
	// Reports are also written, each atomically; StepSummary, when set,
	// is the file the Markdown report is appended to ($GITHUB_STEP_SUMMARY).
	Reports     []Report
	StepSummary string

	// Show shows the evaluated result and where the history stored it
	// ("" when it did not). It is called before any file is written, so a
	// file that cannot be written (a full disk, a directory gone
	// read-only during the run) never hides the verdict. An error from
	// Show ends the stage with ExitBadInput.
	Show func(res *results.Result, stored string) error
	// Wrote is told the result file once it is written.
	Wrote func(path string)
	// Warn is told what went wrong without changing the verdict.
	Warn func(error)
}

// Finish evaluates res (Criteria.Evaluate, which sets res.SLO), stores it
// in the history, shows it, writes the result file and the reports, and
// returns the verdict's exit code (ExitFor). A file that cannot be written
// is ExitBadInput with the error, after the verdict was shown; the other
// files are left whole or absent, never half-written.
func (s *Stage) Finish(res *results.Result) (ExitCode, error) {
	rep := s.Evaluate(res)
	stored := s.store(res)
	if s.Show != nil {
		if err := s.Show(res, stored); err != nil {
			return ExitBadInput, err
		}
	}
	if s.Out != "" {
		if err := results.Write(s.Out, res); err != nil {
			return ExitBadInput, err
		}
		if s.Wrote != nil {
			s.Wrote(s.Out)
		}
	}
	if err := WriteReports(s.Reports, s.StepSummary, res); err != nil {
		return ExitBadInput, fmt.Errorf("--report: %w", err)
	}
	return ExitFor(rep.Verdict), nil
}

// store appends res to the history, if any, and returns its path there.
func (s *Stage) store(res *results.Result) string {
	return storeIn(s.History, s.Warn, res)
}

func storeIn(h Store, warn func(error), res *results.Result) string {
	if h == nil {
		return ""
	}
	path, err := h.Append(res)
	if err != nil {
		if warn != nil {
			warn(fmt.Errorf("not stored in history: %w", err))
		}
		return ""
	}
	return path
}
