package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

var slogateBin string

// TestMain builds the slogate binary once for the tests that need a real
// process (signals, exit codes as a shell sees them).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slogate-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	slogateBin = filepath.Join(dir, "slogate")
	build := exec.Command("go", "build", "-o", slogateBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building slogate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(slogateBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func delayServer(d time.Duration) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(d)
	}))
}

func TestAdhocRunPassesAndCheckFails(t *testing.T) {
	srv := delayServer(5 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", "--target", srv.URL+"/", "--rate", "100", "--duration", "5s", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "VERDICT: PASS") {
		t.Errorf("no pass verdict in output:\n%s", stdout)
	}
	r, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Requests != 500 || r.SLO == nil || r.SLO.Verdict != "pass" {
		t.Errorf("result: requests %d, slo %+v", r.Summary.Requests, r.SLO)
	}
	// The same result against a stricter SLO file fails: exit 1.
	strict := writeFile(t, dir, "strict.yaml", "objectives:\n  - {metric: p50, threshold: \"< 1ms\"}\n")
	code, stdout, _ = runCLI(t, "check", out, "--slo", strict)
	if code != 1 {
		t.Errorf("check exit %d, want 1\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "FAIL") {
		t.Errorf("no FAIL in check output:\n%s", stdout)
	}
	lenient := writeFile(t, dir, "lenient.yaml", "- {metric: p50, threshold: \"< 1s\"}\n- {metric: throughput, threshold: \">= 90%\"}\n")
	if code, stdout, _ = runCLI(t, "check", out, "--slo", lenient); code != 0 {
		t.Errorf("check exit %d, want 0\n%s", code, stdout)
	}
}

func TestRunFailingGateExitsOne(t *testing.T) {
	srv := delayServer(30 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	slo := writeFile(t, dir, "slo.yaml", "objectives:\n  - {metric: p95, threshold: \"< 10ms\"}\n")
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", "--target", srv.URL, "--rate", "50", "--duration", "2s", "--slo", slo, "--quiet", "--no-history", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	// check without --slo judges the result by the objectives the run was
	// judged by (kept in the result), not by the looser defaults, which
	// this run passes (p95 30 ms < 100 ms).
	code, stdout, stderr = runCLI(t, "check", out)
	if code != 1 || !strings.Contains(stdout, "p95 < 10ms") {
		t.Errorf("check without --slo: exit %d, want 1 on the run's own p95 < 10ms\n%s\n%s", code, stdout, stderr)
	}
	// --slo still decides.
	lenient := writeFile(t, dir, "lenient.yaml", "- {metric: p95, threshold: \"< 1s\"}\n")
	if code, stdout, _ = runCLI(t, "check", out, "--slo", lenient); code != 0 {
		t.Errorf("check --slo lenient: exit %d, want 0\n%s", code, stdout)
	}
	// Results judged by different objectives are not merged under either.
	other := filepath.Join(dir, "other.json")
	if code, stdout, stderr = runCLI(t, "run", "--target", srv.URL, "--rate", "50", "--duration", "1s", "--quiet", "--no-history", "--out", other); code == 2 {
		t.Fatalf("run: exit 2\n%s\n%s", stdout, stderr)
	}
	code, _, stderr = runCLI(t, "merge", out, other, "--out", filepath.Join(dir, "m.json"))
	if code != 2 || !strings.Contains(stderr, "different objectives") {
		t.Errorf("merge of results judged by different objectives: exit %d, want 2 naming it\n%s", code, stderr)
	}
}

func TestSaturatedRunIsInconclusive(t *testing.T) {
	srv := delayServer(50 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	sc := writeFile(t, dir, "sat.yaml", fmt.Sprintf(`target: {url: %q}
requests: [{name: get}]
generator: {max_workers: 2, drain: 200ms}
phases: [{kind: constant, rate: 200, duration: 2s}]
slo: [{metric: p50, threshold: "< 500ms"}]
`, srv.URL))
	// The target's own answers (50 ms) meet the objective; only the
	// generator's backlog breaks it: that is inconclusive. (A target that
	// fails on its own figures fails: TestHungOrTricklingTargetFails.)
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "run", sc, "--out", out)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (inconclusive)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "INCONCLUSIVE") || !strings.Contains(stdout, "could not hold") {
		t.Errorf("output does not explain the inconclusive verdict:\n%s", stdout)
	}
}

func TestBadInputExitsTwoAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	cases := []struct {
		name, file, content string
		args                []string
		want                []string // substrings of stderr
	}{
		{
			name: "negative rate", file: "bad.yaml",
			content: "target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases:\n  - name: p\n    kind: constant\n    rate: -5\n    duration: 1s\n",
			want:    []string{"bad.yaml", "line 6", "phases[0].rate"},
		},
		{
			name: "unknown field", file: "typo.yaml",
			content: "target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases:\n  - {kind: constant, rate: 5, duration: 1s, rtae: 3}\n",
			want:    []string{"typo.yaml", "line 4", "rtae"},
		},
		{
			name: "bad duration", file: "dur.yaml",
			content: "target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases:\n  - {kind: constant, rate: 5, duration: soon}\n",
			want:    []string{"dur.yaml", "line 4", "not a duration"},
		},
		{
			name: "unknown phase kind", file: "kind.yaml",
			content: "target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases:\n  - {kind: zigzag, rate: 5, duration: 1s}\n",
			want:    []string{"kind.yaml", "line 4", "phases[0].kind", "zigzag"},
		},
		{
			name: "bad slo threshold", file: "slo.yaml",
			content: "objectives:\n  - {metric: p99, threshold: \"< 200ms\"}\n  - {metric: p95, threshold: \"fast\"}\n",
			args:    []string{"run", "--target", "http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--slo", "SLOFILE", "--out", out},
			want:    []string{"slo.yaml", "line 3", "objectives[1].threshold"},
		},
		{
			name: "unknown slo metric", file: "slo2.yaml",
			content: "objectives:\n  - {metric: p42, threshold: \"< 200ms\"}\n",
			args:    []string{"run", "--target", "http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--slo", "SLOFILE", "--out", out},
			want:    []string{"slo2.yaml", "line 2", "objectives[0].metric", "p42"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.file, tc.content)
			args := tc.args
			if args == nil {
				args = []string{"run", p, "--out", out}
			}
			for i, a := range args {
				if a == "SLOFILE" {
					args[i] = p
				}
			}
			code, _, stderr := runCLI(t, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("result file written for bad input")
			}
		})
	}
	// Reading a result of another schema version.
	other := writeFile(t, dir, "old.json", `{"schema": "slogate.result/v0", "summary": {}}`)
	code, _, stderr := runCLI(t, "check", other)
	if code != 2 || !strings.Contains(stderr, "slogate.result/v0") {
		t.Errorf("check of another schema: exit %d, stderr %q", code, stderr)
	}
}

// SIGINT ends a run on either in-process engine with a partial result
// and exit 3.
func TestInterruptWritesPartialResult(t *testing.T) {
	for _, engine := range []string{"vegeta", "fast"} {
		t.Run(engine, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				time.Sleep(time.Millisecond)
			}))
			defer srv.Close()
			out := filepath.Join(t.TempDir(), "partial.json")
			cmd := exec.Command(slogateBin, "run", "--target", srv.URL, "--rate", "100", "--duration", "60s", "--out", out, "--engine", engine)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the load to be under way (bounded), not for a fixed time.
			for deadline := time.Now().Add(30 * time.Second); hits.Load() < 150 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			signalAndWait(t, cmd, syscall.SIGINT)
			if code := cmd.ProcessState.ExitCode(); code != 3 {
				t.Errorf("exit %d after SIGINT, want 3 (inconclusive: partial)", code)
			}
			r, err := results.Read(out)
			if err != nil {
				t.Fatalf("partial result does not parse: %v", err)
			}
			if !r.Partial {
				t.Error("result not marked partial")
			}
			if r.Summary.Requests < 50 {
				t.Errorf("partial result has %d requests, want the ~200 sent before SIGINT", r.Summary.Requests)
			}
		})
	}
}

// signalAndWait sends sig to a started slogate and waits (at most 20 s)
// for it to exit.
func signalAndWait(t *testing.T, cmd *exec.Cmd, sig os.Signal) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("slogate did not stop within 20 s of %v", sig)
	}
}

func TestScenariosListsBuiltins(t *testing.T) {
	code, stdout, _ := runCLI(t, "scenarios")
	if code != 0 || !strings.Contains(stdout, "echo-smoke") {
		t.Fatalf("exit %d, output:\n%s", code, stdout)
	}
	if strings.Contains(stdout, "INVALID") {
		t.Errorf("a built-in scenario does not load:\n%s", stdout)
	}
}
