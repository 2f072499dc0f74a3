package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/results/resultstest"
	"github.com/slogate/slogate/slo/gate"
)

// reportFixture writes a small but complete result (two phases, an SLO
// verdict) built by resultstest (the real recorder).
func reportFixture(t *testing.T) (string, *results.Result) {
	t.Helper()
	r := resultstest.New(t,
		resultstest.Scenario("report-fixture"),
		resultstest.StartedAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		resultstest.Generator(results.Generator{}),
		resultstest.Phases(
			results.PhaseSpec{Name: "steady", Kind: "constant", Start: 0, Duration: 5 * time.Second, Planned: 250},
			results.PhaseSpec{Name: "burst", Kind: "constant", Start: 5 * time.Second, Duration: 5 * time.Second, Planned: 500},
		),
		resultstest.RateFunc(func(at time.Duration) float64 {
			if at < 5*time.Second {
				return 50
			}
			return 100
		}),
		resultstest.Shape(func(req resultstest.Request, s *results.Sample) {
			lat := time.Duration(5+req.Seq%7) * time.Millisecond
			s.Latency, s.ServiceLatency = lat, lat
		}),
	)
	r.SLO = &results.SLOReport{Verdict: "fail", Objectives: []results.ObjectiveResult{
		{Name: "p99", Objective: "p99 < 200ms", Scope: results.RunScope(), Value: r.Summary.LatencyMs.P99, Unit: "ms", Verdict: "pass"},
		{Name: "p50", Objective: "p50 < 1ms", Scope: results.RunScope(), Value: r.Summary.LatencyMs.P50, Unit: "ms", Verdict: "fail"},
	}}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := results.Write(path, r); err != nil {
		t.Fatal(err)
	}
	return path, r
}

func TestReportCommand(t *testing.T) {
	in, _ := reportFixture(t)
	dir := t.TempDir()

	code, stdout, stderr := runCLI(t, "report", in)
	if code != 0 || !strings.Contains(stdout, "scenario report-fixture") || !strings.Contains(stdout, "VERDICT: FAIL") {
		t.Errorf("report (text): exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A report renders a verdict; it does not gate on it: exit 0.
	code, stdout, _ = runCLI(t, "report", in, "--format", "markdown")
	if code != 0 || !strings.Contains(stdout, "| ❌ | p50 < 1ms | run |") {
		t.Errorf("report --format markdown: exit %d\n%s", code, stdout)
	}
	for _, tc := range []struct{ format, file, want string }{
		{"junit", "r.xml", `<testsuite name="slogate report-fixture" tests="2" failures="1"`},
		{"html", "r.html", `<svg class="chart"`},
		{"json", "r2.json", `"schema": "slogate.result/v1"`},
	} {
		out := filepath.Join(dir, tc.file)
		code, stdout, stderr := runCLI(t, "report", in, "--format", tc.format, "-o", out)
		if code != 0 || stdout != "" {
			t.Errorf("report --format %s -o: exit %d, stdout %q\n%s", tc.format, code, stdout, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(data), tc.want) {
			t.Errorf("%s: %v, lacks %q", tc.file, err, tc.want)
		}
	}

	bad := writeFile(t, dir, "bad.json", `{"schema": "other/v9"}`)
	for _, args := range [][]string{
		{"report", in, "--format", "pdf"},
		{"report", filepath.Join(dir, "missing.json")},
		{"report", bad},
		{"report", in, "-o", filepath.Join(dir, "no-such-dir", "r.html"), "--format", "html"},
		{"report"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d (want 2), stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no-such-dir")); err == nil {
		t.Error("a failed report created a directory")
	}
}

func TestWriteReportsAndStepSummary(t *testing.T) {
	_, r := reportFixture(t)
	dir := t.TempDir()
	summary := filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	specs := []string{"html=" + filepath.Join(dir, "r.html"), "junit=" + filepath.Join(dir, "r.xml"), "md=" + filepath.Join(dir, "r.md")}
	reports, err := parseReportSpecs(specs, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := gate.WriteReports(reports, os.Getenv(gate.StepSummaryEnv), r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"r.html", "r.xml", "r.md"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "r.xml"))
	var suites struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests != 2 {
		t.Errorf("junit report: %v %+v", err, suites)
	}
	got, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(got), "earlier step\n") || !strings.Contains(string(got), "## ❌ slogate: report-fixture — FAIL") {
		t.Errorf("step summary not appended:\n%s", got)
	}

	for _, spec := range []string{"pdf=" + filepath.Join(dir, "x"), "html", "html=", "html=" + filepath.Join(dir, "nope", "x.html"), "html=" + dir} {
		if _, err := parseReportSpecs([]string{spec}, false); err == nil {
			t.Errorf("--report %q accepted", spec)
		}
	}
	if _, err := parseReportSpecs([]string{"junit=" + filepath.Join(dir, "c.xml")}, true); err == nil {
		t.Error("--report junit accepted for a comparison")
	}
}
