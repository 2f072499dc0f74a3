package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// --engine fast runs a scenario end to end and says in the result which
// HTTP client it used.
func TestFastEngine(t *testing.T) {
	srv := target(t, 2*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 100, "1s")
	file := filepath.Join(t.TempDir(), "fast.json")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "fast", "--out", file, "-q", "--no-history")
	if code != 0 && code != ExitInconclusive { // the default objectives need more requests for p99
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := results.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != "fast" || res.Generator.Transport != "fasthttp" || res.Summary.Requests != 100 || res.Generator.Saturated {
		t.Errorf("engine %q transport %q requests %d generator %+v, want fast, fasthttp, 100, not saturated",
			res.Engine, res.Generator.Transport, res.Summary.Requests, res.Generator)
	}

}

// A vegeta-engine run the generator could not keep up with ends with one
// line suggesting --engine fast; the same run with --engine fast, and a run
// that held its rate, print no such line.
func TestSaturatedRunHintsFastEngine(t *testing.T) {
	srv := delayServer(50 * time.Millisecond)
	defer srv.Close()
	dir := t.TempDir()
	sc := writeFile(t, dir, "sat.yaml", `target: {url: "`+srv.URL+`"}
requests: [{name: get}]
generator: {drain: 200ms}
phases: [{kind: constant, rate: 200, duration: 1s}]
slo: [{metric: p50, threshold: "< 500ms"}]
`)
	const hint = "--engine fast holds higher rates"
	code, stdout, stderr := runCLI(t, "run", sc, "--max-workers", "1", "--no-history", "-q")
	if code != ExitInconclusive {
		t.Fatalf("exit %d, want 3 (inconclusive)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "the vegeta engine could not hold 200 req/s; "+hint) {
		t.Errorf("no --engine fast hint on stderr:\n%s", stderr)
	}
	code, stdout, stderr = runCLI(t, "run", sc, "--max-workers", "1", "--engine", "fast", "--no-history", "-q")
	if code != ExitInconclusive || strings.Contains(stderr, hint) {
		t.Errorf("--engine fast: exit %d (want 3), stderr must not hint at itself:\n%s\n%s", code, stdout, stderr)
	}
	fine := writeFile(t, dir, "fine.yaml", `target: {url: "`+srv.URL+`"}
requests: [{name: get}]
phases: [{kind: constant, rate: 20, duration: 1s}]
slo: [{metric: p50, threshold: "< 500ms"}]
`)
	code, stdout, stderr = runCLI(t, "run", fine, "--no-history", "-q")
	if code != 0 || strings.Contains(stderr, hint) {
		t.Errorf("passing run: exit %d (want 0), no hint expected:\n%s\n%s", code, stdout, stderr)
	}
}

// The hint is for falling behind, not for running out of the generator's
// own resources (file descriptors, ports).
func TestFastEngineHintOnlyForFallingBehind(t *testing.T) {
	res := &results.Result{Generator: results.Generator{Saturated: true, AchievedRatio: 0.5}}
	if fastEngineHint("vegeta", res, 30000) != "slogate: the vegeta engine could not hold 30000 req/s; --engine fast holds higher rates" {
		t.Errorf("achieved ratio 0.5: hint %q", fastEngineHint("vegeta", res, 30000))
	}
	res.Generator = results.Generator{Saturated: true, AchievedRatio: 1, PinnedFraction: 0.3}
	if fastEngineHint("vegeta", res, 30000) == "" {
		t.Error("pinned run: no hint")
	}
	res.Generator = results.Generator{Saturated: true, AchievedRatio: 1, Reasons: []string{"the generator ran out of its own resources"}}
	if h := fastEngineHint("vegeta", res, 30000); h != "" {
		t.Errorf("generator faults: hint %q, want none", h)
	}
	res.Generator = results.Generator{Saturated: true, AchievedRatio: 0.5}
	if h := fastEngineHint("k6", res, 30000); h != "" {
		t.Errorf("k6 engine: hint %q, want none", h)
	}
}

// The engines send through the proxy of the environment (HTTP_PROXY, as
// curl, vegeta and k6 do) or of --proxy, and the result names it. The
// target's name is one that never resolves (.invalid): only the loopback
// proxy, which answers itself, can have answered. --proxy that is not a
// proxy address, or with k6 (which reads the environment itself), is bad
// input.
func TestProxyFromTheEnvironmentAndTheFlag(t *testing.T) {
	var seen, hits atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !r.URL.IsAbs() || r.URL.Host != "slogate-proxy-test.invalid" {
			http.Error(w, "not a proxy request for the test's host", http.StatusBadRequest)
			return
		}
		seen.Add(1)
	}))
	defer proxy.Close()
	env := []string{"HTTP_PROXY=" + proxy.URL, "http_proxy=" + proxy.URL, "NO_PROXY=none.invalid", "no_proxy=none.invalid"}
	for _, engine := range []string{"vegeta", "fast", "k6"} {
		t.Run(engine, func(t *testing.T) {
			seen.Store(0)
			file := filepath.Join(t.TempDir(), "r.json")
			out, stderr, code := runBin(t, env, "run", "--target", "http://slogate-proxy-test.invalid/", "--rate", "20", "--duration", "1s",
				"--engine", engine, "--out", file, "-q", "--no-history")
			if code != 0 && code != ExitInconclusive {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			res := readResult(t, file)
			// k6's constant-arrival-rate may start one more iteration at the end.
			if n := res.Summary.Requests; n < 20 || n > 21 || res.Summary.SuccessCount != n || seen.Load() != n {
				t.Errorf("requests %d, success %d, the proxy answered %d: want 20 (k6: 20 or 21), all through the proxy (%v)",
					n, res.Summary.SuccessCount, seen.Load(), res.Summary.Errors)
			}
			if engine != "k6" && res.Generator.Proxy != proxy.URL {
				t.Errorf("generator proxy %q, want %q", res.Generator.Proxy, proxy.URL)
			}
		})
	}
	t.Run("flag", func(t *testing.T) {
		seen.Store(0)
		file := filepath.Join(t.TempDir(), "r.json")
		out, stderr, code := runBin(t, []string{"HTTP_PROXY=", "http_proxy="}, "run", "--target", "http://slogate-proxy-test.invalid/", "--rate", "20", "--duration", "1s",
			"--engine", "fast", "--proxy", strings.TrimPrefix(proxy.URL, "http://"), "--out", file, "-q", "--no-history")
		if code != 0 && code != ExitInconclusive {
			t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
		}
		if res := readResult(t, file); res.Summary.SuccessCount != 20 || seen.Load() != 20 || res.Generator.Transport != "net/http" {
			t.Errorf("success %d, the proxy answered %d, transport %q: want 20, 20, net/http", res.Summary.SuccessCount, seen.Load(), res.Generator.Transport)
		}
	})
	before := hits.Load()
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--proxy", "ftp://127.0.0.1:21"}, "want http://, https:// or socks5://HOST:PORT"},
		{[]string{"--proxy", "http://127.0.0.1:3128/some/path"}, "want a proxy address"},
		{[]string{"--proxy", proxy.URL, "--engine", "k6"}, "k6 reads HTTP_PROXY and HTTPS_PROXY from the environment"},
	} {
		out, stderr, code := runBin(t, nil, append([]string{"run", "--target", proxy.URL, "--rate", "5", "--duration", "1s", "-q", "--no-history"}, bad.args...)...)
		if code != ExitBadInput || !strings.Contains(stderr, bad.want) || hits.Load() != before {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q, nothing sent\n%s", bad.args, code, stderr, bad.want, out)
		}
	}
}
