package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
)

// The CLI tests run real `slogate run`s, and every run is appended to the
// results history: keep that history out of the source tree (the child
// processes inherit the variable). Tests of the history set their own.
func init() {
	if dir, err := os.MkdirTemp("", "slogate-test-history-"); err == nil {
		os.Setenv(results.HistoryEnv, dir)
	}
}

// synthFile records a synthetic 20-second run (lognormal latencies around
// medianMs, 100 req/s) through resultstest and writes it; mutate may alter it.
func synthFile(t *testing.T, dir, name string, medianMs float64, seed uint64, mutate func(*results.Result)) string {
	t.Helper()
	r := resultstest.New(t,
		resultstest.StartedAt(time.Now().UTC()),
		resultstest.Environment(results.Environment{OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "CPU", ScenarioHash: "h1"}),
		resultstest.Phases(results.PhaseSpec{Name: "steady", Kind: "constant", Duration: 20 * time.Second}),
		resultstest.Endpoints("get"),
		resultstest.Lognormal(medianMs, 0.25),
		resultstest.Rand(rand.New(rand.NewPCG(seed, 99))),
	)
	if mutate != nil {
		mutate(r)
	}
	p := filepath.Join(dir, name)
	if err := results.Write(p, r); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	base := synthFile(t, dir, "base.json", 20, 1, nil)
	fast := synthFile(t, dir, "new.json", 10, 2, nil)
	other := synthFile(t, dir, "other.json", 10, 3, func(r *results.Result) { r.Scenario = "checkout" })
	otherCPU := synthFile(t, dir, "othercpu.json", 10, 4, func(r *results.Result) { r.Environment.CPUs = 32 })
	saturated := synthFile(t, dir, "sat.json", 10, 5, func(r *results.Result) {
		r.Generator.Saturated, r.Generator.Reasons = true, []string{"all workers busy"}
	})
	junk := writeFile(t, dir, "junk.json", "{not json")

	// JSON: the DESIGN.md field names, and the known 50 % improvement.
	code, stdout, stderr := runCLI(t, "compare", base, fast, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var raw struct {
		Schema  string           `json:"schema"`
		Method  string           `json:"method"`
		Metrics []map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("compare JSON: %v\n%s", err, stdout)
	}
	for _, key := range []string{"metric", "base", "new", "delta_pct", "improvement_pct", "ci_low_pct", "ci_high_pct", "significant", "verdict"} {
		if _, ok := raw.Metrics[0][key]; !ok {
			t.Errorf("metric row lacks %q: %v", key, raw.Metrics[0])
		}
	}
	var c results.Comparison
	json.Unmarshal([]byte(stdout), &c)
	p50 := c.Metrics[0]
	if p50.Metric != "p50" || p50.Scope.String() != "run" || math.Abs(p50.ImprovementPct-50) > 3 || !p50.Significant || p50.Verdict != "better" ||
		p50.CILowPct > -50 || p50.CIHighPct < -50 {
		t.Fatalf("p50 row %+v, want ~+50 %% improvement, CI containing −50 %%", p50)
	}

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // in stdout+stderr
		wantAbsent string
	}{
		{"text", []string{base, fast}, 0, "BETTER", ""},
		{"markdown", []string{base, fast, "--format", "markdown"}, 0, "p50", ""},
		{"different scenario refused", []string{base, other}, 3, `scenario differs: "synthetic" vs "checkout"`, "p50"},
		{"different scenario forced", []string{base, other, "--force"}, 0, "compared with --force although scenario differs", ""},
		{"different machine refused", []string{base, otherCPU}, 3, "CPU count differs", ""},
		{"saturated run is inconclusive", []string{base, saturated}, 3, "could not hold the asked rate", ""},
		{"saturated run forced", []string{base, saturated, "--force"}, 0, "could not hold the asked rate", ""},
		{"junk file", []string{base, junk}, 2, "not a JSON result", ""},
		{"missing file", []string{base, filepath.Join(dir, "nope.json")}, 2, "no such file", ""},
		{"one file", []string{base}, 2, "want BASE.json NEW.json", ""},
		{"bad alpha", []string{base, fast, "--alpha", "2"}, 2, "--alpha", ""},
		{"bad format", []string{base, fast, "--format", "pdf"}, 2, "--format", ""},
		{"vs without new", []string{base, "vs"}, 2, `"vs" needs result files on both sides`, ""},
		{"args and flags", []string{base, "--base", base, "--new", fast}, 2, "not both", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"compare"}, tt.args...)...)
			all := stdout + stderr
			if code != tt.wantCode || !strings.Contains(all, tt.wantOut) || (tt.wantAbsent != "" && strings.Contains(stdout, tt.wantAbsent)) {
				t.Fatalf("exit %d (want %d), want %q in:\n%s", code, tt.wantCode, tt.wantOut, all)
			}
		})
	}
}

func TestCompareCommandRepeatedRuns(t *testing.T) {
	dir := t.TempDir()
	var base, cur []string
	for i := 0; i < 4; i++ {
		base = append(base, synthFile(t, dir, fmt.Sprintf("b%d.json", i), 20, uint64(10+i), nil))
		cur = append(cur, synthFile(t, dir, fmt.Sprintf("n%d.json", i), 10, uint64(20+i), nil))
	}
	// 3 vs 3: the U test cannot reach 0.05: a warning instead of a verdict.
	args := append(append(append([]string{"compare"}, base[:3]...), "vs"), cur[:3]...)
	code, stdout, stderr := runCLI(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var c results.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "need >= 4 runs per side to detect a difference at alpha level 0.05") ||
		c.Metrics[0].Verdict != "inconclusive" || c.Base.Runs != 3 {
		t.Fatalf("3v3: warnings %v, p50 %+v", c.Warnings, c.Metrics[0])
	}
	// 4 vs 4 with --base/--new: separated samples, p = 2/70.
	args = []string{"compare", "--format", "json"}
	for i := range base {
		args = append(args, "--base", base[i], "--new", cur[i])
	}
	code, stdout, stderr = runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	c = results.Comparison{}
	json.Unmarshal([]byte(stdout), &c)
	p50 := c.Metrics[0]
	if p50.Verdict != "better" || p50.PValue == nil || math.Abs(*p50.PValue-0.0286) > 0.0001 || !strings.Contains(c.Method, "Mann-Whitney") {
		t.Fatalf("4v4: %+v (method %s)", p50, c.Method)
	}
}

func TestHistoryAndHistoryBaselines(t *testing.T) {
	srv := delayServer(2 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	hist := filepath.Join(dir, "hist")
	budget := writeFile(t, dir, "budget.yaml", `objectives:
  - {metric: p50, threshold: "< 1s", budget: "<=+1000%"}
`)
	// No history yet: last-pass finds nothing, says so, and the budget
	// objective still passes on its threshold.
	code, stdout, stderr := runCLI(t, "run", "--target", srv.URL, "--rate", "50", "--duration", "1s", "--slo", budget,
		"--history", hist, "--baseline", "last-pass", "-q")
	if code != 0 || !strings.Contains(stderr, "no passing run") || !strings.Contains(stdout, "stored in history: "+hist) {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "r.json")
	for i := 0; i < 2; i++ {
		code, stdout, stderr = runCLI(t, "run", "--target", srv.URL, "--rate", "50", "--duration", "1s", "--slo", budget,
			"--history", hist, "--baseline", "median-of:5", "--out", out, "-q")
		if code != 0 || !strings.Contains(stderr, "median-of:5 asked") || !strings.Contains(stdout, "vs baseline") {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+2, code, stdout, stderr)
		}
	}
	// A run with --no-history is not stored.
	if code, _, stderr = runCLI(t, "run", "--target", srv.URL, "--rate", "50", "--duration", "1s", "--history", hist, "--no-history", "--slo", budget, "-q"); code != 0 {
		t.Fatalf("no-history run: %d %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "history", "--history", hist)
	if code != 0 || strings.Count(stdout, "PASS") != 3 || !strings.Contains(stdout, "TIME (UTC)") || !strings.Contains(stdout, "adhoc") {
		t.Fatalf("history: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "history", "--history", hist, "--format", "json", "--scenario", "nosuch")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("history json for an unknown scenario: %d %q", code, stdout)
	}
	// check against last-pass picks the run before r.json, not r.json.
	code, stdout, stderr = runCLI(t, "check", out, "--slo", budget, "--history", hist, "--baseline", "last-pass")
	if code != 0 || !strings.Contains(stderr, "the last passing run") || !strings.Contains(stdout, "vs baseline") {
		t.Fatalf("check last-pass: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr = runCLI(t, "check", out, "--history", hist, "--baseline", "median-of:x"); code != 2 {
		t.Fatalf("bad median-of: exit %d %s", code, stderr)
	}
}

func TestRunRepeatAndAB(t *testing.T) {
	slow, fast := delayServer(20*time.Millisecond), delayServer(5*time.Millisecond)
	defer slow.Close()
	defer fast.Close()
	dir := t.TempDir()
	lenient := writeFile(t, dir, "slo.yaml", "- {metric: p50, threshold: \"< 1s\"}\n")
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", "--target", fast.URL, "--rate", "50", "--duration", "1s", "--repeat", "3", "--out", out, "--slo", lenient, "-q")
	if code != 0 {
		t.Fatalf("repeat: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var sum int64
	for i := 1; i <= 3; i++ {
		r, err := results.Read(filepath.Join(dir, fmt.Sprintf("r-%d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		sum += r.Summary.Requests
	}
	agg, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if agg.Summary.Requests != sum || sum != 150 || agg.SLO == nil || math.Abs(agg.Summary.RequestRateRPS-50) > 1 || len(agg.Intervals) < 3 {
		t.Fatalf("aggregate: %d requests (runs %d), rate %g, %d intervals", agg.Summary.Requests, sum, agg.Summary.RequestRateRPS, len(agg.Intervals))
	}
	if !strings.Contains(stdout, "run 3/3") || !strings.Contains(stdout, "aggregate of 3 runs") {
		t.Fatalf("repeat output:\n%s", stdout)
	}

	// A/B: two scenario files, interleaved base/new.
	mk := func(name, url string) string {
		return writeFile(t, dir, name, fmt.Sprintf(`name: ab
target: {url: %q}
requests: [{name: get}]
phases: [{kind: constant, rate: 50, duration: 1s}]
`, url))
	}
	baseScen, newScen := mk("base.yaml", slow.URL), mk("new.yaml", fast.URL)
	ab := filepath.Join(dir, "ab.json")
	code, stdout, stderr = runCLI(t, "run", newScen, "--compare-with", baseScen, "--repeat", "2", "--out", ab, "--slo", lenient, "-q")
	if code != 0 {
		t.Fatalf("A/B: exit %d\n%s\n%s", code, stdout, stderr)
	}
	order := []string{"run 1/4 base", "run 2/4 new", "run 3/4 base", "run 4/4 new", "Mann-Whitney", "need >= 4 runs per side"}
	last := -1
	for _, w := range order {
		i := strings.Index(stdout, w)
		if i < 0 || i < last {
			t.Fatalf("A/B output lacks %q in order:\n%s", w, stdout)
		}
		last = i
	}
	// The sides differ on purpose: said as what they are, not as forced.
	if !strings.Contains(stdout, "warning: A/B sides: scenario content (hash) differs") || strings.Contains(stdout, "--force") {
		t.Fatalf("A/B warnings:\n%s", stdout)
	}
	for _, f := range []string{"ab-base-1.json", "ab-new-2.json", "ab.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr = runCLI(t, "run", newScen, "--repeat", "0"); code != 2 {
		t.Fatalf("--repeat 0: exit %d %s", code, stderr)
	}
}
