package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slogate/slogate/slo/capacity"
)

// queueServer serves exactly n req/s: a single server with a fixed service
// time 1/n, requests served one at a time in arrival order. Each request's
// completion is scheduled at max(arrival, previous completion) + 1/n and
// the handler sleeps until then, so sleep overshoot never accumulates into
// the throughput. Past n the queue grows and latency climbs without bound.
func queueServer(n float64) *httptest.Server {
	var mu sync.Mutex
	var next time.Time
	service := time.Duration(float64(time.Second) / n)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if next.Before(now) {
			next = now
		}
		next = next.Add(service)
		done := next
		mu.Unlock()
		time.Sleep(time.Until(done))
	}))
}

func readCapacity(t *testing.T, path string) capacity.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r capacity.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Schema != capacity.Schema {
		t.Fatalf("schema %q", r.Schema)
	}
	return r
}

// The search finds a single-server queue's rate within 10 %, inside its
// budget, with the plan and the reports.
func TestCapacityFindsAQueuesRate(t *testing.T) {
	const n = 300
	srv := queueServer(n)
	defer srv.Close()
	dir := t.TempDir()
	// p95 < 100 ms: past n the backlog delays a request due at t by
	// (rate − n)·t/n, so a 2 s step breaks it from about 1.05 n (the last
	// 5 % of the step waits ≥ 100 ms); below n the p95 stays near 1/n, and a
	// stall of the busy machine shorter than the threshold drains within
	// the step.
	sloFile := writeFile(t, dir, "slo.yaml", "objectives:\n  - {metric: p95, threshold: \"< 100ms\"}\n  - {metric: error_rate, threshold: \"< 0.1%\"}\n")
	out, md := filepath.Join(dir, "cap.json"), filepath.Join(dir, "cap.md")
	budget := 50 * time.Second
	var (
		r              capacity.Report
		stdout, stderr string
		elapsed        time.Duration
	)
	// A stall of the shared test machine longer than the threshold, at a
	// rate below n, reads as the target's failure: that is the machine, not
	// the search, so one more search is allowed before failing.
	for attempt := 1; attempt <= 2; attempt++ {
		begin := time.Now()
		var code int
		code, stdout, stderr = runCLI(t, "capacity", "--target", srv.URL, "--slo", sloFile, "--start-rate", "100", "--max-rate", "800",
			"--step", "2s", "--confirm", "3s", "--budget", budget.String(), "--plan", "3000,10000", "--headroom", "30%",
			"--out", out, "--report", "markdown="+md)
		elapsed = time.Since(begin)
		if code != 0 {
			t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
		}
		r = readCapacity(t, out)
		t.Logf("attempt %d: capacity %v req/s of a %d req/s queue (confirmed %v), %d steps in %v", attempt, r.CapacityRPS, n, r.Confirmed, len(r.Steps), elapsed)
		if r.CapacityRPS >= 0.9*n && r.CapacityRPS <= 1.1*n {
			break
		}
	}
	if r.CapacityRPS < 0.9*n || r.CapacityRPS > 1.1*n || r.GeneratorBound {
		t.Fatalf("capacity %v req/s, want %d ± 10%%\n%s\n%s", r.CapacityRPS, n, stdout, stderr)
	}
	if elapsed > budget+2*time.Second+5*time.Second { // one step, and the binary's start and stop
		t.Errorf("the search took %v of a %v budget", elapsed, budget)
	}
	if r.LimitedBy == nil || !strings.Contains(r.LimitedBy.Objective, "p95") {
		t.Errorf("limited by %+v, want the p95 objective", r.LimitedBy)
	}
	if len(r.Plan) != 2 || r.Plan[0].Headroom != 0.3 || r.Plan[0].Instances < 10 {
		t.Errorf("plan %+v", r.Plan)
	}
	if !strings.Contains(stderr, "capacity:") || !strings.Contains(stdout, "CAPACITY") {
		t.Errorf("no progress lines or answer:\n%s\n%s", stdout, stderr)
	}
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(string(data), "## Capacity of") {
		t.Errorf("markdown report: %v\n%s", err, data)
	}
}

// A target faster than the generator (here a generator held to one
// worker) gives no capacity: generator_bound and exit 3; the budget is
// honoured.
func TestCapacityGeneratorBound(t *testing.T) {
	srv := delayServer(5 * time.Millisecond)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "cap.json")
	code, stdout, stderr := runCLI(t, "capacity", "--target", srv.URL, "--max-workers", "1", "--start-rate", "100",
		"--max-rate", "5000", "--step", "2s", "--budget", "20s", "--out", out)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	r := readCapacity(t, out)
	if !r.GeneratorBound || r.CapacityRPS != 0 || r.GeneratorLimitRPS <= 0 {
		t.Fatalf("generator_bound %v capacity %v limit %v\n%s", r.GeneratorBound, r.CapacityRPS, r.GeneratorLimitRPS, stdout)
	}
	if !strings.Contains(stdout, "GENERATOR-BOUND") {
		t.Errorf("answer:\n%s", stdout)
	}
}

// --budget stops the search between steps: elapsed ≤ budget + one step.
func TestCapacityHonoursItsBudget(t *testing.T) {
	srv := delayServer(time.Millisecond)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "cap.json")
	begin := time.Now()
	code, stdout, stderr := runCLI(t, "capacity", "--target", srv.URL, "--start-rate", "250", "--max-rate", "100000",
		"--step", "2s", "--budget", "5s", "--out", out)
	elapsed := time.Since(begin)
	if code != 0 && code != 3 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := readCapacity(t, out)
	if r.ElapsedS > 5+2 {
		t.Errorf("the search took %.1f s of a 5 s budget (+ one 2 s step)", r.ElapsedS)
	}
	if elapsed > 12*time.Second {
		t.Errorf("the command took %v", elapsed)
	}
	if !strings.Contains(r.Stopped, "budget") {
		t.Errorf("stopped: %q", r.Stopped)
	}
}

// --cores runs the bundled service pinned to each count of CPUs and prints
// the seed's table: measured rows, predicted rows, what was shared.
func TestCapacityCores(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		t.Skip("pinning needs Linux and two CPUs")
	}
	out := filepath.Join(t.TempDir(), "cap.json")
	code, stdout, stderr := runCLI(t, "capacity", "echo-smoke", "--cores", "1,2", "--start-rate", "250", "--max-rate", "500",
		"--step", "2s", "--confirm", "2s", "--budget", "16s", "--out", out)
	if code != 0 && code != 3 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := readCapacity(t, out)
	if r.Cores == nil || len(r.Cores.Rows) < 2 {
		t.Fatalf("cores table %+v\n%s", r.Cores, stdout)
	}
	labels := map[int]string{}
	for _, row := range r.Cores.Rows {
		labels[row.Cores] = row.Label
	}
	if labels[1] != "measured" || labels[2] != "measured" {
		t.Errorf("rows %+v", r.Cores.Rows)
	}
	if !strings.Contains(r.Cores.Shared, "1 core(s): nothing") || !strings.Contains(r.Cores.Shared, "2 core(s): the service and the generator shared") {
		t.Errorf("shared: %q", r.Cores.Shared)
	}
	if !strings.Contains(stdout, "per-core capacity") {
		t.Errorf("no table:\n%s", stdout)
	}
}

func TestCapacityBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"capacity"},
		{"capacity", "--target", "http://127.0.0.1:1", "--plan", "3000,x"},
		{"capacity", "--target", "http://127.0.0.1:1", "--plan", "-5"},
		{"capacity", "--target", "http://127.0.0.1:1", "--headroom", "100%"},
		{"capacity", "--target", "http://127.0.0.1:1", "--headroom", "lots"},
		{"capacity", "--target", "http://127.0.0.1:1", "--cores", "0"},
		{"capacity", "--target", "http://127.0.0.1:1", "--cores", "1,1"},
		{"capacity", "--target", "http://127.0.0.1:1", "--cores", "1"}, // a URL cannot be pinned
		{"capacity", "echo-smoke", "--cores", "4096"},
		{"capacity", "--target", "http://127.0.0.1:1", "--max-rate", "0"},
		{"capacity", "--target", "http://127.0.0.1:1", "--report", "pdf=x.pdf"},
		{"capacity", "no-such-scenario"},
		{"capacity", "--target", "http://127.0.0.1:1", "--env", "A=B"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s\n%s", args, code, stdout, stderr)
		}
		if stderr == "" {
			t.Errorf("%v: no message", args)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad input wrote %d files", len(entries))
	}
}
