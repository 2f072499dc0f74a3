package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
	k6engine "github.com/slogate/slogate/runner/k6"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// The end-to-end tests use slogateBin, the binary cli_test.go's TestMain
// builds once (the k6 engine re-executes the binary, so it cannot run
// inside a test binary).

// runBin runs the slogate binary and returns stdout, stderr and the exit code.
func runBin(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, slogateBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("slogate %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func k6File(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// target answers after delay; with blockEvery > 0 every blockEvery-th
// request gets 429 and every 50th (offset 7) a 500.
func target(t *testing.T, delay time.Duration, blockEvery int64) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k := n.Add(1)
		time.Sleep(delay)
		switch {
		case blockEvery > 0 && k%blockEvery == 0:
			w.WriteHeader(http.StatusTooManyRequests)
		case blockEvery > 0 && k%50 == 7:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func scenarioFile(t *testing.T, url string, rate float64, duration string) string {
	return k6File(t, "scenario.yaml", fmt.Sprintf(`
name: e2e
target: {url: %q, timeout: 2s}
requests:
  - {name: home, path: /, weight: 3}
  - {name: api, path: /api, weight: 1}
phases:
  - {name: warm, rate: 20, duration: 1s, warmup: true}
  - {name: main, rate: %g, duration: %s}
`, url, rate, duration))
}

func decodeResult(t *testing.T, stdout string) *results.Result {
	t.Helper()
	res, err := results.Decode([]byte(stdout))
	if err != nil {
		t.Fatalf("decoding the printed result: %v\n%s", err, stdout)
	}
	return res
}

func TestK6Version(t *testing.T) {
	out, _, code := runBin(t, nil, "k6", "version")
	if code != 0 || !strings.Contains(out, "k6/x/slogate [js]") || !strings.Contains(out, "slogate [output]") {
		t.Fatalf("slogate k6 version (exit %d):\n%s", code, out)
	}
	// Invoked as k6 (a symlink), the binary is k6.
	link := filepath.Join(t.TempDir(), "k6")
	if err := os.Symlink(slogateBin, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "version")
	b, err := cmd.Output()
	if err != nil || !strings.Contains(string(b), "v1.8.1") || !strings.Contains(string(b), "k6/x/slogate") {
		t.Fatalf("k6 version via symlink: %v\n%s", err, b)
	}
}

// The same loopback target (20 ms, 10 % 429, 2 % 500) measured by both
// engines: p50 and p95 within 10 %, block and error rates within 1 point.
func TestK6AgreesWithVegeta(t *testing.T) {
	srv := target(t, 20*time.Millisecond, 10)
	scen := scenarioFile(t, srv.URL, 200, "5s")
	slo := k6File(t, "slo.yaml", "- {metric: p50, threshold: \"< 1s\"}\n")
	var got [2]*results.Result
	for i, engine := range []string{"vegeta", "k6"} {
		out, stderr, code := runBin(t, nil, "run", scen, "--engine", engine, "--slo", slo, "--format", "json", "-q")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", engine, code, out, stderr)
		}
		got[i] = decodeResult(t, out)
	}
	v, k := got[0].Summary, got[1].Summary
	t.Logf("vegeta: n=%d p50 %.2f p95 %.2f block %.4f error %.4f", v.Requests, v.LatencyMs.P50, v.LatencyMs.P95, v.BlockRate, v.ErrorRate)
	t.Logf("k6:     n=%d p50 %.2f p95 %.2f block %.4f error %.4f", k.Requests, k.LatencyMs.P50, k.LatencyMs.P95, k.BlockRate, k.ErrorRate)
	within := func(name string, a, b, rel float64) {
		if math.Abs(a-b) > rel*a {
			t.Errorf("%s: vegeta %.3f vs k6 %.3f (tolerance %.0f%%)", name, a, b, 100*rel)
		}
	}
	within("p50 ms", v.LatencyMs.P50, k.LatencyMs.P50, 0.10)
	within("p95 ms", v.LatencyMs.P95, k.LatencyMs.P95, 0.10)
	if math.Abs(v.BlockRate-k.BlockRate) > 0.01 || math.Abs(v.ErrorRate-k.ErrorRate) > 0.01 {
		t.Errorf("block rate %.4f vs %.4f, error rate %.4f vs %.4f (tolerance 1 point)", v.BlockRate, k.BlockRate, v.ErrorRate, k.ErrorRate)
	}
	if k.Requests < 990 || got[1].Engine != "k6" || got[1].Phase("warm") == nil || got[1].Endpoint("api") == nil {
		t.Errorf("k6 result: %d requests, engine %q, phases %d, endpoints %d", k.Requests, got[1].Engine, len(got[1].Phases), len(got[1].Endpoints))
	}
}

// A generated script (every phase kind) passes k6 inspect.
func TestK6GeneratedScriptInspects(t *testing.T) {
	s, err := scenarios.Parse("shapes.yaml", "", []byte(`
name: shapes
target: {url: "http://127.0.0.1:9"}
clients: {count: 10}
requests: [{name: a, weight: 2}, {name: b, method: POST, generate: {min: 1, max: 3}}]
phases:
  - {name: warm, rate: 5.5, duration: 2s, warmup: true}
  - {name: r, kind: ramp, from: 10, to: 30, duration: 10s}
  - {name: st, kind: step, from: 10, to: 40, steps: 4, duration: 8s}
  - {name: sn, kind: sine, rate: 20, amplitude: 10, period: 4s, duration: 10s}
  - {name: b, kind: burst, rate: 5, burst_rate: 50, burst_every: 3s, burst_duration: 1s, duration: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	mix, err := plan.NewMix(s, "http://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	job := plan.Job{Scenario: s, Schedule: plan.NewSchedule(s), Mix: mix, BaseURL: "http://127.0.0.1:9", MaxWorkers: 32, Drain: time.Second}
	dir := t.TempDir()
	scen := filepath.Join(dir, "scenario.yaml")
	if err := k6engine.WriteScenario(scen, s, job.BaseURL); err != nil {
		t.Fatal(err)
	}
	text, err := k6engine.Script(job)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.js")
	if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runBin(t, []string{"SLOGATE_SCENARIO=" + scen}, "k6", "inspect", "--execution-requirements", script)
	if code != 0 {
		t.Fatalf("k6 inspect: exit %d\n%s\n%s", code, out, stderr)
	}
	var inspected struct {
		Scenarios map[string]struct {
			Executor string `json:"executor"`
		} `json:"scenarios"`
		TotalDuration string `json:"totalDuration"`
	}
	if err := json.Unmarshal([]byte(out), &inspected); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, out)
	}
	if len(inspected.Scenarios) != 5 || inspected.Scenarios["warm"].Executor != "constant-arrival-rate" ||
		inspected.Scenarios["sn"].Executor != "ramping-arrival-rate" {
		t.Errorf("inspected scenarios: %+v", inspected.Scenarios)
	}
}

// A user's own script importing k6/x/slogate, run with --script and --slo
// and no scenario: its k6 scenario is the phase, the mix's request names
// are the endpoints.
func TestK6UserScript(t *testing.T) {
	srv := target(t, 2*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 100, "3s")
	script := k6File(t, "user.js", `
import http from 'k6/http';
import { check } from 'k6';
import slogate from 'k6/x/slogate';

const s = slogate.scenario(__ENV.SCENARIO_FILE);

export const options = {
  scenarios: { users: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 10, maxVUs: 50 } },
};

export default function () {
  const r = s.request();
  const res = http.request(r.method, r.url, r.body, r.params);
  check(res, { ok: (x) => x.status === 200 });
  if (r.seq === 0 && slogate.corpus.pick(0, 2, 2).length !== 2) { throw new Error('corpus'); }
}
`)
	slo := k6File(t, "slo.yaml", "- {metric: p50, threshold: \"< 1s\"}\n- {metric: error_rate, threshold: \"< 1%\"}\n")
	out, stderr, code := runBin(t, []string{"SCENARIO_FILE=" + scen}, "run", "--engine", "k6", "--script", script, "--slo", slo, "--format", "json", "-q")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	res := decodeResult(t, out)
	if res.Summary.Requests < 590 || res.Phase("users") == nil || res.Summary.ErrorRate != 0 {
		t.Fatalf("requests %d phases %+v error rate %g", res.Summary.Requests, res.Phases, res.Summary.ErrorRate)
	}
	home, api := res.Endpoint("home"), res.Endpoint("api")
	if home == nil || api == nil || home.Requests < 2*api.Requests {
		t.Errorf("endpoints (weights 3:1): %+v", res.Endpoints)
	}
	if res.SLO == nil || res.SLO.Verdict != "pass" {
		t.Errorf("slo %+v", res.SLO)
	}
}

// k6 dropping iterations (2 VUs against a 300 ms target at 50 req/s) makes
// the run inconclusive: exit 3.
func TestK6DroppedIterationsInconclusive(t *testing.T) {
	srv := target(t, 300*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 50, "2s")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "k6", "--max-workers", "2", "--format", "json", "-q")
	if code != ExitInconclusive {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitInconclusive, out, stderr)
	}
	res := decodeResult(t, out)
	if res.Generator.DroppedIterations == 0 || !res.Generator.Saturated {
		t.Errorf("generator %+v", res.Generator)
	}
}

// An objective the k6 run breaks gives exit 1, as with vegeta.
func TestK6SLOFailure(t *testing.T) {
	srv := target(t, 20*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 50, "2s")
	slo := k6File(t, "slo.yaml", "- {metric: p50, threshold: \"< 5ms\"}\n")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "k6", "--max-workers", "100", "--slo", slo, "-q")
	if code != ExitFail {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitFail, out, stderr)
	}
}

// Ctrl-C: the engine forwards one SIGINT to k6, which stops and still
// writes the partial result.
func TestK6Interrupt(t *testing.T) {
	srv := target(t, time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 50, "30s")
	outFile := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(slogateBin, "run", scen, "--engine", "k6", "--out", outFile, "-q")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no exit 20 s after SIGINT\n%s", stderr.String())
	}
	res, err := results.Read(outFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !res.Partial || res.Summary.Requests < 50 || res.DurationS > 10 {
		t.Errorf("partial %v, %d requests, %.1f s", res.Partial, res.Summary.Requests, res.DurationS)
	}
}
