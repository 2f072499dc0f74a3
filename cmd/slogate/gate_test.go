package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

// The gate as a shell sees it: a failing objective of weight 1 beside one of
// weight 2000 scores 99.95, which must not print as 100.0 and pass.
func TestCheckScoreNotRoundedIntoAPass(t *testing.T) {
	dir := t.TempDir()
	res := synthFile(t, dir, "r.json", 20, 1, nil) // p50 ≈ 20 ms, max well over 1 ms
	heavy := writeFile(t, dir, "heavy.yaml", `objectives:
  - {metric: p50, threshold: "< 100ms", weight: 2000}
  - {metric: max, threshold: "< 1ms", weight: 1}
`)
	code, stdout, stderr := runCLI(t, "check", res, "--slo", heavy)
	if code != ExitFail || !strings.Contains(stdout, "VERDICT: FAIL (score 99.9 < 100)") || strings.Contains(stdout, "100.0") {
		t.Errorf("exit %d, want 1 with score 99.9\n%s\n%s", code, stdout, stderr)
	}
	// With a pass mark of 90 it passes on score, and says what failed.
	marked := writeFile(t, dir, "marked.yaml", `objectives:
  - {metric: p50, threshold: "< 100ms", weight: 2000}
  - {metric: max, threshold: "< 1ms", weight: 1}
scoring: {pass: 90}
`)
	code, stdout, stderr = runCLI(t, "check", res, "--slo", marked)
	if code != ExitPass || !strings.Contains(stdout, "VERDICT: PASS (score 99.9 ≥ 90) with 1 failing objective") {
		t.Errorf("exit %d, want 0 worded with the failure\n%s\n%s", code, stdout, stderr)
	}
}

// A target that refuses every connection fails a latency-only SLO (exit 1),
// and the output reports the error rate the SLO does not name.
func TestRunAgainstRefusingPortFailsLatencyOnlySLO(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: every connection is refused
	dir := t.TempDir()
	sloFile := writeFile(t, dir, "p99.yaml", "- {metric: p99, threshold: \"< 200ms\"}\n")
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", "--target", "http://"+addr+"/", "--rate", "300", "--duration", "2s", // 600 requests: enough to judge p99
		"--slo", sloFile, "--out", out, "-q", "--no-history")
	if code != ExitFail {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"no successful responses: all", "error rate 100.00%", "no objective checks the error rate"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q\n%s", want, stdout)
		}
	}
	// check on the stored result agrees.
	if code, stdout, _ := runCLI(t, "check", out, "--slo", sloFile); code != ExitFail || !strings.Contains(stdout, "error rate 100.00%") {
		t.Errorf("check: exit %d\n%s", code, stdout)
	}
}

// A hand-edited result (negative counts, a rate that does not match its
// counts) is bad input for every command that reads one: exit 2 naming the
// file and the field.
func TestEditedResultIsBadInput(t *testing.T) {
	dir := t.TempDir()
	good := synthFile(t, dir, "good.json", 20, 1, nil)
	edited := synthFile(t, dir, "edited.json", 20, 2, func(r *results.Result) { r.Summary.Requests = -7 })
	for _, args := range [][]string{
		{"check", edited},
		{"report", edited, "--format", "html"},
		{"compare", good, edited},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitBadInput || !strings.Contains(stderr, "edited.json") || !strings.Contains(stderr, "summary.requests: -7 is negative") {
			t.Errorf("%v: exit %d, want 2 naming the file and field\n%s\n%s", args, code, stdout, stderr)
		}
	}
}

// One verdict everywhere: a comparison with a saturated run exits 3, and
// its HTML, Markdown, text and JSON say inconclusive, not "no significant
// change".
func TestInconclusiveComparisonOneVerdictEverywhere(t *testing.T) {
	dir := t.TempDir()
	base := synthFile(t, dir, "base.json", 20, 1, nil)
	saturated := synthFile(t, dir, "sat.json", 20, 5, func(r *results.Result) {
		r.Generator.Saturated, r.Generator.Reasons = true, []string{"all workers busy"}
	})
	html, md, js := filepath.Join(dir, "c.html"), filepath.Join(dir, "c.md"), filepath.Join(dir, "c.json")
	code, stdout, stderr := runCLI(t, "compare", base, saturated, "--report", "html="+html, "--report", "markdown="+md, "--report", "json="+js)
	if code != ExitInconclusive || !strings.Contains(stdout, "verdict: INCONCLUSIVE") {
		t.Fatalf("exit %d, want 3 and the verdict in the text\n%s\n%s", code, stdout, stderr)
	}
	for file, want := range map[string]string{
		html: `id="verdict">INCONCLUSIVE<`,
		md:   "**Verdict: ⚠️ INCONCLUSIVE**",
		js:   `"verdict": "inconclusive"`,
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), want) || strings.Contains(string(data), "NO SIGNIFICANT CHANGE") {
			t.Errorf("%s lacks %q or claims no significant change", filepath.Base(file), want)
		}
	}
	// --force accepts the run: exit 0 and a real verdict.
	if code, stdout, _ := runCLI(t, "compare", base, saturated, "--force"); code != ExitPass || strings.Contains(stdout, "verdict: INCONCLUSIVE") || !strings.Contains(stdout, "verdict: ") {
		t.Errorf("--force: exit %d\n%s", code, stdout)
	}
}
