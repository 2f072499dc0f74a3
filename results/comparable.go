package results

import "fmt"

// Mismatch is one way two runs did not measure the same thing: a field of
// what they ran, and its value in each.
type Mismatch struct {
	Field     string // "scenario", "OS", "CPU count", ...
	Base, New string
}

// String reads `CPU model differs: "a" vs "b"`.
func (m Mismatch) String() string {
	return fmt.Sprintf("%s differs: %q vs %q", m.Field, m.Base, m.New)
}

// Mismatches is the one rule for "same scenario, same machine": two runs
// are comparable when they ran the same scenario (name and content hash)
// on the same kind of machine (OS, architecture, CPU model and count). It
// lists the fields in which the run of scenario cur on curEnv differs from
// the run of scenario base on baseEnv, in that order; none means
// comparable. `slogate compare`, regression budgets and the history's
// baselines all use it.
func Mismatches(base string, baseEnv Environment, cur string, curEnv Environment) []Mismatch {
	var out []Mismatch
	add := func(field, a, b string) {
		if a != b {
			out = append(out, Mismatch{Field: field, Base: a, New: b})
		}
	}
	add("scenario", base, cur)
	add("scenario content (hash)", baseEnv.ScenarioHash, curEnv.ScenarioHash)
	add("OS", baseEnv.OS, curEnv.OS)
	add("architecture", baseEnv.Arch, curEnv.Arch)
	add("CPU model", baseEnv.CPUModel, curEnv.CPUModel)
	add("CPU count", fmt.Sprint(baseEnv.CPUs), fmt.Sprint(curEnv.CPUs))
	return out
}
