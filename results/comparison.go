package results

import "time"

// ComparisonSchema versions the compare output.
const ComparisonSchema = "slogate.compare/v1"

// Comparison is the outcome of `slogate compare BASE NEW`: per metric and
// scope, the change and whether it is statistically significant. Package slo
// computes it; results only defines and stores it (reports render it).
type Comparison struct {
	Schema   string   `json:"schema"`
	Base     RunRef   `json:"base"`
	New      RunRef   `json:"new"`
	Method   string   `json:"method"` // how significance was decided
	Alpha    float64  `json:"alpha"`
	Warnings []string `json:"warnings,omitempty"` // WarningList's texts, for scripts that read them (add with Warn)
	// WarningList is each warning as {kind, text}: scripts test the kind,
	// people read the text.
	WarningList []Warning `json:"warning_list,omitempty"`
	// Verdict is the comparison's one verdict, shown by every report and
	// followed by the exit code: better | worse | no change | inconclusive
	// (a compared run was unreliable). Reasons say why when inconclusive.
	Verdict string        `json:"verdict,omitempty"`
	Reasons []string      `json:"reasons,omitempty"`
	Metrics []MetricDelta `json:"metrics"`
}

// RunRef identifies one side of a comparison (one result, or several
// repeated runs of the same configuration).
type RunRef struct {
	Label     string    `json:"label"`
	Files     []string  `json:"files,omitempty"`
	Scenario  string    `json:"scenario"`
	Runs      int       `json:"runs"`
	StartedAt time.Time `json:"started_at"`
}

// MetricDelta is one row of a comparison. ImprovementPct is positive when
// NEW is better: lower latency or error rate, higher throughput.
type MetricDelta struct {
	Metric         string   `json:"metric"`
	Scope          Scope    `json:"scope"` // run | phase NAME | endpoint NAME; also "phase"/"endpoint" (scope.go)
	Unit           string   `json:"unit"`
	Base           float64  `json:"base"`
	New            float64  `json:"new"`
	DeltaPct       float64  `json:"delta_pct"`
	ImprovementPct float64  `json:"improvement_pct"`
	CILowPct       float64  `json:"ci_low_pct"`
	CIHighPct      float64  `json:"ci_high_pct"`
	Significant    bool     `json:"significant"`
	PValue         *float64 `json:"p_value,omitempty"`
	Verdict        string   `json:"verdict"` // better | worse | no change | inconclusive
	Note           string   `json:"note,omitempty"`
}

// Warning is one caveat of a comparison: what kind of caveat it is, and
// the sentence that explains it.
type Warning struct {
	Kind WarningKind `json:"kind"`
	Text string      `json:"text"`
}

// WarningKind names what a Warning is about.
type WarningKind string

// Warning kinds of a comparison.
const (
	// WarningMismatch: the sides differ in scenario, environment or engine
	// and were compared anyway (--force, or the two sides of an A/B run).
	WarningMismatch WarningKind = "mismatch"
	// WarningSaturated: a compared run's load generator could not hold the
	// asked rate, so its latency describes the generator too.
	WarningSaturated WarningKind = "saturated-generator"
	// WarningPartial: a compared run was interrupted.
	WarningPartial WarningKind = "partial-run"
	// WarningTooFewRuns: too few runs per side for any difference to be
	// significant; no metric is judged.
	WarningTooFewRuns WarningKind = "too-few-runs"
)

// Warn adds a warning to both lists, WarningList and Warnings.
func (c *Comparison) Warn(kind WarningKind, text string) {
	c.WarningList = append(c.WarningList, Warning{Kind: kind, Text: text})
	c.Warnings = append(c.Warnings, text)
}
