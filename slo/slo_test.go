package slo

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
)

// synthetic builds a result whose latencies are exactly the given values
// (ms), with n429 blocked and nErr failed requests added at 1 ms, all due
// at the start of a 10 s run planned at targetRate.
func synthetic(latMs []float64, n429, nErr int, targetRate float64) *results.Result {
	var samples []results.Sample
	add := func(ms float64, o results.Outcome, status int) {
		d := time.Duration(ms * float64(time.Millisecond))
		samples = append(samples, results.Sample{Latency: d, ServiceLatency: d, Outcome: o, Status: status})
	}
	for _, ms := range latMs {
		add(ms, results.OutcomeSuccess, 200)
	}
	for i := 0; i < n429; i++ {
		add(1, results.OutcomeBlocked, 429)
	}
	for i := 0; i < nErr; i++ {
		add(1, results.OutcomeError, 500)
	}
	r, err := resultstest.Build(
		resultstest.Scenario("s"), resultstest.Engine("test"), resultstest.StartedAt(time.Time{}),
		resultstest.Generator(results.Generator{}),
		resultstest.Phases(results.PhaseSpec{Name: "main", Kind: "constant", Duration: 10 * time.Second, Planned: int64(targetRate * 10)}),
		resultstest.Samples(samples...),
	)
	if err != nil {
		panic(err)
	}
	return r
}

func uniform(n int, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return out
}

func parse(t *testing.T, doc string) *Set {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadFile(p)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func verdicts(rep results.SLOReport) []string {
	var out []string
	for _, o := range rep.Objectives {
		out = append(out, o.Verdict)
	}
	return out
}

func TestEvaluateThresholds(t *testing.T) {
	r := synthetic(uniform(1000, 1, 100), 50, 2, 106) // 1052 requests, 0.19 % errors
	set := parse(t, `objectives:
  - {metric: p50, threshold: "< 60ms"}
  - {metric: p99, threshold: "<= 0.05s"}
  - {metric: max, threshold: "< 500ms"}
  - {metric: block_rate, threshold: "1%..10%"}
  - {metric: error_rate, threshold: "< 0.1%"}
  - {metric: throughput, threshold: ">= 97%"}
  - {metric: throughput, threshold: ">= 200"}
  - {metric: p75, threshold: "< 80ms"}
`)
	rep := Evaluate(r, set, Options{})
	want := []string{"pass", "fail", "pass", "pass", "fail", "pass", "fail", "pass"}
	got := verdicts(rep)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("objective %d (%s): %s (value %v), want %s", i, rep.Objectives[i].Objective, got[i], rep.Objectives[i].Value, want[i])
		}
	}
	if rep.Verdict != Fail {
		t.Errorf("verdict %s, want fail", rep.Verdict)
	}
}

func TestEvaluateRecordsBounds(t *testing.T) {
	base := synthetic(uniform(1000, 1, 100), 0, 0, 100)
	cur := synthetic(uniform(1000, 1, 100), 0, 0, 100)
	set := parse(t, `objectives:
  - {metric: p99, threshold: "< 0.2s"}
  - {metric: p95, threshold: "5ms..80ms"}
  - {metric: error_rate, threshold: "< 0.1%"}
  - {metric: throughput, threshold: ">= 97%"}
  - {metric: p50, threshold: "< 200ms", budget: "<=+10%"}
`)
	rep := Evaluate(cur, set, Options{Baseline: base})
	b := func(metric, op string, v float64) results.Bound {
		return results.Bound{Metric: metric, Op: op, Value: v}
	}
	p50base := *rep.Objectives[4].Baseline
	want := [][]results.Bound{
		{b("p99", "<", 200)},
		{b("p95", ">=", 5), b("p95", "<=", 80)},
		{b("error_rate", "<", 0.001)},
		nil, // relative to the asked rate: no absolute bound
		{b("p50", "<", 200), {Metric: "p50", Op: "<=", Value: round(p50base * 1.1), Budget: "<=+10%"}},
	}
	for i, w := range want {
		got := rep.Objectives[i].Bounds
		if len(got) != len(w) {
			t.Errorf("objective %d (%s): bounds %+v, want %+v", i, rep.Objectives[i].Objective, got, w)
			continue
		}
		for j := range w {
			if got[j] != w[j] {
				t.Errorf("objective %d bound %d: %+v, want %+v", i, j, got[j], w[j])
			}
		}
	}
	// Without a baseline the budget has no bound; the threshold keeps its own.
	if got := Evaluate(cur, set, Options{}).Objectives[4].Bounds; len(got) != 1 || got[0] != b("p50", "<", 200) {
		t.Errorf("no baseline: bounds %+v, want only the threshold", got)
	}
}

func TestTooFewSamplesIsInconclusive(t *testing.T) {
	r := synthetic(uniform(100, 1, 10), 0, 0, 10)
	rep := Evaluate(r, Default(), Options{})
	var p99 results.ObjectiveResult
	for _, o := range rep.Objectives {
		if o.Name == "p99" {
			p99 = o
		}
	}
	if p99.Verdict != Inconclusive || !strings.Contains(p99.Detail, "need >= 500") {
		t.Errorf("p99 on 100 samples: %+v", p99)
	}
	if rep.Verdict != Inconclusive {
		t.Errorf("verdict %s, want inconclusive", rep.Verdict)
	}
}

func TestSaturatedOrPartialIsInconclusive(t *testing.T) {
	r := synthetic(uniform(1000, 1, 10), 0, 0, 100)
	if v := Evaluate(r, Default(), Options{}).Verdict; v != Pass {
		t.Fatalf("baseline verdict %s, want pass", v)
	}
	r.Generator.Saturated = true
	r.Generator.Reasons = []string{"sent 50% on schedule"}
	rep := Evaluate(r, Default(), Options{})
	if rep.Verdict != Inconclusive || !strings.Contains(strings.Join(rep.Reasons, " "), "50% on schedule") {
		t.Errorf("saturated: %+v", rep)
	}
	r.Generator.Saturated = false
	r.Partial = true
	if v := Evaluate(r, Default(), Options{}).Verdict; v != Inconclusive {
		t.Errorf("partial: verdict %s, want inconclusive", v)
	}
}

func TestScopes(t *testing.T) {
	r := synthetic(uniform(1000, 1, 10), 0, 0, 100)
	set := parse(t, `- {metric: p50, threshold: "< 50ms", phase: main}
- {metric: p50, threshold: "< 50ms", endpoint: home}
- {metric: p50, threshold: "< 50ms", phase: nope}
`)
	got := verdicts(Evaluate(r, set, Options{}))
	if got[0] != Pass || got[1] != Pass || got[2] != Inconclusive {
		t.Errorf("verdicts %v, want pass, pass, inconclusive (no such phase)", got)
	}
}

func TestKeyObjectiveAndScoring(t *testing.T) {
	r := synthetic(uniform(1000, 1, 100), 0, 0, 100) // p50 ≈ 50.5, p95 ≈ 95
	// Three objectives, weights 3:1:1, one light objective fails: score 80.
	set := parse(t, `objectives:
  - {metric: p50, threshold: "< 60ms", weight: 3}
  - {metric: p95, threshold: "< 50ms"}
  - {metric: max, threshold: "< 1s"}
scoring: {pass: 90, warning: 75}
`)
	rep := Evaluate(r, set, Options{})
	if rep.Verdict != Warning || rep.Score == nil || *rep.Score != 80 {
		t.Errorf("weighted: verdict %s score %v, want warning 80", rep.Verdict, rep.Score)
	}
	set = parse(t, `objectives:
  - {metric: p50, threshold: "< 60ms", weight: 3}
  - {metric: p95, threshold: "< 50ms", key: true}
  - {metric: max, threshold: "< 1s"}
scoring: {pass: 50, warning: 10}
`)
	if rep := Evaluate(r, set, Options{}); rep.Verdict != Fail {
		t.Errorf("failed key objective: verdict %s, want fail", rep.Verdict)
	}
}

func TestRelativeBudgets(t *testing.T) {
	base := synthetic(uniform(1000, 1, 100), 0, 0, 100)
	slower := synthetic(uniform(1000, 1.2, 120), 0, 0, 100) // +20 %
	set := parse(t, `- {metric: p99, budget: "<=+10%"}
- {metric: p50, threshold: "< 200ms", budget: "<=+25%"}
`)
	rep := Evaluate(slower, set, Options{Baseline: base})
	if got := verdicts(rep); got[0] != Fail || got[1] != Pass {
		t.Errorf("budgets: %v (%+v)", got, rep.Objectives)
	}
	// The same breach, judged not significant, passes: noise never fails a gate.
	rep = Evaluate(slower, set, Options{Baseline: base, Significant: func(string, string, string) (bool, bool) { return false, true }})
	if got := verdicts(rep); got[0] != Pass || !strings.Contains(rep.Objectives[0].Detail, "not significant") {
		t.Errorf("non-significant breach: %v %+v", got, rep.Objectives[0])
	}
	// Without a baseline a pure budget cannot be judged.
	if got := verdicts(Evaluate(slower, set, Options{})); got[0] != Inconclusive {
		t.Errorf("no baseline: %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"objectives:\n  - {metric: p99}\n", "line 2: objectives[0].threshold"},
		{"objectives:\n  - {metric: p99, threshold: \"~ 3\"}\n", "objectives[0].threshold"},
		{"objectives:\n  - {metric: error_rate, threshold: \"< 150%\"}\n", "objectives[0].threshold"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1ms\", budget: \"10%\"}\n", "objectives[0].budget"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1ms\", phase: a, endpoint: b}\n", "objectives[0].endpoint"},
		{"objectives:\n  - {metric: p99, treshold: \"< 1ms\"}\n", "line 2"},
		{"objectives: 3\n", "must be a list"},
		{"scoring: {pass: 1}\n", "objectives: missing"},
		// NaN, infinities and negative numbers are not thresholds.
		{"- {metric: p99, threshold: \"< NaN\"}\n", "line 1: objectives[0].threshold"},
		{"- {metric: p99, threshold: \"< -5ms\"}\n", "line 1: objectives[0].threshold"},
		{"-\n  metric: p99\n  threshold: \"< -5\"\n", "line 3: objectives[0].threshold"},
		{"- {metric: p99, threshold: \"0..Inf\"}\n", "objectives[0].threshold"},
		{"- {metric: error_rate, threshold: \"< NaN%\"}\n", "objectives[0].threshold"},
		{"- {metric: error_rate, threshold: \"< nan\"}\n", "objectives[0].threshold"},
		{"- {metric: throughput, threshold: \">= NaN%\"}\n", "objectives[0].threshold"},
		{"- {metric: throughput, threshold: \">= NaN\"}\n", "objectives[0].threshold"},
		{"- {metric: p99, budget: \"<=+NaN%\"}\n", "objectives[0].budget"},
		{"- {metric: p99, budget: \"<=+Inf%\"}\n", "objectives[0].budget"},
		{"-\n  metric: p99\n  threshold: \"< 1s\"\n  weight: .nan\n", "line 4: objectives[0].weight"},
		{"- {metric: p99, threshold: \"< 1s\", weight: .inf}\n", "objectives[0].weight"},
		{"- {metric: p99, threshold: \"< 1s\", weight: -1}\n", "objectives[0].weight"},
		// Score marks are scores 0..100 with warning at most pass.
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  pass: 150\n", "line 4: scoring.pass"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  pass: -1\n", "line 4: scoring.pass"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  pass: .nan\n", "line 4: scoring.pass"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  pass: 0\n", "line 4: scoring.pass"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  pass: 80\n  warning: 90\n", "line 5: scoring.warning"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring:\n  warning: -3\n", "line 4: scoring.warning"},
		{"objectives:\n  - {metric: p99, threshold: \"< 1s\"}\nscoring: {pass: many}\n", "line 3"},
	}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(p, []byte(c.doc), 0o644)
		_, err := LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want file name and %q", c.doc, err, c.want)
		}
	}
}

func FuzzLoadObjectives(f *testing.F) {
	f.Add([]byte("objectives:\n  - {metric: p99, threshold: \"< 200ms\"}\n"))
	f.Add([]byte("- {metric: block_rate, threshold: \"1%..10%\", phase: x}\n"))
	f.Add([]byte("- {metric: throughput, threshold: \">= 97%\", budget: \">=-5%\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := LoadFile(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) && !strings.HasPrefix(err.Error(), "loading SLO file") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// What loads is sane: finite non-negative limits, marks 0..100.
		sc := set.Scoring
		if !(sc.Pass > 0 && sc.Pass <= 100 && sc.Warning >= 0 && sc.Warning <= sc.Pass) {
			t.Fatalf("accepted score marks %+v", sc)
		}
		for i := range set.Objectives {
			o := &set.Objectives[i]
			for _, v := range []float64{o.value, o.lo, o.hi, o.Weight} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("objective %d accepted %g: %+v", i, v, o)
				}
			}
			if o.budget != nil && (math.IsNaN(o.budget.pct) || math.IsInf(o.budget.pct, 0)) {
				t.Fatalf("objective %d accepted budget %g", i, o.budget.pct)
			}
		}
		r := synthetic(uniform(10, 1, 2), 1, 1, 1)
		rep := Evaluate(r, set, Options{Baseline: r})
		switch rep.Verdict {
		case Pass, Fail, Inconclusive, Warning:
		default:
			t.Fatalf("verdict %q", rep.Verdict)
		}
		if rep.Score != nil && (*rep.Score < 0 || *rep.Score > 100 || (rep.FailingObjectives() > 0 && *rep.Score >= 100)) {
			t.Fatalf("score %g with %d failing objectives", *rep.Score, rep.FailingObjectives())
		}
	})
}

// A failing objective of weight 1 beside one of weight 2000 scores
// 100·2000/2001 = 99.95: it must not round up to 100 and pass. The score is
// floored to one decimal and judged as shown, and a pass on score with a
// failed objective says so.
func TestScoreNeverRoundsAcrossThePassMark(t *testing.T) {
	r := synthetic(uniform(1000, 1, 100), 0, 0, 100) // p50 ≈ 50.5, max 100
	set := parse(t, `objectives:
  - {metric: p50, threshold: "< 60ms", weight: 2000}
  - {metric: max, threshold: "< 10ms", weight: 1}
`)
	rep := Evaluate(r, set, Options{})
	if rep.Verdict != Fail || rep.Score == nil || *rep.Score != 99.9 {
		t.Fatalf("default scoring: verdict %s score %v, want fail 99.9", rep.Verdict, rep.Score)
	}
	var text strings.Builder
	results.WriteVerdict(&text, &rep)
	if !strings.Contains(text.String(), "VERDICT: FAIL (score 99.9") || strings.Contains(text.String(), "100.0") {
		t.Errorf("text:\n%s", text.String())
	}
	// With a pass mark of 90 the run passes on score, but not silently.
	set = parse(t, `objectives:
  - {metric: p50, threshold: "< 60ms", weight: 2000}
  - {metric: max, threshold: "< 10ms", weight: 1}
scoring: {pass: 90}
`)
	rep = Evaluate(r, set, Options{})
	if rep.Verdict != Pass || *rep.Score != 99.9 {
		t.Fatalf("pass mark 90: verdict %s score %v, want pass 99.9", rep.Verdict, *rep.Score)
	}
	text.Reset()
	results.WriteVerdict(&text, &rep)
	if !strings.Contains(text.String(), "VERDICT: PASS (score 99.9 ≥ 90) with 1 failing objective") {
		t.Errorf("pass with a failed objective must say so:\n%s", text.String())
	}
	// A score whose exact value is just under a mark with two decimals is
	// judged on the floored score: 99.95 < 99.96, shown 99.9, fails.
	set.Scoring = Scoring{Pass: 99.96, Warning: 99.96}
	if rep := Evaluate(r, set, Options{}); rep.Verdict != Fail {
		t.Errorf("pass mark 99.96: verdict %s, want fail", rep.Verdict)
	}
	// Weights so lopsided that the ratio rounds to exactly 1 in floating
	// point still do not reach 100 with a failed objective.
	set.Objectives[0].Weight, set.Objectives[1].Weight = 1e17, 1
	set.Scoring = Scoring{Pass: 100, Warning: 100}
	if rep := Evaluate(r, set, Options{}); rep.Verdict != Fail || *rep.Score >= 100 {
		t.Errorf("lopsided weights: verdict %s score %v, want fail below 100", rep.Verdict, *rep.Score)
	}
}

// A run in which every request failed has only the latencies of failures (a
// refused connection answers in microseconds): a latency objective over
// zero answers fails, and the unjudged error rate is reported.
func TestLatencyOverZeroAnswersFails(t *testing.T) {
	allFailed := synthetic(nil, 0, 600, 100)
	set := parse(t, "- {metric: p99, threshold: \"< 200ms\"}\n- {metric: p50, threshold: \"< 50ms\", weight: 5}\n")
	rep := Evaluate(allFailed, set, Options{})
	if rep.Verdict != Fail {
		t.Fatalf("all requests failed: verdict %s, want fail (%+v)", rep.Verdict, rep.Objectives)
	}
	for _, o := range rep.Objectives {
		if o.Verdict != Fail || !strings.Contains(o.Detail, "no successful responses: all 600 requests failed") {
			t.Errorf("objective %s: %s %q", o.Name, o.Verdict, o.Detail)
		}
	}
	if !strings.Contains(strings.Join(rep.Reasons, "\n"), "error rate 100.00% (600 of 600 requests failed)") {
		t.Errorf("the error rate is not reported: %v", rep.Reasons)
	}
	for _, b := range rep.ErrorBudget {
		if b.SLI == "latency" {
			t.Errorf("a latency budget over zero answers: %+v", b)
		}
	}
	// Even with too few requests for p99, zero answers is a failure, not
	// "need more samples".
	if rep := Evaluate(synthetic(nil, 0, 20, 100), set, Options{}); rep.Verdict != Fail {
		t.Errorf("20 failed requests: verdict %s, want fail", rep.Verdict)
	}
	// Blocked requests are answers (the guard doing its job): judged as usual.
	if rep := Evaluate(synthetic(nil, 600, 0, 100), set, Options{}); rep.Verdict != Pass {
		t.Errorf("all blocked: verdict %s, want pass (%+v)", rep.Verdict, rep.Objectives)
	}
	// An SLO that names the error rate reports it itself: no extra reason.
	withErr := parse(t, "- {metric: p99, threshold: \"< 200ms\"}\n- {metric: error_rate, threshold: \"< 1%\"}\n")
	if rep := Evaluate(allFailed, withErr, Options{}); strings.Contains(strings.Join(rep.Reasons, "\n"), "no objective checks") {
		t.Errorf("reason despite an error_rate objective: %v", rep.Reasons)
	}
}

// A saturated run that fails only because of the generator's lateness is
// inconclusive; one that fails on the target's own service latency fails.
func TestSaturatedRunFailsOnlyOnTheTargetsOwnFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(path, []byte("- {metric: p50, threshold: \"< 200ms\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		latency, service float64
		generatorErrors  int64
		want             string
	}{
		{"late generator, fast target", 900, 5, 0, Inconclusive},
		{"hung target", 1900, 1000, 0, Fail},
		{"fast everywhere", 5, 4, 0, Inconclusive}, // saturated: never a pass
		// Out of file descriptors the generator is broken: never judged.
		{"slow target, generator out of descriptors", 1900, 1000, 10, Inconclusive},
	} {
		r := &results.Result{Schema: results.Schema}
		r.Summary.Requests, r.Summary.SuccessCount, r.Summary.SuccessRate = 100, 100, 1
		r.Summary.LatencyMs.P50, r.Summary.ServiceLatencyMs.P50 = tc.latency, tc.service
		r.Summary.GeneratorErrors = tc.generatorErrors
		r.Generator.Saturated = true
		r.Generator.Reasons = []string{"all 8 workers were busy"}
		rep := Evaluate(r, set, Options{})
		if rep.Verdict != tc.want {
			t.Errorf("%s: verdict %s, want %s (%v)", tc.name, rep.Verdict, tc.want, rep.Reasons)
		}
	}
}

// An SLO file is one bounded, regular file with one YAML document.
func TestSLOFileBoundsAndOneDocument(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte("- {metric: p99, threshold: \"< 1s\"}\n---\n- {metric: p50, threshold: \"< 1ms\"}\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- {metric: p99, threshold: \"< 1s\"}\n---\n- [unclosed\n"), 0o644)
	trailing := filepath.Join(dir, "trailing.yaml")
	os.WriteFile(trailing, []byte("- {metric: p99, threshold: \"< 1s\"}\n---\n"), 0o644)
	for _, tc := range []struct{ path, want string }{
		{two, "line 2: a second YAML document"},
		{bad, "a second YAML document"},
		{"/dev/zero", "not a regular file"},
	} {
		if _, err := LoadFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
	if _, err := LoadFile(trailing); err != nil {
		t.Errorf("a trailing empty document is harmless: %v", err)
	}
}
