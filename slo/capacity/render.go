package capacity

// Rendering lives here, beside the document it renders: package results
// must not import slo, and the capacity document is slo's (it holds the
// search's verdicts and the model), so results/report cannot know it; the
// CLI only picks a format and a file.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// JSON is the document as written by --out: indented, newline-terminated.
func JSON(r *Report) ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Render writes r in format: text, markdown, json or html.
func Render(w io.Writer, format string, r *Report) error {
	switch format {
	case "text":
		return WriteText(w, r)
	case "markdown", "md":
		return WriteMarkdown(w, r)
	case "json":
		data, err := JSON(r)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	case "html":
		return WriteHTML(w, r)
	}
	return fmt.Errorf("unknown capacity report format %q (want text, markdown, json or html)", format)
}

// Answer is the search's answer in one sentence.
func (r *Report) Answer() string {
	switch {
	case r.GeneratorBound:
		return fmt.Sprintf("GENERATOR-BOUND at %.0f req/s: the load generator could not go higher before any objective failed; this is no capacity figure (the target takes at least this much)", r.GeneratorLimitRPS)
	case r.CapacityRPS > 0:
		held := "confirmed: held for the confirmation step"
		if !r.Confirmed {
			held = "NOT confirmed (no confirmation step held it)"
		}
		if r.LimitedBy == nil {
			// Nothing failed: the figure is where the search stopped asking.
			return fmt.Sprintf("CAPACITY AT LEAST %.0f req/s (%s; no objective failed in the search, so the limit is higher)", r.CapacityRPS, held)
		}
		return fmt.Sprintf("CAPACITY %.0f req/s (%s)", r.CapacityRPS, held)
	default:
		return "NO CAPACITY FIGURE: " + r.Stopped
	}
}

func fmtRate(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func (r *Report) limitedBy() string {
	if r.LimitedBy == nil {
		return "-"
	}
	return fmt.Sprintf("%s = %.4g %s at %.0f req/s", r.LimitedBy.Objective, r.LimitedBy.Value, r.LimitedBy.Unit, r.LimitedBy.RateRPS)
}

func stepRow(st Step) []string {
	server := "-"
	if len(st.Server) > 0 {
		var parts []string
		if v, ok := st.Server[ServerCPUCores]; ok {
			parts = append(parts, fmt.Sprintf("cpu %.2f cores", v))
		}
		if v, ok := st.Server[ServerP95Ms]; ok {
			parts = append(parts, fmt.Sprintf("p95 %.1f ms", v))
		}
		if v, ok := st.Server[ServerRSSMB]; ok {
			parts = append(parts, fmt.Sprintf("rss %.0f MiB", v))
		}
		server = strings.Join(parts, ", ")
	}
	verdict := st.Verdict
	if st.GeneratorSaturated {
		verdict += " (generator saturated)"
	}
	s := st.Summary
	return []string{
		fmt.Sprintf("%.0f", st.RateRPS), st.Phase, fmt.Sprintf("%.0f", st.DurationS), verdict,
		fmt.Sprintf("%.0f", s.ThroughputRPS),
		fmt.Sprintf("%.2f", s.LatencyMs.P50), fmt.Sprintf("%.2f", s.LatencyMs.P95), fmt.Sprintf("%.2f", s.LatencyMs.P99),
		fmt.Sprintf("%.2f%%", 100*s.ErrorRate), fmt.Sprintf("%.2f%%", 100*s.BlockRate), server,
	}
}

var stepHeader = []string{"rate", "step", "s", "verdict", "thru/s", "p50 ms", "p95 ms", "p99 ms", "errors", "blocked", "server"}

func (r *Report) modelLines() []string {
	if r.Model == nil {
		return []string{r.ModelNote}
	}
	u := r.Model
	lines := []string{
		fmt.Sprintf("X(N) = λN / (1 + σ(N−1) + κN(N−1)) over %d steps (N = throughput × mean latency)", u.Points),
		fmt.Sprintf("λ %.2f req/s per unit of concurrency; σ %.4g (90%% CI %.4g..%.4g); κ %.4g (90%% CI %.4g..%.4g)",
			u.Lambda, u.Sigma, u.SigmaCI[0], u.SigmaCI[1], u.Kappa, u.KappaCI[0], u.KappaCI[1]),
	}
	switch {
	case u.PeakRPS > 0:
		lines = append(lines, fmt.Sprintf("predicted peak %.0f req/s at concurrency %.1f (a prediction, not a measurement)", u.PeakRPS, u.PeakN))
	case u.AsymptoteRPS > 0:
		lines = append(lines, fmt.Sprintf("no peak (κ = 0): throughput levels off at %.0f req/s (predicted)", u.AsymptoteRPS))
	default:
		lines = append(lines, "no limit in sight in the measured range (σ = κ = 0)")
	}
	fits := fmt.Sprintf("the model describes the steps up to %.0f req/s and stops fitting beyond", u.FitsToRPS)
	if u.FitsToRPS == 0 {
		fits = "the model misses even the lightest step by more than 10 %: read it as a trend, not a prediction"
	}
	lines = append(lines, fmt.Sprintf("fit R² %.3f, largest error %.0f%%; %s", u.R2, 100*u.MaxRelError, fits))
	return lines
}

func (r *Report) seedLines() []string {
	sr := r.SeedRule
	if sr == nil {
		return nil
	}
	p95 := fmt.Sprintf("P95 > %.0f ms: never in the steps", sr.P95ThresholdMs)
	if sr.P95AtRPS > 0 {
		p95 = fmt.Sprintf("P95 > %.0f ms first at %.0f req/s", sr.P95ThresholdMs, sr.P95AtRPS)
	}
	cpu := "CPU > 70 %: not judged (the server's CPU was not scraped)"
	if sr.CPUNote != "" {
		cpu = "CPU > 70 %: not judged: " + sr.CPUNote
	}
	switch {
	case sr.CPUScraped && sr.CPUAtRPS > 0:
		cpu = fmt.Sprintf("CPU > %.0f %% of %.0f cores first at %.0f req/s", 100*sr.CPUThreshold, sr.ServiceCores, sr.CPUAtRPS)
	case sr.CPUScraped:
		cpu = fmt.Sprintf("CPU > %.0f %% of %.0f cores: never in the steps", 100*sr.CPUThreshold, sr.ServiceCores)
	}
	fires := "the rule never fired in the steps"
	if sr.FiresAtRPS > 0 {
		fires = fmt.Sprintf("the rule asks for another instance from %.0f req/s", sr.FiresAtRPS)
	}
	return []string{p95, cpu, fires}
}

func coreRow(c CoreRow) []string {
	seed := "-"
	if c.SeedHighRPS > 0 {
		seed = fmt.Sprintf("%.0f–%.0f", c.SeedLowRPS, c.SeedHighRPS)
	}
	v := fmtRate(c.CapacityRPS)
	switch {
	case c.GeneratorBound:
		v = "≥ " + v + " (generator-bound)"
	case c.AtLeast:
		v = "≥ " + v + " (no objective failed)"
	}
	where := c.Note
	if len(c.ServiceCPUs) > 0 {
		where = fmt.Sprintf("service on CPU %s, generator GOMAXPROCS %d", joinInts(c.ServiceCPUs), c.GeneratorProcs)
		if c.Shared {
			where += ", shared"
		}
	}
	return []string{fmt.Sprint(c.Cores), seed, v, c.Label, where}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// WriteText writes the report for a terminal.
func WriteText(w io.Writer, r *Report) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "capacity of %s (%s)\n", r.Scenario, r.Target)
	if len(r.Objectives) > 0 {
		fmt.Fprintf(&b, "objectives: %s\n", strings.Join(r.Objectives, "; "))
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(stepHeader, "\t"))
	for _, st := range r.Steps {
		fmt.Fprintln(tw, strings.Join(stepRow(st), "\t"))
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%s\n", r.Answer())
	fmt.Fprintf(&b, "limited by: %s\n", r.limitedBy())
	fmt.Fprintf(&b, "knee (p99 doubles): %s req/s\n", fmtRate(r.KneeRPS))
	fmt.Fprintf(&b, "search: %s; %d steps in %.0f s", r.Stopped, len(r.Steps), r.ElapsedS)
	if r.BudgetS > 0 {
		fmt.Fprintf(&b, " (budget %.0f s)", r.BudgetS)
	}
	b.WriteString("\n\nmodel (Universal Scalability Law):\n")
	for _, l := range r.modelLines() {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if len(r.Plan) > 0 || r.PlanNote != "" {
		b.WriteString("\nplan:\n")
		if r.PlanNote != "" {
			fmt.Fprintf(&b, "  %s\n", r.PlanNote)
		}
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		if len(r.Plan) > 0 {
			fmt.Fprintln(tw, "  load req/s\tinstances\theadroom\tper instance req/s")
		}
		for _, p := range r.Plan {
			fmt.Fprintf(tw, "  %.0f\t%d\t%.0f%%\t%.0f\n", p.LoadRPS, p.Instances, 100*p.Headroom, p.PerInstanceRPS)
		}
		tw.Flush()
	}
	if lines := r.seedLines(); len(lines) > 0 {
		b.WriteString("\nseed rule (add an instance when P95 > 100 ms or CPU > 70 %):\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	if r.Cores != nil {
		b.WriteString("\nper-core capacity (the seed's table, measured):\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  cores\tseed req/s\tslogate req/s\t\twhere")
		for _, c := range r.Cores.Rows {
			fmt.Fprintln(tw, "  "+strings.Join(coreRow(c), "\t"))
		}
		tw.Flush()
		fmt.Fprintf(&b, "  predicted rows: %s\n  shared with the generator: %s\n", r.Cores.Model, r.Cores.Shared)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func mdRow(cells []string) string {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

func mdSep(n int) string { return "|" + strings.Repeat("---|", n) + "\n" }

// WriteMarkdown writes the report as GitHub-flavoured Markdown.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## Capacity of %s\n\n**%s**\n\n", r.Scenario, r.Answer())
	fmt.Fprintf(&b, "- target: %s\n- limited by: %s\n- knee (p99 doubles): %s req/s\n- search: %s; %d steps in %.0f s\n",
		r.Target, r.limitedBy(), fmtRate(r.KneeRPS), r.Stopped, len(r.Steps), r.ElapsedS)
	if len(r.Objectives) > 0 {
		fmt.Fprintf(&b, "- objectives: %s\n", strings.Join(r.Objectives, "; "))
	}
	b.WriteString("\n### Steps\n\n")
	b.WriteString(mdRow(append([]string(nil), stepHeader...)))
	b.WriteString(mdSep(len(stepHeader)))
	for _, st := range r.Steps {
		b.WriteString(mdRow(stepRow(st)))
	}
	b.WriteString("\n### Model (Universal Scalability Law)\n\n")
	for _, l := range r.modelLines() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	if len(r.Plan) > 0 || r.PlanNote != "" {
		b.WriteString("\n### Plan\n\n")
		if r.PlanNote != "" {
			fmt.Fprintf(&b, "%s\n", r.PlanNote)
		}
		if len(r.Plan) > 0 {
			b.WriteString(mdRow([]string{"load req/s", "instances", "headroom", "per instance req/s"}))
			b.WriteString(mdSep(4))
			for _, p := range r.Plan {
				b.WriteString(mdRow([]string{fmt.Sprintf("%.0f", p.LoadRPS), fmt.Sprint(p.Instances),
					fmt.Sprintf("%.0f%%", 100*p.Headroom), fmt.Sprintf("%.0f", p.PerInstanceRPS)}))
			}
		}
	}
	if lines := r.seedLines(); len(lines) > 0 {
		b.WriteString("\n### Seed rule (add an instance when P95 > 100 ms or CPU > 70 %)\n\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if r.Cores != nil {
		b.WriteString("\n### Per-core capacity\n\n")
		b.WriteString(mdRow([]string{"cores", "seed req/s", "slogate req/s", "label", "where"}))
		b.WriteString(mdSep(5))
		for _, c := range r.Cores.Rows {
			b.WriteString(mdRow(coreRow(c)))
		}
		fmt.Fprintf(&b, "\nPredicted rows: %s.\n\nShared with the generator: %s.\n", r.Cores.Model, r.Cores.Shared)
	}
	_, err := w.Write(b.Bytes())
	return err
}
