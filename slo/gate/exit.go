package gate

import "github.com/slogate/slogate/slo"

// ExitCode is slogate's process exit status, a contract users script
// against (DESIGN.md, "Exit codes").
type ExitCode int

const (
	// ExitPass: every objective passes (or the score is at least the
	// warning mark).
	ExitPass ExitCode = 0
	// ExitFail: an objective or a regression budget failed.
	ExitFail ExitCode = 1
	// ExitBadInput: bad input or usage, or a file that could not be
	// written; nothing is left written half-way.
	ExitBadInput ExitCode = 2
	// ExitInconclusive: the run cannot be judged (generator saturated, too
	// few samples, an interrupted run, a baseline from elsewhere).
	ExitInconclusive ExitCode = 3
)

// ExitFor maps a run's verdict to its exit code: pass and warning 0 (a
// warning is a score below the pass mark that still meets the warning
// mark), fail 1, anything else (inconclusive) 3.
func ExitFor(verdict string) ExitCode {
	switch verdict {
	case slo.Pass, slo.Warning:
		return ExitPass
	case slo.Fail:
		return ExitFail
	default:
		return ExitInconclusive
	}
}
