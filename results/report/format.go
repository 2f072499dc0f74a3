package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/slogate/slogate/results"
)

// Verdict words (declared once, in package results).
const (
	verdictPass         = results.VerdictPass
	verdictFail         = results.VerdictFail
	verdictInconclusive = results.VerdictInconclusive
	verdictWarning      = results.VerdictWarning

	changeBetter   = results.ChangeBetter
	changeWorse    = results.ChangeWorse
	changeNoChange = results.ChangeNoChange
)

// runVerdict is a run's verdict as reports show it: the word for the
// badge's class and icon, and the headline. A pass with a failed objective
// (a weighted score at or over its pass mark) is shown as a warning, never
// as a clean pass.
func runVerdict(rep *results.SLOReport) (class, headline string) {
	class = rep.Verdict
	if class == verdictPass && rep.FailingObjectives() > 0 {
		class = verdictWarning
	}
	return class, rep.Headline()
}

// verdictIcon is the Markdown mark of an objective or run verdict.
func verdictIcon(v string) string {
	switch v {
	case verdictPass:
		return "✅"
	case verdictFail:
		return "❌"
	default: // inconclusive, warning, anything new
		return "⚠️"
	}
}

// changeIcon is the Markdown mark of a comparison row's verdict.
func changeIcon(v string) string {
	switch v {
	case changeBetter:
		return "✅"
	case changeWorse:
		return "❌"
	case changeNoChange:
		return "➖"
	default:
		return "⚠️"
	}
}

// signedPct renders a percentage with its sign: "+12.3%", "−4.0%".
func signedPct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := fmt.Sprintf("%+.1f%%", v)
	if s == "-0.0%" || s == "+0.0%" {
		return "0.0%"
	}
	return s
}

// hasCI reports whether a comparison row carries a confidence interval:
// slo leaves both bounds at zero when it could not compute one.
func hasCI(d *results.MetricDelta) bool {
	return d.Verdict != verdictInconclusive && !(d.CILowPct == 0 && d.CIHighPct == 0)
}

// ciText renders the interval of the relative change new/base − 1.
func ciText(d *results.MetricDelta) string {
	if !hasCI(d) {
		return "–"
	}
	return "[" + signedPct(d.CILowPct) + ", " + signedPct(d.CIHighPct) + "]"
}

// significanceText says whether a change is real, with its p-value if any.
func significanceText(d *results.MetricDelta) string {
	if d.Verdict == verdictInconclusive {
		return "–"
	}
	s := "no"
	if d.Significant {
		s = "yes"
	}
	if d.PValue != nil {
		s += fmt.Sprintf(" (p=%.3g)", *d.PValue)
	}
	return s
}

// ciLevel is the confidence level of the comparison's intervals, "95%".
func ciLevel(c *results.Comparison) string {
	a := c.Alpha
	if a <= 0 || a >= 1 {
		a = 0.05
	}
	return fmt.Sprintf("%g%%", math.Round((1-a)*1000)/10)
}

// objectiveLabel names an objective with its scope, as test cases and chart
// legends show it: "p99 < 200ms (run)", "p99 < 40ms (phase steady)".
func objectiveLabel(o *results.ObjectiveResult) string {
	text := o.Objective
	if text == "" {
		text = o.Name
	}
	return text + " (" + o.Scope.OrRun().String() + ")"
}

// The number formats are results' (one set for every output).

// percent renders a fraction 0..1 as "12.34%".
func percent(f float64) string { return results.FormatPercent(f) }

// shortPct renders a fraction without trailing zeros: "99.9%", "0.0042%".
func shortPct(f float64) string { return results.FormatShortPercent(f) }

// ms renders milliseconds with precision that suits their size: "120 ms",
// "12.3 ms", "1.23 ms".
func ms(v float64) string { return results.FormatValue(v, results.UnitMs) }

// runLabel names one side of a comparison.
func runLabel(ref results.RunRef) string {
	label := ref.Label
	if label == "" && len(ref.Files) > 0 {
		label = strings.Join(ref.Files, ", ")
	}
	if label == "" {
		label = ref.Scenario
	}
	if ref.Runs > 1 {
		label += fmt.Sprintf(" (%d runs)", ref.Runs)
	}
	return label
}

// budgetRow is one SLI's error budget, formatted for a table.
type budgetRow struct {
	SLI, Objective, Target, Bad, BurnRate, Spent, Lasts string
	Burning                                             bool // burn rate above 1: the budget runs out before the window ends
}

// budgetRows formats the SLO report's error budgets (see
// results.ErrorBudget: burn rate = bad ratio / (1 − target)).
func budgetRows(budgets []results.ErrorBudget) (rows []budgetRow, windowDays float64) {
	for _, b := range budgets {
		lasts := "forever"
		if b.ExhaustedInHours > 0 {
			lasts = hours(b.ExhaustedInHours)
		}
		rows = append(rows, budgetRow{
			SLI: b.SLI, Objective: b.Objective, Target: shortPct(b.Target),
			Bad:      fmt.Sprintf("%s (%d of %d)", shortPct(b.BadRatio), b.BadEvents, b.TotalEvents),
			BurnRate: fmt.Sprintf("%.2f×", b.BurnRate), Spent: shortPct(b.BudgetSpent), Lasts: lasts,
			Burning: b.BurnRate > 1,
		})
		windowDays = b.WindowDays
	}
	return rows, windowDays
}

// hours renders how long an error budget lasts: "45 min", "3.5 h",
// "12.5 days".
func hours(h float64) string { return results.FormatHours(h, "days") }
