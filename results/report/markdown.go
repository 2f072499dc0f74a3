package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/slogate/slogate/results"
)

// writeMarkdown renders a result as GitHub-flavoured Markdown: a headline
// with the verdict, the key figures, the SLO table and the phase and
// endpoint breakdown. It is what `--report markdown=FILE` writes and what
// goes to $GITHUB_STEP_SUMMARY.
func writeMarkdown(w io.Writer, r *results.Result) error {
	b := &strings.Builder{}
	s := &r.Summary
	verdict := "no SLO evaluated"
	icon := "ℹ️"
	if r.SLO != nil {
		class, headline := runVerdict(r.SLO)
		verdict, icon = headline, verdictIcon(class)
	}
	fmt.Fprintf(b, "## %s slogate: %s — %s\n\n", icon, mdText(r.Scenario), verdict)
	var facts []string
	facts = append(facts, "engine "+mdText(r.Engine))
	if !r.StartedAt.IsZero() {
		facts = append(facts, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	facts = append(facts, fmt.Sprintf("%.1f s", r.DurationS))
	if r.Environment.Target != "" {
		facts = append(facts, "target `"+strings.ReplaceAll(r.Environment.Target, "`", "'")+"`")
	}
	fmt.Fprintf(b, "%s\n\n", strings.Join(facts, " · "))
	if r.Partial {
		b.WriteString("> ⚠️ **Partial result**: the run was interrupted before its schedule ended.\n\n")
	}
	if r.Generator.Saturated {
		fmt.Fprintf(b, "> ⚠️ **Generator saturated**: %s\n\n", mdText(strings.Join(r.Generator.Reasons, "; ")))
	}

	b.WriteString("| requests | asked | answered | success | blocked | errors | p50 | p90 | p99 | max |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	asked := fmt.Sprintf("%.1f req/s", s.TargetRateRPS)
	if r.Generator.PlannedReqs == 0 {
		asked = "unknown (closed model)"
	}
	fmt.Fprintf(b, "| %d | %s | %.1f req/s | %s | %s | %s | %s | %s | %s | %s |\n\n",
		s.Requests, asked, s.ThroughputRPS, percent(s.SuccessRate), percent(s.BlockRate), percent(s.ErrorRate),
		ms(s.LatencyMs.P50), ms(s.LatencyMs.P90), ms(s.LatencyMs.P99), ms(s.LatencyMs.Max))

	if r.SLO != nil {
		writeMarkdownSLO(b, r.SLO)
	}
	if len(r.Phases) > 0 || len(r.Endpoints) > 0 {
		b.WriteString("### Phases and endpoints\n\n")
		b.WriteString("| scope | requests | asked | p50 | p95 | p99 | max | blocked | errors |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for i := range r.Phases {
			p := &r.Phases[i]
			name := mdText(results.PhaseScope(p.Name).String())
			if p.Warmup {
				name += " (warm-up, not measured)"
			}
			markdownScopeRow(b, name, &p.Summary)
		}
		for i := range r.Endpoints {
			markdownScopeRow(b, mdText(results.EndpointScope(r.Endpoints[i].Name).String()), &r.Endpoints[i].Summary)
		}
		b.WriteString("\n")
	}
	if len(s.Errors) > 0 {
		b.WriteString("<details><summary>Errors</summary>\n\n")
		for _, k := range sortedKeys(s.Errors) {
			fmt.Fprintf(b, "- %s ×%d\n", mdText(k), s.Errors[k])
		}
		b.WriteString("\n</details>\n\n")
	}
	if lines := results.ServerLines(r); len(lines) > 0 {
		b.WriteString("**Server side** (the target's own metrics)\n\n")
		for _, l := range lines {
			fmt.Fprintf(b, "- %s\n", mdText(l))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownSLO(b *strings.Builder, rep *results.SLOReport) {
	b.WriteString("### SLOs\n\n")
	b.WriteString("| | objective | scope | value | baseline | detail |\n")
	b.WriteString("|:-:|---|---|---:|---:|---|\n")
	for i := range rep.Objectives {
		o := &rep.Objectives[i]
		name := mdText(o.Objective)
		if o.Key {
			name += " **(key)**"
		}
		if o.Weight != 0 && o.Weight != 1 {
			name += fmt.Sprintf(" ×%g", o.Weight)
		}
		baseline := ""
		if o.Baseline != nil {
			baseline = results.FormatValue(*o.Baseline, o.Unit)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", verdictIcon(o.Verdict), name, mdText(o.Scope.String()),
			results.FormatValue(o.Value, o.Unit), baseline, mdText(o.Detail))
	}
	class, headline := runVerdict(rep)
	fmt.Fprintf(b, "\n**Verdict: %s %s**", verdictIcon(class), mdText(headline))
	b.WriteString("\n\n")
	for _, reason := range rep.Reasons {
		fmt.Fprintf(b, "- %s\n", mdText(reason))
	}
	if len(rep.Reasons) > 0 {
		b.WriteString("\n")
	}
	if rows, window := budgetRows(rep.ErrorBudget); len(rows) > 0 {
		fmt.Fprintf(b, "**Error budget** (%g-day SLO window; burn rate 1 spends exactly the budget in the window)\n\n", window)
		b.WriteString("| SLI | objective | target | bad | burn rate | spent by this run | budget lasts |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			burn := r.BurnRate
			if r.Burning {
				burn = "**" + burn + "** 🔥"
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdText(r.SLI), mdText(r.Objective), r.Target, r.Bad, burn, r.Spent, r.Lasts)
		}
		b.WriteString("\n")
	}
}

func markdownScopeRow(b *strings.Builder, name string, s *results.Summary) {
	asked := "–"
	if s.TargetRateRPS > 0 {
		asked = fmt.Sprintf("%.0f req/s", s.TargetRateRPS)
	}
	fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", name, s.Requests, asked,
		ms(s.LatencyMs.P50), ms(s.LatencyMs.P95), ms(s.LatencyMs.P99), ms(s.LatencyMs.Max),
		percent(s.BlockRate), percent(s.ErrorRate))
}

// writeComparisonMarkdown renders a comparison: the two sides, warnings, and
// one table row per metric and scope with the improvement (positive = NEW
// is better), the interval of the change and whether it is significant.
func writeComparisonMarkdown(w io.Writer, c *results.Comparison) error {
	b := &strings.Builder{}
	better, worse := countChanges(c)
	fmt.Fprintf(b, "## slogate compare: %s → %s\n\n", mdText(runLabel(c.Base)), mdText(runLabel(c.New)))
	scenario := c.New.Scenario
	if c.Base.Scenario != c.New.Scenario {
		scenario = c.Base.Scenario + " vs " + c.New.Scenario
	}
	fmt.Fprintf(b, "scenario %s · %d significantly better · %d significantly worse · method: %s · %s intervals of the change NEW/BASE − 1\n\n",
		mdText(scenario), better, worse, mdText(c.Method), ciLevel(c))
	if c.Verdict != "" {
		fmt.Fprintf(b, "**Verdict: %s %s**\n\n", changeIcon(c.Verdict), strings.ToUpper(c.Verdict))
	}
	for _, reason := range c.Reasons {
		fmt.Fprintf(b, "- %s\n", mdText(reason))
	}
	if len(c.Reasons) > 0 {
		b.WriteString("\n")
	}
	for _, warn := range c.Warnings {
		fmt.Fprintf(b, "> ⚠️ %s\n\n", mdText(warn))
	}
	b.WriteString("| | metric | scope | base | new | change | improvement | " + ciLevel(c) + " CI of change | significant | note |\n")
	b.WriteString("|:-:|---|---|---:|---:|---:|---:|---:|:-:|---|\n")
	for i := range c.Metrics {
		d := &c.Metrics[i]
		improvement := signedPct(d.ImprovementPct)
		if d.Significant {
			improvement = "**" + improvement + "**"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", changeIcon(d.Verdict), mdText(d.Metric), mdText(d.Scope.String()),
			results.FormatValue(d.Base, d.Unit), results.FormatValue(d.New, d.Unit), signedPct(d.DeltaPct), improvement,
			ciText(d), significanceText(d), mdText(d.Note))
	}
	b.WriteString("\n✅ better · ❌ worse · ➖ no significant change · ⚠️ not judged (see note)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdText makes s safe inside a Markdown table cell: no pipe ends the cell,
// no newline ends the row, and no "<" starts an HTML tag ("p99 < 200ms"
// stays readable in the raw text).
func mdText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '|':
			b.WriteString(`\|`)
		case '\n', '\r':
			b.WriteByte(' ')
		case '<':
			if i+1 < len(s) && (isLetter(s[i+1]) || strings.IndexByte("/!?", s[i+1]) >= 0) {
				b.WriteString("&lt;")
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func sortedKeys(m map[string]int64) []string { return results.ByCount(m) }

// countChanges counts the metrics a comparison calls better and worse.
func countChanges(c *results.Comparison) (better, worse int) {
	for i := range c.Metrics {
		switch c.Metrics[i].Verdict {
		case changeBetter:
			better++
		case changeWorse:
			worse++
		}
	}
	return better, worse
}
