package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// storedRun builds a small result with a given p99 (all requests at that
// latency) and verdict.
func storedRun(scenario string, at time.Time, p99Ms float64, verdict string) *Result {
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "main", Duration: time.Second, Planned: 10}}})
	for i := 0; i < 10; i++ {
		d := time.Duration(p99Ms * float64(time.Millisecond))
		rec.Record(Sample{Due: time.Duration(i) * 100 * time.Millisecond, Latency: d, ServiceLatency: d, Status: 200})
	}
	r := rec.Result(Finish{Scenario: scenario, Engine: "vegeta", StartedAt: at, Elapsed: time.Second,
		Environment: Environment{OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "CPU", ScenarioHash: "h-" + scenario}})
	if verdict != "" {
		r.SLO = &SLOReport{Verdict: verdict, Objectives: []ObjectiveResult{}}
	}
	return r
}

func TestHistoryAppendList(t *testing.T) {
	h := History{Dir: filepath.Join(t.TempDir(), "hist")}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Appended out of order, and two in the same millisecond.
	paths := map[string]bool{}
	for _, r := range []*Result{
		storedRun("checkout", t0.Add(2*time.Minute), 30, "fail"),
		storedRun("checkout", t0, 10, "pass"),
		storedRun("login", t0.Add(time.Minute), 5, "pass"),
		storedRun("checkout", t0, 11, "pass"),
	} {
		p, err := h.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		if paths[p] {
			t.Fatalf("path %s reused", p)
		}
		paths[p] = true
	}
	if !paths[filepath.Join(h.Dir, "20250301T120000.000Z_checkout.json")] || !paths[filepath.Join(h.Dir, "20250301T120000.000Z_checkout-2.json")] {
		t.Fatalf("names: %v", paths)
	}
	// A stray file is skipped and reported, temp files are ignored.
	os.WriteFile(filepath.Join(h.Dir, "notes.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(h.Dir, ".x.tmp-1"), []byte("{"), 0o644)

	all, skipped, err := h.List("")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || len(skipped) != 1 || !strings.Contains(skipped[0], "notes.json") {
		t.Fatalf("list: %d entries, skipped %v", len(all), skipped)
	}
	for i := 1; i < len(all); i++ {
		if all[i].StartedAt.Before(all[i-1].StartedAt) {
			t.Fatal("list must be oldest first")
		}
	}
	co, _, _ := h.List("checkout")
	if len(co) != 3 || co[2].Verdict != "fail" || co[2].P99Ms < 29.9 || co[2].P99Ms > 30.1 {
		t.Fatalf("checkout: %+v", co)
	}
	// Every appended file is a readable result.
	if _, err := Read(co[0].Path); err != nil {
		t.Fatal(err)
	}
	if e, _, err := (History{Dir: filepath.Join(h.Dir, "missing")}).List(""); err != nil || len(e) != 0 {
		t.Fatalf("missing dir: %v %v", e, err)
	}
}

func TestHistoryConcurrentAppends(t *testing.T) {
	h := History{Dir: t.TempDir()}
	r := storedRun("s", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1, "pass")
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := h.Append(r)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[p] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 8 {
		t.Fatalf("8 concurrent appends gave %d files", len(seen))
	}
}

func TestHistoryBaselines(t *testing.T) {
	h := History{Dir: t.TempDir()}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	runs := []struct {
		p99     float64
		verdict string
	}{
		{50, "pass"}, {12, "pass"}, {40, "pass"}, {99, "fail"}, {20, "pass"}, {30, "warning"}, {25, "pass"},
	}
	for i, r := range runs {
		if _, err := h.Append(storedRun("api", t0.Add(time.Duration(i)*time.Minute), r.p99, r.verdict)); err != nil {
			t.Fatal(err)
		}
	}
	other := storedRun("api", t0.Add(time.Hour), 1, "pass")
	other.Environment.CPUs = 64 // another machine: never a baseline here
	h.Append(other)
	env := storedRun("api", t0, 1, "").Environment

	tests := []struct {
		spec       string
		wantP99    float64
		considered int
	}{
		{"last-pass", 25, 1},    // newest passing on this machine
		{"median-of:3", 25, 3},  // newest passing 25, 20, 40 → sorted 20, 25, 40 → 25
		{"median-of:4", 20, 4},  // 25, 20, 40, 12 → sorted 12,20,25,40 → lower middle 20
		{"median-of:5", 25, 5},  // 25,20,40,12,50 → 12,20,25,40,50 → 25
		{"median-of:10", 25, 5}, // only 5 passing stored
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if !IsHistoryBaseline(tt.spec) {
				t.Fatal("IsHistoryBaseline")
			}
			pick, err := h.Baseline(tt.spec, "api", env, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if pick.Result.Summary.LatencyMs.P99 < tt.wantP99*0.99 || pick.Result.Summary.LatencyMs.P99 > tt.wantP99*1.01 || len(pick.Considered) != tt.considered {
				t.Fatalf("picked p99 %v of %d runs, want %v of %d", pick.Result.Summary.LatencyMs.P99, len(pick.Considered), tt.wantP99, tt.considered)
			}
			if pick.Entry.Verdict != "pass" || pick.Result.Environment.CPUs != 2 {
				t.Fatalf("picked %+v", pick.Entry)
			}
		})
	}
	if _, err := h.Baseline("last-pass", "nosuch", env, time.Time{}); !errors.Is(err, ErrNoBaseline) {
		t.Fatalf("unknown scenario: %v", err)
	}
	changed := env
	changed.ScenarioHash = "edited"
	if _, err := h.Baseline("last-pass", "api", changed, time.Time{}); !errors.Is(err, ErrNoBaseline) {
		t.Fatalf("edited scenario: %v", err)
	}
	for _, bad := range []string{"median-of:0", "median-of:x", "median-of:"} {
		if _, err := h.Baseline(bad, "api", env, time.Time{}); err == nil || errors.Is(err, ErrNoBaseline) {
			t.Fatalf("%s: %v", bad, err)
		}
	}
	// Checking the newest passing run (started at minute 6) against
	// last-pass picks the one before it, not itself.
	if pick, err := h.Baseline("last-pass", "api", env, t0.Add(6*time.Minute)); err != nil || pick.Entry.P99Ms < 19.9 || pick.Entry.P99Ms > 20.1 {
		t.Fatalf("last-pass before the newest: %+v %v", pick, err)
	}
	if IsHistoryBaseline("base.json") {
		t.Fatal("a file is not a history baseline")
	}
}

func TestHistoryDirResolution(t *testing.T) {
	t.Setenv(HistoryEnv, "")
	if got := HistoryDir(""); got != DefaultHistoryDir {
		t.Fatalf("default %q", got)
	}
	t.Setenv(HistoryEnv, "/tmp/h")
	if got := HistoryDir(""); got != "/tmp/h" {
		t.Fatalf("env %q", got)
	}
	if got := HistoryDir("flag"); got != "flag" {
		t.Fatalf("flag %q", got)
	}
}

// An append killed mid-write leaves its temporary file in the history; the
// next append removes it (the writer's PID is gone), and nothing else.
func TestHistoryAppendRemovesLeftovers(t *testing.T) {
	h := History{Dir: t.TempDir()}
	leftover := filepath.Join(h.Dir, ".append.slogate-tmp-2147483647-99") // no such PID
	if err := os.WriteFile(leftover, []byte("{half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Append(storedRun("s", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), 10, "pass")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover kept: %v", err)
	}
	entries, _ := os.ReadDir(h.Dir)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), "_s.json") {
		t.Errorf("history holds %v, want the one run", entries)
	}
}
