package report

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// externalRef finds anything a browser would fetch from elsewhere: src or
// href attributes, CSS url() and @import, <link>, <script src>, <iframe>,
// <object> and <embed>, pointing at http(s) or a protocol-relative URL.
var externalRef = regexp.MustCompile(`(?i)((src|href|srcset|action|poster|data)\s*=\s*["']?\s*(https?:|//))|url\(\s*["']?\s*(https?:|//)|@import|<link\b|<script\b[^>]*\bsrc\b|<iframe\b|<object\b|<embed\b`)

// assertSelfContained fails when doc references an external resource, or
// contains any http(s) URL other than the allowed texts (a result's target
// is printed as text, never fetched).
func assertSelfContained(t *testing.T, doc string, allowed ...string) {
	t.Helper()
	if m := externalRef.FindString(doc); m != "" {
		t.Errorf("HTML references an external resource: %q", m)
	}
	rest := doc
	for _, a := range allowed {
		rest = strings.ReplaceAll(rest, a, "")
	}
	if i := strings.Index(rest, "http://"); i >= 0 {
		t.Errorf("HTML contains an http:// URL: %q", rest[max(0, i-40):min(len(rest), i+60)])
	}
	if i := strings.Index(rest, "https://"); i >= 0 {
		t.Errorf("HTML contains an https:// URL: %q", rest[max(0, i-40):min(len(rest), i+60)])
	}
}

func renderHTML(t *testing.T, r *results.Result) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, "html", r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestHTMLResult(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, true))
	doc := renderHTML(t, r)
	assertSelfContained(t, doc, r.Environment.Target)
	if n := strings.Count(doc, `<svg class="chart"`); n != 3 {
		t.Errorf("%d inline SVG charts, want 3", n)
	}
	if strings.Contains(doc, "chart-error") && strings.Contains(doc, `<div class="chart-error"`) {
		t.Error("a chart failed to render")
	}
	for _, want := range []string{
		`<figure id="latency-over-time">`, `<figure id="throughput-over-time">`, `<figure id="percentile-spectrum">`,
		"Latency over time", "Throughput over time", "Latency percentile spectrum",
		`<span class="badge fail" id="verdict">FAIL (score 50.0)</span>`,
		"p99 &lt; 200ms", // the SLO table, escaped
		`<span class="key">KEY</span>`,
		"need &gt;= 5000 requests to judge p999",
		">SLO p99 &lt; 200ms</text>",               // threshold line label inside the chart
		">SLO p99 &lt; 40ms (phase steady)</text>", // phase-scoped threshold
		"Log latency axis",                         // the stalled second makes the axis logarithmic
		">steady</text>", ">burst</text>",          // phase bands
		">99.9%</text>", // spectrum axis in percentiles
		"phase burst · burst 13–23 s",
		`id="error-budget"`, "30-day SLO window", "<td>availability</td>",
		"ENABLE_MODEL_CACHE=true",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(doc, "ZgotmplZ") {
		t.Error("html/template rejected a value (ZgotmplZ in the output)")
	}
	if strings.Contains(doc, "<?xml") || strings.Contains(doc, "xmlns") {
		t.Error("inline SVG keeps its XML prolog or namespace URLs")
	}
}

func TestHTMLLinearAxisAndOffScaleThreshold(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, false))
	r.SLO.Objectives[4].Objective = "max < 60s"
	r.SLO.Objectives[4].Bounds[0].Value = 60000
	doc := renderHTML(t, r)
	if strings.Contains(doc, "Log latency axis") {
		t.Error("a run without stalls got a log latency axis")
	}
	if !strings.Contains(doc, "SLO max &lt; 60s is off the scale") {
		t.Error("a threshold far above the data is not listed as off the scale")
	}
}

func TestHTMLSurvivesBrokenData(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, false))
	r.Histograms.Run.Latency = "not a histogram"
	r.Intervals = nil
	doc := renderHTML(t, r)
	if n := strings.Count(doc, `<div class="chart-error">`); n != 3 {
		t.Errorf("%d charts report an error, want all 3", n)
	}
	if !strings.Contains(doc, "no per-second intervals") || !strings.Contains(doc, "decoding histogram") {
		t.Error("chart errors do not say what is missing")
	}
	if !strings.Contains(doc, `id="slo"`) {
		t.Error("the SLO table is missing when charts fail")
	}
}

func TestHTMLComparison(t *testing.T) {
	base := withSLO(syntheticRun(t, 20*time.Millisecond, 1, false))
	cur := withSLO(syntheticRun(t, 10*time.Millisecond, 2, false))
	c := syntheticComparison(base, cur)
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "html", c, base, cur); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	assertSelfContained(t, doc, base.Environment.Target)
	if n := strings.Count(doc, `<svg class="chart"`); n != 3 {
		t.Errorf("%d inline SVG charts, want 3", n)
	}
	for _, want := range []string{
		`<figure id="compare-latency-over-time">`, `<figure id="compare-percentile-spectrum">`, `<figure id="compare-throughput">`,
		`<span class="badge worse" id="verdict">1 WORSE</span>`,
		"base p99", "new p99", "base (2600 requests)",
		"target env differs: DELAY_MS 20 → 10",
		`<section id="comparison">`, `<section id="comparison-scopes">`,
		`<strong class="sig">&#43;`, "[-53.0%, -47.0%]", "yes (p=0.003)",
		`<td colspan="3" class="detail">need &gt;= 5000 requests per side`,
		`<div class="bar better"><b style="left:50.00%;width:`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("comparison HTML lacks %q", want)
		}
	}
	if strings.Contains(doc, `<div class="chart-error"`) {
		t.Error("a comparison chart failed to render")
	}

	// Without the two results there is nothing to overlay: table only.
	buf.Reset()
	if err := WriteComparison(&buf, "html", c, nil, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<svg") || !strings.Contains(buf.String(), `<section id="comparison">`) {
		t.Error("comparison HTML without results should hold the table and no chart")
	}
}

func TestImprovementBarsShareOneScale(t *testing.T) {
	c := &results.Comparison{Metrics: []results.MetricDelta{
		{Metric: "p50", Scope: results.RunScope(), DeltaPct: -40, ImprovementPct: 40, CILowPct: -45, CIHighPct: -35, Significant: true, Verdict: "better"},
		{Metric: "throughput", Scope: results.RunScope(), DeltaPct: -10, ImprovementPct: -10, CILowPct: -12, CIHighPct: -8, Significant: true, Verdict: "worse"},
		{Metric: "p999", Scope: results.RunScope(), Verdict: "inconclusive"},
	}}
	tab := newCompareTable(c)
	rows := tab.Run.Rows
	// scale = 1.25 × 40 = 50 %: +40 % ends 48 × 40/50 = 38.4 % right of the centre.
	if r := rows[0]; !r.HasBar || r.BarLeft != 50 || abs(r.BarWidth-38.4) > 1e-9 {
		t.Errorf("p50 bar = %+v, want left 50 width 38.4", r)
	}
	// Lower latency is better: the change interval [-45, -35] is an
	// improvement interval of [+35, +45].
	if r := rows[0]; !r.HasWhisker || abs(r.WhiskerLeft-(50+48*35.0/50)) > 1e-9 || abs(r.WhiskerW-48*10.0/50) > 1e-9 {
		t.Errorf("p50 whisker = %+v", r)
	}
	// Higher throughput is better: change [-12, -8] is improvement [-12, -8].
	if r := rows[1]; abs(r.BarLeft-(50-48*10.0/50)) > 1e-9 || abs(r.WhiskerLeft-(50-48*12.0/50)) > 1e-9 {
		t.Errorf("throughput bar = %+v", r)
	}
	if rows[2].HasBar {
		t.Error("an inconclusive row has a bar")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestReportsWithoutSLO(t *testing.T) {
	r := syntheticRun(t, 10*time.Millisecond, 1, false)
	r.Partial = true
	for _, tc := range []struct{ format, want string }{
		{"markdown", "## ℹ️ slogate: synthetic-guard — no SLO evaluated"},
		{"markdown", "Partial result"},
		{"html", "Partial result: the run was interrupted"},
		{"html", `<svg class="chart"`},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tc.format, r); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%s report without SLO lacks %q", tc.format, tc.want)
		}
		if tc.format == "html" && strings.Contains(buf.String(), `id="verdict"`) {
			t.Error("HTML shows a verdict badge for a result without SLO")
		}
	}
}

// The badge of an inconclusive comparison (a compared run was unreliable:
// the CLI exits 3) says so, whatever the rows count.
func TestHTMLComparisonInconclusiveBadge(t *testing.T) {
	base := syntheticRun(t, 20*time.Millisecond, 1, false)
	cur := syntheticRun(t, 20*time.Millisecond, 2, false)
	c := syntheticComparison(base, cur)
	for i := range c.Metrics {
		c.Metrics[i].Verdict = changeNoChange
	}
	c.Verdict, c.Reasons = verdictInconclusive, []string{"1 of the 2 compared runs saturated the load generator"}
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "html", c, base, cur); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if !strings.Contains(doc, `<span class="badge inconclusive" id="verdict">INCONCLUSIVE</span>`) || strings.Contains(doc, "NO SIGNIFICANT CHANGE") ||
		!strings.Contains(doc, "saturated the load generator") {
		t.Errorf("badge of an inconclusive comparison:\n%s", doc[:min(len(doc), 3000)])
	}
}

// A run that ends mid-second has a last interval of less than a second: the
// throughput chart draws it as a rate over the part the schedule covered,
// not as a drop, and leaves out a last sliver too short to be a rate.
func TestThroughputLastPartialSecond(t *testing.T) {
	run := func(seconds float64, partialAt time.Duration) *results.Result {
		dur := time.Duration(seconds * float64(time.Second))
		rec := results.NewRecorder(results.Plan{
			Phases:     []results.PhaseSpec{{Name: "steady", Kind: "constant", Duration: dur, Planned: int64(seconds * 100)}},
			TargetRate: func(time.Duration) float64 { return 100 },
		})
		elapsed := dur
		if partialAt > 0 {
			elapsed = partialAt
		}
		for due := time.Duration(0); due < elapsed; due += 10 * time.Millisecond { // 100 req/s
			rec.Record(results.Sample{Due: due, Latency: time.Millisecond, ServiceLatency: time.Millisecond, Outcome: results.OutcomeSuccess, Status: 200})
		}
		return rec.Result(results.Finish{Scenario: "s", Engine: "vegeta", Elapsed: elapsed, Partial: partialAt > 0})
	}
	success := func(iv *results.Interval) float64 { return float64(iv.Success) }
	for _, c := range []struct {
		name    string
		r       *results.Result
		wantEnd float64
	}{
		{"2.5 s schedule", run(2.5, 0), 2.5},
		{"interrupted at 3.5 s of 10", run(10, 3500*time.Millisecond), 3.5},
		{"2.1 s: the last 0.1 s is left out", run(2.1, 0), 2},
	} {
		xys := countSteps(c.r, success)
		if len(xys) == 0 {
			t.Fatalf("%s: no points", c.name)
		}
		for _, p := range xys {
			if math.Abs(p.Y-100) > 1 {
				t.Errorf("%s: %.0f req/s at t=%g, want 100 throughout (%v)", c.name, p.Y, p.X, xys)
			}
		}
		if last := xys[len(xys)-1].X; math.Abs(last-c.wantEnd) > 1e-9 {
			t.Errorf("%s: series ends at %g, want %g", c.name, last, c.wantEnd)
		}
	}
}

// The throughput series walks the intervals, not the seconds between them:
// two intervals a million seconds apart (a valid, if odd, result) give a
// handful of points, not a million.
func TestThroughputStepsBoundedByIntervals(t *testing.T) {
	r := &results.Result{Schema: results.Schema, DurationS: 1e6 + 1, Intervals: []results.Interval{
		{TS: 0, Requests: 10, Success: 10}, {TS: 1e6, Requests: 10, Success: 10},
	}}
	xys := countSteps(r, func(iv *results.Interval) float64 { return float64(iv.Success) })
	if len(xys) > 6 {
		t.Fatalf("%d points for 2 intervals", len(xys))
	}
	want := []float64{10, 0, 10, 10} // t=0, the gap from t=1, t=1e6, closing point
	for i, p := range xys {
		if i < len(want) && p.Y != want[i] {
			t.Errorf("point %d = %v, want y %g (%v)", i, p, want[i], xys)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, "html", r); err != nil {
		t.Fatal(err)
	}
}

// Merged repeats: each run's last half second keeps its span through the
// merge, so no run's end is drawn as a drop; the series covers every run.
func TestThroughputOfMergedRepeats(t *testing.T) {
	var runs []*results.Result
	for i := 0; i < 3; i++ {
		rec := results.NewRecorder(results.Plan{Phases: []results.PhaseSpec{{Name: "p", Duration: 2500 * time.Millisecond, Planned: 25}}})
		for j := 0; j < 25; j++ {
			rec.Record(results.Sample{Due: time.Duration(j) * 100 * time.Millisecond, Latency: time.Millisecond, Outcome: results.OutcomeSuccess, Status: 200})
		}
		runs = append(runs, rec.Result(results.Finish{Scenario: "s", Engine: "vegeta", Elapsed: 2500 * time.Millisecond}))
	}
	agg, err := results.MergeSequential(runs)
	if err != nil {
		t.Fatal(err)
	}
	xys := countSteps(agg, func(iv *results.Interval) float64 { return float64(iv.Success) })
	lastTS := float64(agg.Intervals[len(agg.Intervals)-1].TS)
	if got := xys[len(xys)-1].X; got < lastTS {
		t.Errorf("series ends at %g, before the last interval %g: %v", got, lastTS, xys)
	}
	for _, p := range xys { // every run's half second is 10 req/s too
		if math.Abs(p.Y-10) > 0.5 {
			t.Errorf("%.1f req/s at t=%g, want 10 throughout: %v", p.Y, p.X, xys)
			break
		}
	}
}
