package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slogate/slogate/results"
)

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
}).Parse(pageTemplate))

// pageData is everything the HTML template prints. The template only lays
// out; every number is formatted here.
type pageData struct {
	Title        string
	Heading      string
	Verdict      string // PASS, FAIL, ... or "" when there is none
	VerdictClass string
	Facts        []string
	FactLines    bool // one fact per line (a comparison's two sides)
	Alerts       []string
	Cards        []card
	SLO          *sloTable
	Charts       []*chart
	Scopes       []scopeRow
	Comparison   *compareTable
	Lists        []namedList
	Details      []keyValue
	Generated    string
}

type card struct {
	Label, Value, Sub, Class string
}

type sloTable struct {
	Rows    []sloRow
	Budgets []budgetRow
	Window  string
	Verdict string
	Class   string
	Score   string
	Reasons []string
}

type sloRow struct {
	Class, Verdict, Objective, Scope, Value, Baseline, Detail string
	Key                                                       bool
	Weight                                                    string
}

type scopeRow struct {
	Scope, Requests, Asked, P50, P95, P99, Max, Blocked, Errors string
	Muted                                                       bool
}

type compareTable struct {
	CILevel string
	Method  string
	Run     *compareGroup   // the whole run, shown first
	Scopes  []*compareGroup // phases and endpoints
}

type compareGroup struct {
	Scope string
	Rows  []compareRow
}

type compareRow struct {
	Class, Verdict, Metric, Base, New, Change, Improvement, CI, Significant, Note string
	Strong                                                                        bool
	// The improvement bar: from the centre line, BarLeft..BarLeft+BarWidth in
	// % of the cell; the whisker is the interval of the improvement.
	HasBar                bool
	BarLeft, BarWidth     float64
	HasWhisker            bool
	WhiskerLeft, WhiskerW float64
}

type keyValue struct{ Key, Value string }

type namedList struct {
	Title string
	Items []keyValue
}

func renderPage(w io.Writer, d *pageData) error {
	d.Generated = time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

func verdictClass(v string) string {
	switch v {
	case verdictPass, verdictFail, verdictInconclusive, verdictWarning, changeBetter, changeWorse:
		return v
	case changeNoChange:
		return "nochange"
	}
	return verdictInconclusive
}

// writeHTML renders one result as a self-contained page: headline and key
// figures, the SLO table, the charts, the phase/endpoint breakdown and the
// run's environment.
func writeHTML(w io.Writer, r *results.Result) error {
	s := &r.Summary
	d := &pageData{
		Title:   "slogate report: " + r.Scenario,
		Heading: r.Scenario,
	}
	if r.SLO != nil {
		class, headline := runVerdict(r.SLO)
		d.Verdict, d.VerdictClass = headline, verdictClass(class)
	}
	d.Facts = runFacts(r)
	if r.Partial {
		d.Alerts = append(d.Alerts, "Partial result: the run was interrupted before its schedule ended.")
	}
	if r.Generator.Saturated {
		d.Alerts = append(d.Alerts, "Generator saturated: "+strings.Join(r.Generator.Reasons, "; "))
	}
	d.Cards = []card{
		{Label: "requests", Value: fmt.Sprint(s.Requests), Sub: fmt.Sprintf("%.1f s measured", r.MeasuredSeconds(results.IntervalSpan))},
		{Label: "answered", Value: fmt.Sprintf("%.1f/s", s.ThroughputRPS), Sub: askedSub(r)},
		{Label: "p50", Value: ms(s.LatencyMs.P50), Sub: "service " + ms(s.ServiceLatencyMs.P50)},
		{Label: "p99", Value: ms(s.LatencyMs.P99), Sub: "service " + ms(s.ServiceLatencyMs.P99)},
		{Label: "max", Value: ms(s.LatencyMs.Max), Sub: "p99.9 " + ms(s.LatencyMs.P999)},
		{Label: "success", Value: percent(s.SuccessRate), Sub: fmt.Sprintf("%d requests", s.SuccessCount), Class: "good"},
		{Label: "blocked", Value: percent(s.BlockRate), Sub: fmt.Sprintf("%d requests", s.BlockedCount), Class: classIf(s.BlockedCount > 0, "warn")},
		{Label: "errors", Value: percent(s.ErrorRate), Sub: fmt.Sprintf("%d requests", s.ErrorCount), Class: classIf(s.ErrorCount > 0, "bad")},
	}
	if r.SLO != nil {
		d.SLO = newSLOTable(r.SLO)
	}
	d.Charts = append(resultCharts(r), serverCharts(r)...)
	for i := range r.Phases {
		p := &r.Phases[i]
		name := results.PhaseScope(p.Name).String()
		if p.Warmup {
			name += " (warm-up, not measured)"
		}
		d.Scopes = append(d.Scopes, newScopeRow(name+fmt.Sprintf(" · %s %g–%g s", p.Kind, p.StartS, p.StartS+p.DurationS), &p.Summary, p.Warmup))
	}
	for i := range r.Endpoints {
		d.Scopes = append(d.Scopes, newScopeRow(results.EndpointScope(r.Endpoints[i].Name).String(), &r.Endpoints[i].Summary, false))
	}
	if len(s.StatusCodes) > 0 {
		d.Lists = append(d.Lists, namedList{Title: "Status codes", Items: countItems(s.StatusCodes)})
	}
	if len(s.Errors) > 0 {
		d.Lists = append(d.Lists, namedList{Title: "Errors", Items: countItems(s.Errors)})
	}
	d.Details = runDetails(r)
	return renderPage(w, d)
}

// writeComparisonHTML renders a comparison: both sides, warnings, the
// headline changes, the overlaid charts (when both results are given) and
// the full comparison table with improvement bars.
func writeComparisonHTML(w io.Writer, c *results.Comparison, base, cur *results.Result) error {
	scenario := c.New.Scenario
	if c.Base.Scenario != c.New.Scenario {
		scenario = c.Base.Scenario + " vs " + c.New.Scenario
	}
	d := &pageData{
		Title:     "slogate compare: " + scenario + ": " + runLabel(c.Base) + " → " + runLabel(c.New),
		Heading:   scenario + ": " + runLabel(c.Base) + " → " + runLabel(c.New),
		FactLines: true,
	}
	better, worse := countChanges(c)
	switch {
	case c.Verdict == verdictInconclusive: // one verdict everywhere: the CLI exits 3
		d.Verdict, d.VerdictClass = "INCONCLUSIVE", verdictClass(verdictInconclusive)
		d.Alerts = append(d.Alerts, c.Reasons...)
	case worse > 0:
		d.Verdict, d.VerdictClass = fmt.Sprintf("%d WORSE", worse), "worse"
	case better > 0:
		d.Verdict, d.VerdictClass = fmt.Sprintf("%d BETTER", better), "better"
	default:
		d.Verdict, d.VerdictClass = "NO SIGNIFICANT CHANGE", "nochange"
	}
	d.Facts = []string{"base: " + describeSide(c.Base), "new: " + describeSide(c.New), "method: " + c.Method}
	d.Alerts = append(d.Alerts, c.Warnings...)
	for _, metric := range []string{"p50", "p99", "throughput", "error_rate"} {
		for i := range c.Metrics {
			m := &c.Metrics[i]
			if m.Metric != metric || m.Scope != results.RunScope() {
				continue
			}
			sub := results.FormatValue(m.Base, m.Unit) + " → " + results.FormatValue(m.New, m.Unit)
			value := signedPct(m.ImprovementPct)
			if m.Verdict == verdictInconclusive {
				value = "n/a"
			}
			d.Cards = append(d.Cards, card{Label: metric + " improvement", Value: value, Sub: sub + " · " + m.Verdict, Class: cardClass(m.Verdict)})
		}
	}
	d.Charts = comparisonCharts(base, cur)
	d.Comparison = newCompareTable(c)
	if base != nil && cur != nil {
		for _, side := range []struct {
			name string
			r    *results.Result
		}{{"base", base}, {"new", cur}} {
			d.Scopes = append(d.Scopes, newScopeRow(side.name+" · run "+side.r.Scenario, &side.r.Summary, false))
			for i := range side.r.Phases {
				p := &side.r.Phases[i]
				if !p.Warmup {
					d.Scopes = append(d.Scopes, newScopeRow(side.name+" · "+results.PhaseScope(p.Name).String(), &p.Summary, false))
				}
			}
		}
		d.Details = append(d.Details, keyValue{"base target env", envLine(base.Environment.TargetEnv)}, keyValue{"new target env", envLine(cur.Environment.TargetEnv)})
	}
	d.Details = append(d.Details, keyValue{"significance level α", fmt.Sprintf("%g", alphaOf(c))}, keyValue{"schema", c.Schema})
	return renderPage(w, d)
}

func cardClass(verdict string) string {
	switch verdict {
	case changeBetter:
		return "good"
	case changeWorse:
		return "bad"
	}
	return ""
}

func classIf(cond bool, class string) string {
	if cond {
		return class
	}
	return ""
}

func alphaOf(c *results.Comparison) float64 {
	if c.Alpha <= 0 || c.Alpha >= 1 {
		return 0.05
	}
	return c.Alpha
}

func runFacts(r *results.Result) []string {
	facts := []string{"engine " + r.Engine}
	if !r.StartedAt.IsZero() {
		facts = append(facts, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	facts = append(facts, fmt.Sprintf("%.1f s", r.DurationS))
	if r.Environment.Target != "" {
		facts = append(facts, "target "+r.Environment.Target)
	}
	if r.Environment.Hostname != "" {
		facts = append(facts, "on "+r.Environment.Hostname)
	}
	return facts
}

func runDetails(r *results.Result) []keyValue {
	e, g := &r.Environment, &r.Generator
	kv := []keyValue{
		{"schema", r.Schema},
		{"host", fmt.Sprintf("%s · %s/%s · %d CPUs · %s", e.Hostname, e.OS, e.Arch, e.CPUs, e.CPUModel)},
		{"versions", versionsLine(r)},
		{"scenario hash", e.ScenarioHash},
		{"target", strings.TrimSpace(e.Target + " " + e.TargetService)},
		{"target env", envLine(e.TargetEnv)},
		{"generator", generatorLine(g)},
		{"send lateness", fmt.Sprintf("p50 %s · p99 %s · max %s", ms(r.Summary.LatenessMs.P50), ms(r.Summary.LatenessMs.P99), ms(r.Summary.LatenessMs.Max))},
	}
	if e.K6 != "" {
		kv = append(kv, keyValue{"k6", e.K6})
	}
	if r.Summary.Censored > 0 {
		kv = append(kv, keyValue{"censored", fmt.Sprintf("%d requests still unsent at the drain deadline, recorded as errors", r.Summary.Censored)})
	}
	if r.Summary.GeneratorErrors > 0 {
		kv = append(kv, keyValue{"generator errors", fmt.Sprintf("%d requests not sent for lack of the generator's own resources (not the target's errors; the run is inconclusive)", r.Summary.GeneratorErrors)})
	}
	if r.Summary.Cancelled > 0 {
		kv = append(kv, keyValue{"cancelled", fmt.Sprintf("%d requests cut by the user's stop (not the target's errors)", r.Summary.Cancelled)})
	}
	return kv
}

func envLine(env map[string]string) string {
	if len(env) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + env[k]
	}
	return strings.Join(parts, " ")
}

func countItems(m map[string]int64) []keyValue {
	var kv []keyValue
	for _, k := range sortedKeys(m) {
		kv = append(kv, keyValue{k, fmt.Sprint(m[k])})
	}
	return kv
}

func newSLOTable(rep *results.SLOReport) *sloTable {
	class, headline := runVerdict(rep)
	t := &sloTable{Verdict: headline, Class: verdictClass(class), Reasons: rep.Reasons}
	if rep.Score != nil && *rep.Score >= 100 { // below 100 the headline has it
		t.Score = fmt.Sprintf("%.1f", *rep.Score)
	}
	var window float64
	if t.Budgets, window = budgetRows(rep.ErrorBudget); len(t.Budgets) > 0 {
		t.Window = fmt.Sprintf("%g-day", window)
	}
	for i := range rep.Objectives {
		o := &rep.Objectives[i]
		row := sloRow{
			Class: verdictClass(o.Verdict), Verdict: strings.ToUpper(o.Verdict), Objective: o.Objective, Scope: o.Scope.String(),
			Value: results.FormatValue(o.Value, o.Unit), Detail: o.Detail, Key: o.Key,
		}
		if o.Baseline != nil {
			row.Baseline = results.FormatValue(*o.Baseline, o.Unit)
		}
		if o.Weight != 0 && o.Weight != 1 {
			row.Weight = fmt.Sprintf("×%g", o.Weight)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func newScopeRow(name string, s *results.Summary, muted bool) scopeRow {
	asked := "–"
	if s.TargetRateRPS > 0 {
		asked = fmt.Sprintf("%.0f/s", s.TargetRateRPS)
	}
	return scopeRow{
		Scope: name, Requests: fmt.Sprint(s.Requests), Asked: asked,
		P50: ms(s.LatencyMs.P50), P95: ms(s.LatencyMs.P95), P99: ms(s.LatencyMs.P99), Max: ms(s.LatencyMs.Max),
		Blocked: percent(s.BlockRate), Errors: percent(s.ErrorRate), Muted: muted,
	}
}

// higherIsBetter reads a row's direction: improvement = +change when more
// is better (throughput), −change when less is (latency, error rate).
func higherIsBetter(d *results.MetricDelta) bool {
	if d.DeltaPct != 0 && d.ImprovementPct != 0 {
		return (d.DeltaPct > 0) == (d.ImprovementPct > 0)
	}
	row := results.LookupMetric(d.Metric)
	return row != nil && row.HigherIsBetter
}

func newCompareTable(c *results.Comparison) *compareTable {
	t := &compareTable{CILevel: ciLevel(c), Method: c.Method}
	// Bars share one scale: 1.25 × the largest judged |improvement| (at
	// least 5 %, at most 100 %); whiskers beyond it are clipped at the edge.
	scale := 5.0
	for i := range c.Metrics {
		d := &c.Metrics[i]
		if d.Verdict != verdictInconclusive && !math.IsNaN(d.ImprovementPct) && !math.IsInf(d.ImprovementPct, 0) {
			scale = math.Max(scale, 1.25*math.Abs(d.ImprovementPct))
		}
	}
	scale = math.Min(scale, 100)
	pos := func(v float64) float64 { // % of the cell width, 50 = no change
		v = math.Max(-scale, math.Min(scale, v))
		return 50 + 48*v/scale
	}
	groups := map[results.Scope]*compareGroup{}
	for i := range c.Metrics {
		d := &c.Metrics[i]
		row := compareRow{
			Class: verdictClass(d.Verdict), Verdict: d.Verdict, Metric: d.Metric,
			Base: results.FormatValue(d.Base, d.Unit), New: results.FormatValue(d.New, d.Unit),
			Change: signedPct(d.DeltaPct), Improvement: signedPct(d.ImprovementPct), CI: ciText(d),
			Significant: significanceText(d), Note: d.Note, Strong: d.Significant,
		}
		if d.Verdict != verdictInconclusive && !math.IsNaN(d.ImprovementPct) && !math.IsInf(d.ImprovementPct, 0) {
			a, b := pos(0), pos(d.ImprovementPct)
			row.HasBar, row.BarLeft, row.BarWidth = true, math.Min(a, b), math.Abs(b-a)
			if hasCI(d) {
				lo, hi := d.CILowPct, d.CIHighPct
				if !higherIsBetter(d) {
					lo, hi = -hi, -lo
				}
				row.HasWhisker, row.WhiskerLeft, row.WhiskerW = true, pos(lo), pos(hi)-pos(lo)
			}
		}
		scope := d.Scope.OrRun()
		g := groups[scope]
		if g == nil {
			g = &compareGroup{Scope: scope.String()}
			groups[scope] = g
			if scope == results.RunScope() {
				t.Run = g
			} else {
				t.Scopes = append(t.Scopes, g)
			}
		}
		g.Rows = append(g.Rows, row)
	}
	return t
}

// askedSub is the "asked" line under the answered rate: a k6 script's
// closed model plans no rate.
func askedSub(r *results.Result) string {
	if r.Generator.PlannedReqs == 0 {
		return "asked: unknown (closed model)"
	}
	return fmt.Sprintf("asked %.1f/s", r.Summary.TargetRateRPS)
}

// versionsLine names the engine that measured the run.
func versionsLine(r *results.Result) string {
	e := &r.Environment
	engine := "vegeta " + e.Vegeta
	if r.Engine == "k6" {
		engine = "k6 " + e.K6
	}
	return fmt.Sprintf("slogate %s · %s · %s", e.Slogate, e.GoVersion, engine)
}

func generatorLine(g *results.Generator) string {
	switch {
	case g.MaxWorkers == 0 && g.PlannedReqs == 0: // a k6 script's closed model
		return fmt.Sprintf("k6 script · %d requests sent · planned requests unknown (closed model)", g.SentReqs)
	case g.MaxWorkers == 0: // a k6 script's arrival-rate executors
		return fmt.Sprintf("k6 script · %d requests sent · %.1f%% of %d planned iterations started on schedule · %d dropped",
			g.SentReqs, 100*g.AchievedRatio, g.PlannedReqs, g.DroppedIterations)
	}
	return fmt.Sprintf("max %d workers · %d of %d planned requests sent (%.1f%%) · all workers busy for %.1f%% of requests",
		g.MaxWorkers, g.SentReqs, g.PlannedReqs, 100*g.AchievedRatio, 100*g.PinnedFraction)
}
