package slo

import (
	"fmt"
	"strings"

	"github.com/slogate/slogate/results"
)

// MismatchError refuses a comparison of runs that measured different
// things: another scenario or another machine. Callers map it to exit 3.
type MismatchError struct {
	Reasons []string
}

func (e *MismatchError) Error() string {
	return "refusing to compare: " + strings.Join(e.Reasons, "; ") + " (use --force to compare anyway)"
}

// Mismatches lists why the runs are not comparable: a different scenario
// or machine (results.Mismatches, the one rule for both) or a different
// engine (engines do not measure latency alike: vegeta from the intended
// send, k6 from the actual send, so a vegeta-vs-k6 delta is the send
// lateness, not the service). Every run is checked against the first base
// run; each reason is given once.
func Mismatches(base, cur []*results.Result) []string {
	if len(base) == 0 {
		return nil
	}
	ref := base[0]
	seen := map[string]bool{}
	var reasons []string
	engines := false
	add := func(m results.Mismatch) {
		r := m.String()
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	for _, r := range append(append([]*results.Result{}, base[1:]...), cur...) {
		for _, m := range results.Mismatches(ref.Scenario, ref.Environment, r.Scenario, r.Environment) {
			add(m)
		}
		if ref.Engine != "" && r.Engine != "" && ref.Engine != r.Engine {
			add(results.Mismatch{Field: "engine", Base: ref.Engine, New: r.Engine})
			engines = true
		}
	}
	if engines {
		reasons = append(reasons, engineWhy)
	}
	return reasons
}

// engineWhy explains an engine mismatch.
const engineWhy = "engines measure latency differently: vegeta from the intended send (service latency + send lateness), " +
	"k6 from the actual send (no send lateness); compare runs of one engine"

// reliabilityWarnings warns of each run of one side whose numbers describe
// more than the service (see Unreliable).
func reliabilityWarnings(cmp *results.Comparison, side string, rs []*results.Result) {
	for i, r := range rs {
		name := side
		if len(rs) > 1 {
			name = fmt.Sprintf("%s run %d", side, i+1)
		}
		if r.Generator.Saturated {
			cmp.Warn(results.WarningSaturated, fmt.Sprintf("%s: the load generator could not hold the asked rate (%s): its latency describes the generator too",
				name, strings.Join(r.Generator.Reasons, "; ")))
		}
		if r.Partial {
			cmp.Warn(results.WarningPartial, name+": the run was interrupted (partial result)")
		}
	}
}

// Unreliable reports whether a result's numbers describe something other
// than the service: a saturated generator or an interrupted run.
func Unreliable(r *results.Result) bool { return r.Generator.Saturated || r.Partial }
