package fast_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/guardstub/ioc"
	"github.com/slogate/slogate/runner"
	"github.com/slogate/slogate/runner/fast"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// scenarioFor builds a scenario against url: target fields, then the rest
// of the document (requests, phases, generator).
func scenarioFor(t *testing.T, target, rest string) *scenarios.Scenario {
	t.Helper()
	doc := fmt.Sprintf("name: test\ntarget: {%s}\n%s", target, rest)
	if !strings.Contains(rest, "requests:") {
		doc += "requests:\n  - {name: get, path: /}\n"
	}
	s, err := scenarios.Parse("test.yaml", "", []byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func opts() runner.Options {
	return runner.Options{Engine: "fast", Engines: runner.Engines{"fast": fast.Run}}
}

// A mix of a POST with headers and a body, a GET without, and simulated
// clients reaches the target exactly as the mix builds each request, on
// fasthttp: a worker reuses its prepared request per entry, and nothing of
// one request (body, identity, header) leaks into the next.
func TestRequestsAsTheMixBuildsThem(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	line := func(method, path, team, body, client string) string {
		return method + " " + path + " team=" + team + " body=" + body + " client=" + client
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[line(r.Method, r.URL.Path, r.Header.Get("X-Team"), string(b), r.Header.Get("X-Forwarded-For"))]++
		mu.Unlock()
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	s := scenarioFor(t, fmt.Sprintf("url: %q", srv.URL), `clients: {count: 10}
generator: {max_workers: 2}
requests:
  - {name: post, method: POST, path: /p, headers: {X-Team: a}, body: '{"x":1}'}
  - {name: get, path: /g}
phases:
  - {kind: constant, rate: 200, duration: 500ms}
`)
	mix, err := plan.NewMix(s, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	var bytesOut int64
	for seq := int64(0); seq < 100; seq++ {
		e := mix.Endpoint(seq)
		_, client := mix.Identity(seq, e)
		body := mix.Body(seq, e)
		bytesOut += int64(len(body))
		want[line(mix.Method(e), strings.TrimPrefix(mix.URL(e), srv.URL), mix.Header(e).Get("X-Team"), string(body), client)]++
	}
	res, err := runner.Run(context.Background(), s, opts())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if res.Engine != "fast" || res.Generator.Transport != "fasthttp" {
		t.Errorf("engine %q transport %q, want fast on fasthttp", res.Engine, res.Generator.Transport)
	}
	if res.Summary.Requests != 100 || len(want) < 4 {
		t.Fatalf("result %d requests, %d distinct expected, want 100 and several", res.Summary.Requests, len(want))
	}
	for k, n := range want {
		if seen[k] != n {
			t.Errorf("%q: target saw %d, the mix built %d", k, seen[k], n)
		}
	}
	for k, n := range seen {
		if want[k] == 0 {
			t.Errorf("%q: target saw %d the mix never built", k, n)
		}
	}
	if res.Summary.BytesIn != 500 || res.Summary.BytesOut != bytesOut {
		t.Errorf("bytes in %d out %d, want 500 and %d", res.Summary.BytesIn, res.Summary.BytesOut, bytesOut)
	}
}

func TestInterruptGivesPartialResult(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	s := scenarioFor(t, fmt.Sprintf("url: %q", srv.URL), "phases:\n  - {kind: constant, rate: 200, duration: 30s}\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	begin := time.Now()
	res, err := runner.Run(ctx, s, opts())
	if err != nil {
		t.Fatal(err)
	}
	seen := n.Load()
	if took := time.Since(begin); took > 3*time.Second {
		t.Errorf("run took %s after a 1 s cancel, want it to stop promptly", took)
	}
	if !res.Partial || res.Summary.Censored != 0 {
		t.Errorf("partial %v censored %d, want partial and nothing censored", res.Partial, res.Summary.Censored)
	}
	if r := res.Summary.Requests; r < 100 || r > 300 {
		t.Errorf("requests = %d, want about 200", r)
	}
	if res.Generator.Saturated {
		t.Errorf("an interrupted run that kept up is not saturated: %+v", res.Generator)
	}
	// Only requests in flight (or due) at the stop are cancelled, not the
	// later ones idle workers had claimed.
	if c := res.Summary.Cancelled; c > 20 {
		t.Errorf("cancelled = %d, want only the few in flight at the stop", c)
	}
	time.Sleep(200 * time.Millisecond)
	if later := n.Load(); later != seen {
		t.Errorf("target saw %d requests after the run returned (%d then %d)", later-seen, seen, later)
	}
}

func TestHTTPSUsesNetHTTP(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s := scenarioFor(t, fmt.Sprintf("url: %q", srv.URL), "phases:\n  - {kind: constant, rate: 100, duration: 500ms}\n")
	o := opts()
	o.TLS = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	res, err := runner.Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Generator.Transport != "net/http" || res.Summary.Requests != 50 || res.Summary.SuccessRate != 1 {
		t.Errorf("transport %q requests %d success %v, want net/http, 50, 1", res.Generator.Transport, res.Summary.Requests, res.Summary.SuccessRate)
	}
}

// MCP requests go over net/http (sessions, tool results inspected).
func TestMCPUsesNetHTTP(t *testing.T) {
	url, stop, err := ioc.StartLocal(context.Background(), map[string]string{"PROVIDER_LATENCY_SCALE": "0", "RATE_LIMIT_SCALE": "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	s := scenarioFor(t, fmt.Sprintf("url: %q", url), `requests:
  - {name: m, kind: mcp, path: /mcp, tool: analyze_iocs, arguments: '{"ioc_string": {{ioc}}}', generate: {min: 1, max: 1}}
phases:
  - {kind: constant, rate: 20, duration: 500ms}
`)
	res, err := runner.Run(context.Background(), s, opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Generator.Transport != "net/http" || res.Summary.Requests != 10 || res.Summary.SuccessRate != 1 {
		t.Errorf("transport %q requests %d success %v %v, want net/http, 10, 1", res.Generator.Transport, res.Summary.Requests, res.Summary.SuccessRate, res.Summary.Errors)
	}
}

// Above 12k req/s the engine takes its own default cap (5 ms of the peak
// rate, 64..1024) unless the scenario or --max-workers sets one, and the
// result says which cap was used.
func TestDefaultMaxWorkers(t *testing.T) {
	for _, c := range []struct {
		rate    float64
		generic int
		want    int
	}{{1000, 250, 250}, {12000, 512, 512}, {13000, 64, 65}, {20000, 64, 100}, {50000, 64, 250}, {1e6, 64, 1024}} {
		if got := fast.DefaultMaxWorkers(c.rate, c.generic); got != c.want {
			t.Errorf("DefaultMaxWorkers(%v, %d) = %d, want %d", c.rate, c.generic, got, c.want)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	s := scenarioFor(t, fmt.Sprintf("url: %q", srv.URL), "phases:\n  - {kind: constant, rate: 20000, duration: 10ms}\n")
	res, err := runner.Run(context.Background(), s, opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Generator.MaxWorkers != 100 || res.Summary.Requests != 200 {
		t.Errorf("max_workers %d requests %d, want 100 and 200", res.Generator.MaxWorkers, res.Summary.Requests)
	}
	o := opts()
	o.MaxWorkers = 7
	if res, err = runner.Run(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	if res.Generator.MaxWorkers != 7 {
		t.Errorf("--max-workers 7: max_workers %d", res.Generator.MaxWorkers)
	}
}
