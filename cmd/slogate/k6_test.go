package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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
// engines: p50 within 10 %, p95 within 50 % (the two runs are sequential
// on a shared machine: the tail is the machine's noise as much as the
// target's; the median is the calibration), block and error rates within
// 1 point.
// Like is compared with like: k6 times a request from its actual send, so
// its latency is vegeta's service latency; vegeta's latency from the
// intended send adds the send lateness (which a loaded machine makes
// milliseconds), so it is at least k6's.
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
	t.Logf("vegeta: n=%d p50 %.2f p95 %.2f (service p50 %.2f p95 %.2f) block %.4f error %.4f", v.Requests, v.LatencyMs.P50, v.LatencyMs.P95,
		v.ServiceLatencyMs.P50, v.ServiceLatencyMs.P95, v.BlockRate, v.ErrorRate)
	t.Logf("k6:     n=%d p50 %.2f p95 %.2f block %.4f error %.4f", k.Requests, k.LatencyMs.P50, k.LatencyMs.P95, k.BlockRate, k.ErrorRate)
	within := func(name string, a, b, rel float64) {
		if math.Abs(a-b) > rel*a {
			t.Errorf("%s: vegeta %.3f vs k6 %.3f (tolerance %.0f%%)", name, a, b, 100*rel)
		}
	}
	within("p50 ms (vegeta's service latency)", v.ServiceLatencyMs.P50, k.LatencyMs.P50, 0.10)
	within("p95 ms (vegeta's service latency)", v.ServiceLatencyMs.P95, k.LatencyMs.P95, 0.50)
	if v.LatencyMs.P50 < 0.95*k.LatencyMs.P50 {
		t.Errorf("vegeta's p50 from the intended send %.3f is below k6's from the actual send %.3f", v.LatencyMs.P50, k.LatencyMs.P50)
	}
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
	// The target's own 300 ms answers meet this objective, so only the
	// dropped iterations decide: inconclusive.
	slo := k6File(t, "slo.yaml", "- {metric: p50, threshold: \"< 2s\"}\n")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "k6", "--max-workers", "2", "--format", "json", "-q", "--slo", slo)
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
// writes the partial result. The target never errs and answers slowly
// enough that requests are in flight at the signal: the interrupted run's
// error rate is 0.
func TestK6Interrupt(t *testing.T) {
	srv := target(t, 150*time.Millisecond, 0)
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
	if res.Summary.ErrorCount != 0 {
		t.Errorf("%d errors %v in an interrupted run against a target that never errs", res.Summary.ErrorCount, res.Summary.Errors)
	}
}

// scriptTarget serves the k6 example-style scripts: /ok answers at once,
// /slow after 30 ms, /flaky answers 500 to every third request, POST /login
// 200 with a token.
func scriptTarget(t *testing.T) *httptest.Server {
	var flaky atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
		_, _ = w.Write([]byte("slow"))
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, _ *http.Request) {
		if flaky.Add(1)%3 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token":"t"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// k6Scripts are short scripts in the style of k6's examples/ (custom Rate
// metrics with thresholds, stages, batch, groups, tags, sub-metric
// thresholds), each with the verdict stock k6 gives it.
var k6Scripts = []struct {
	name string
	fail bool // stock k6 exits 99
	text string
}{
	{"custom-rate-fails", true, `
import http from 'k6/http';
import { Rate } from 'k6/metrics';
const failedRequests = new Rate('failed_requests');
export const options = {
  vus: 2, duration: '2s',
  thresholds: { failed_requests: ['rate<0.1'], http_req_duration: ['p(95)<2000'] },
};
export default function () {
  const res = http.get(__ENV.BASE_URL + '/flaky');
  failedRequests.add(res.status !== 200);
}
`},
	{"stages-pass", false, `
import http from 'k6/http';
import { check, sleep } from 'k6';
export const options = {
  stages: [ { duration: '1s', target: 3 }, { duration: '1s', target: 1 } ],
  thresholds: { http_req_duration: ['p(95)<2000', 'avg<1000'], http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] },
};
export default function () {
  const res = http.get(__ENV.BASE_URL + '/ok');
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.02);
}
`},
	{"batch-submetric-fails", true, `
import http from 'k6/http';
export const options = {
  scenarios: { batches: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 10, maxVUs: 20 } },
  thresholds: { 'http_req_duration{name:slow}': ['p(90)<10'], 'http_req_duration{name:ok}': ['p(90)<2000'] },
};
export default function () {
  http.batch([
    ['GET', __ENV.BASE_URL + '/ok', null, { tags: { name: 'ok' } }],
    ['GET', __ENV.BASE_URL + '/slow', null, { tags: { name: 'slow' } }],
  ]);
}
`},
	{"groups-tags-pass", false, `
import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Trend } from 'k6/metrics';
const logins = new Counter('logins');
const loginTime = new Trend('login_time', true);
export const options = {
  iterations: 30, vus: 3,
  thresholds: {
    'http_req_duration{group:::home}': ['p(99)<2000'],
    'http_reqs{my_tag:login}': ['count>=30'],
    logins: ['count>=30'],
    login_time: ['p(95)<2000'],
    checks: ['rate==1'],
  },
};
export default function () {
  group('home', function () { check(http.get(__ENV.BASE_URL + '/ok'), { 'home 200': (r) => r.status === 200 }); });
  group('login', function () {
    const res = http.post(__ENV.BASE_URL + '/login', JSON.stringify({ user: 'u' }), { tags: { my_tag: 'login' } });
    check(res, { 'token': (r) => r.json('token') === 't' });
    logins.add(1);
    loginTime.add(res.timings.duration);
  });
}
`},
}

// A script's own thresholds gate the run the same way in all three ways
// of running it: stock k6 (slogate k6 run: exit 99 on a failed
// threshold), slogate run --engine k6 --script (exit 1, the thresholds
// listed as objectives with k6's verdict and value) and --out slogate=
// gated by slogate check (exit 1; a failed threshold is not "partial").
func TestK6ScriptThresholdsGate(t *testing.T) {
	srv := scriptTarget(t)
	env := []string{"BASE_URL=" + srv.URL}
	for _, sc := range k6Scripts {
		t.Run(sc.name, func(t *testing.T) {
			script := k6File(t, sc.name+".js", sc.text)
			wantK6, wantSlogate := 0, 0
			if sc.fail {
				wantK6, wantSlogate = 99, ExitFail
			}
			_, stderr, code := runBin(t, env, "k6", "run", "--quiet", script)
			if code != wantK6 {
				t.Fatalf("stock k6: exit %d, want %d\n%s", code, wantK6, stderr)
			}

			out, stderr, code := runBin(t, env, "run", "--engine", "k6", "--script", script, "--format", "json", "-q", "--no-history")
			if code != wantSlogate {
				t.Fatalf("slogate run --script: exit %d, want %d\n%s\n%s", code, wantSlogate, out, stderr)
			}
			res := decodeResult(t, out)
			checkThresholdObjectives(t, res, sc.fail)

			file := filepath.Join(t.TempDir(), "r.json")
			_, stderr, code = runBin(t, env, "k6", "run", "--quiet", "--out", "slogate="+file, script)
			if code != wantK6 {
				t.Fatalf("k6 run --out slogate: exit %d, want %d\n%s", code, wantK6, stderr)
			}
			out, stderr, code = runBin(t, nil, "check", file, "--format", "json")
			if code != wantSlogate {
				t.Fatalf("slogate check of --out slogate: exit %d, want %d\n%s\n%s", code, wantSlogate, out, stderr)
			}
			stored, err := results.Read(file)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Partial {
				t.Errorf("--out slogate: a finished run is stored as partial")
			}
			if len(stored.ScriptThresholds) != len(res.ScriptThresholds) {
				t.Errorf("--out slogate recorded %d thresholds, --script %d", len(stored.ScriptThresholds), len(res.ScriptThresholds))
			}
		})
	}
}

// checkThresholdObjectives asserts that every threshold of the script is an
// objective "k6: ..." with a value, and that at least one failed iff fail.
func checkThresholdObjectives(t *testing.T, res *results.Result, fail bool) {
	t.Helper()
	if res.SLO == nil || len(res.ScriptThresholds) == 0 {
		t.Fatalf("no k6 thresholds in the result: slo %+v thresholds %+v", res.SLO, res.ScriptThresholds)
	}
	anyFailed := false
	n := 0
	for _, o := range res.SLO.Objectives {
		if !strings.HasPrefix(o.Name, "k6: ") {
			continue
		}
		n++
		if o.Verdict == "fail" {
			anyFailed = true
		}
		if o.Detail == "no samples of the metric" {
			t.Errorf("%s: no value", o.Name)
		}
	}
	if n != len(res.ScriptThresholds) || anyFailed != fail {
		t.Errorf("%d k6 objectives for %d thresholds, any failed %v (want %v): %+v", n, len(res.ScriptThresholds), anyFailed, fail, res.SLO.Objectives)
	}
	for _, th := range res.ScriptThresholds {
		if th.Metric == "failed_requests" && (th.Value == nil || math.Abs(*th.Value-1.0/3) > 0.05) {
			t.Errorf("failed_requests rate %v, want 1/3 ± 0.05", th.Value)
		}
	}
}

// abortOnFail stops the run at k6's next threshold evaluation (every 2 s)
// instead of its 30 s: exit 1, a failed (not partial, not inconclusive)
// result whose duration is what ran.
func TestK6AbortOnFailStopsTheRun(t *testing.T) {
	srv := scriptTarget(t)
	script := k6File(t, "abort.js", `
import http from 'k6/http';
export const options = {
  vus: 2, duration: '30s',
  thresholds: { http_req_duration: [{ threshold: 'p(99)<1', abortOnFail: true }] },
};
export default function () { http.get(__ENV.BASE_URL + '/slow'); }
`)
	start := time.Now()
	out, stderr, code := runBin(t, []string{"BASE_URL=" + srv.URL}, "run", "--engine", "k6", "--script", script, "--format", "json", "-q", "--no-history")
	if code != ExitFail {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitFail, out, stderr)
	}
	res := decodeResult(t, out)
	if took := time.Since(start); took > 25*time.Second || res.DurationS > 20 {
		t.Errorf("abortOnFail did not stop the run: %.1f s measured, %v wall", res.DurationS, took)
	}
	if res.Partial || res.SLO.Verdict != "fail" || len(res.ScriptThresholds) != 1 || !res.ScriptThresholds[0].AbortOnFail {
		t.Errorf("partial %v verdict %s thresholds %+v", res.Partial, res.SLO.Verdict, res.ScriptThresholds)
	}
}

// A one-iteration script: the result's duration is what ran (not k6's
// 10 m maxDuration), the planned requests are unknown (closed model), no
// vegeta worker cap is claimed, and the target is the script's URL.
func TestK6ScriptMetadata(t *testing.T) {
	srv := scriptTarget(t)
	script := k6File(t, "one.js", `
import http from 'k6/http';
export default function () { http.get(__ENV.BASE_URL + '/ok'); }
`)
	out, stderr, code := runBin(t, []string{"BASE_URL=" + srv.URL}, "run", "--engine", "k6", "--script", script, "--format", "json", "-q", "--no-history")
	if code != ExitInconclusive { // one request cannot judge the default percentiles
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	res := decodeResult(t, out)
	g := res.Generator
	if res.DurationS > 5 || res.Summary.Requests != 1 || g.PlannedReqs != 0 || g.MaxWorkers != 0 || g.Saturated ||
		res.Environment.Target != srv.URL || res.Summary.RequestRateRPS < 0.2 {
		t.Errorf("duration %.3f s, %d requests at %.3f/s, generator %+v, target %q", res.DurationS, res.Summary.Requests, res.Summary.RequestRateRPS, g, res.Environment.Target)
	}
	var text bytes.Buffer
	if err := results.WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"asked 0.0", "workers", "sent on schedule", "no-target.invalid"} {
		if strings.Contains(text.String(), bad) {
			t.Errorf("text report says %q:\n%s", bad, text.String())
		}
	}
}

// A vegeta and a k6 run of one target do not measure latency alike
// (intended send vs actual send): compare refuses them with exit 3 and
// says why, and --force compares them with that warning, never silently.
func TestCompareAcrossEnginesRefused(t *testing.T) {
	srv := target(t, 5*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 100, "2s")
	dir := t.TempDir()
	files := map[string]string{}
	for _, engine := range []string{"vegeta", "k6"} {
		files[engine] = filepath.Join(dir, engine+".json")
		out, stderr, code := runBin(t, nil, "run", scen, "--engine", engine, "--slo", k6File(t, "slo.yaml", "- {metric: p50, threshold: \"< 1s\"}\n"),
			"--out", files[engine], "-q", "--no-history", "--max-workers", "100")
		if code != 0 && code != ExitInconclusive { // a busy machine may drop an iteration: still a result to compare
			t.Fatalf("%s: exit %d\n%s\n%s", engine, code, out, stderr)
		}
	}
	out, stderr, code := runBin(t, nil, "compare", files["vegeta"], files["k6"], "--format", "json")
	if code != ExitInconclusive || !strings.Contains(stderr, `engine differs: "vegeta" vs "k6"`) || !strings.Contains(stderr, "intended send") {
		t.Fatalf("compare vegeta vs k6: exit %d, want %d with the engine named\n%s\n%s", code, ExitInconclusive, out, stderr)
	}
	out, stderr, code = runBin(t, nil, "compare", files["vegeta"], files["k6"], "--format", "json", "--force")
	if code != 0 || !strings.Contains(out, "compared with --force although engine differs") {
		t.Fatalf("compare --force: exit %d\n%s\n%s", code, out, stderr)
	}
}

// k6's help names the command the user typed: its examples work as shown.
// A k6 script given to `slogate run` as a scenario is refused with how to
// run it, not with a YAML error.
func TestK6HelpAndScriptHint(t *testing.T) {
	out, stderr, code := runBin(t, nil, "k6", "run", "--help")
	if code != 0 || !strings.Contains(out, "slogate k6 run -u 5 -i 10 script.js") || strings.Contains(out, "  slogate run ") {
		t.Errorf("slogate k6 run --help: exit %d\n%s\n%s", code, out, stderr)
	}
	link := filepath.Join(t.TempDir(), "k6")
	if err := os.Symlink(slogateBin, link); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(link, "run", "--help").Output()
	if err != nil || !strings.Contains(string(b), "\n  k6 run -u 5 -i 10 script.js") || strings.Contains(string(b), "slogate") {
		t.Errorf("k6 run --help via symlink: %v\n%s", err, b)
	}

	script := k6File(t, "script.js", "import http from 'k6/http';\nexport default function () {}\n")
	out, stderr, code = runBin(t, nil, "run", script)
	if code != ExitBadInput || !strings.Contains(stderr, "is a k6 script") || !strings.Contains(stderr, "slogate k6 run "+script) ||
		!strings.Contains(stderr, "--engine k6 --script "+script) || strings.Contains(stderr, "yaml") {
		t.Errorf("slogate run script.js: exit %d\n%s\n%s", code, out, stderr)
	}
}

// --insecure reaches a self-signed HTTPS target with the k6 engine too;
// --ca, which k6 cannot take, is refused rather than ignored.
func TestK6EngineTLSFlags(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	scen := scenarioFile(t, srv.URL, 20, "1s")
	slo := k6File(t, "slo.yaml", "- {metric: error_rate, threshold: \"< 1%\"}\n")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "k6", "--insecure", "--format", "json", "-q", "--slo", slo)
	if code != 0 && code != ExitInconclusive {
		t.Fatalf("--insecure: exit %d\n%s", code, stderr)
	}
	if res := decodeResult(t, out); res.Summary.ErrorCount != 0 || res.Summary.Requests == 0 {
		t.Errorf("--insecure: %d requests, errors %v", res.Summary.Requests, res.Summary.Errors)
	}
	out, _, code = runBin(t, nil, "run", scen, "--engine", "k6", "--format", "json", "-q", "--slo", slo)
	if res := decodeResult(t, out); code != 1 || res.Summary.ErrorRate != 1 {
		t.Errorf("without --insecure: exit %d, error rate %.2f; want 1 and every request failing", code, res.Summary.ErrorRate)
	}
	if _, stderr, code := runBin(t, nil, "run", scen, "--engine", "k6", "--ca", slo); code != 2 || !strings.Contains(stderr, "--ca") {
		t.Errorf("--ca with k6: exit %d, %q; want 2 naming --ca", code, stderr)
	}
}

// A script that marks the test failed (exec.test.fail(): stock k6 exits
// 110) or aborts it (exec.test.abort(): 108) fails the gate, naming why,
// instead of passing or being reported as bad input.
func TestK6ScriptMarkedFailedFailsTheGate(t *testing.T) {
	srv := scriptTarget(t)
	env := []string{"BASE_URL=" + srv.URL}
	for _, tc := range []struct{ call, want string }{
		{"exec.test.fail('checks say no')", "exec.test.fail()"},
		{"exec.test.abort('setup went wrong')", "exec.test.abort()"},
	} {
		script := k6File(t, "marked.js", `import http from 'k6/http';
import exec from 'k6/execution';
export const options = { vus: 1, iterations: 10 };
export default function () {
  http.get(__ENV.BASE_URL + '/ok');
  if (exec.scenario.iterationInTest === 5) { `+tc.call+`; }
}
`)
		out, stderr, code := runBin(t, env, "run", "--engine", "k6", "--script", script, "-q", "--no-history")
		if code != ExitFail || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q in the output\n%s\n%s", tc.call, code, ExitFail, tc.want, out, stderr)
		}
	}
}

// k6 puts on the wire what the in-process engines do: a scenario's Host
// header (a virtual host), the request's path under the target's path with
// both queries, basic authentication from user:password@, a body, the
// method.
func TestK6SendsWhatTheOtherEnginesSend(t *testing.T) {
	var mu sync.Mutex
	var seen map[string]int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pw, _ := r.BasicAuth()
		mu.Lock()
		seen[fmt.Sprintf("%s host=%s uri=%s auth=%s:%s body=%d", r.Method, r.Host, r.RequestURI, user, pw, len(b))]++
		mu.Unlock()
	}))
	defer srv.Close()
	target := strings.Replace(srv.URL, "http://", "http://loadtest:pw@", 1) + "/base?k=v"
	scen := writeFile(t, t.TempDir(), "wire.yaml", `name: wire
target: {url: "`+target+`"}
requests:
  - {name: vhost, path: "/x?y=1", headers: {Host: api.example.com}}
  - {name: post, method: POST, path: /p, body: "hello"}
phases:
  - {kind: constant, rate: 20, duration: 1s}
slo:
  - {metric: error_rate, threshold: "< 1%"}
`)
	var got []string
	for _, engine := range []string{"vegeta", "fast", "k6"} {
		mu.Lock()
		seen = map[string]int{}
		mu.Unlock()
		out, stderr, code := runBin(t, nil, "run", scen, "--engine", engine, "-q", "--no-history")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", engine, code, out, stderr)
		}
		mu.Lock()
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		mu.Unlock()
		sort.Strings(keys)
		got = append(got, strings.Join(keys, "\n"))
	}
	want := "GET host=api.example.com uri=/base/x?k=v&y=1 auth=loadtest:pw body=0\nPOST host=127.0.0.1" // the POST's host is the target's
	for i, engine := range []string{"vegeta", "fast", "k6"} {
		if !strings.HasPrefix(got[i], want) || got[i] != got[0] {
			t.Errorf("%s sent:\n%s\nwant (as vegeta):\n%s", engine, got[i], got[0])
		}
	}
}
