package results

// Verdict words, declared once: package slo decides them, results stores
// them (SLOReport.Verdict, ObjectiveResult.Verdict, MetricDelta.Verdict,
// Comparison.Verdict) and the reports show them.
const (
	// A run's or an objective's verdict.
	VerdictPass         = "pass"
	VerdictFail         = "fail"
	VerdictInconclusive = "inconclusive"
	// VerdictWarning: a weighted score below the pass mark, at or above
	// the warning mark.
	VerdictWarning = "warning"

	// A compared metric's verdict (or VerdictInconclusive: not judged).
	ChangeBetter   = "better"
	ChangeWorse    = "worse"
	ChangeNoChange = "no change"
)
