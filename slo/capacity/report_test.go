package capacity

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

func step(rate, thru, meanMs, p95 float64, verdict string, cpu float64) Step {
	st := Step{RateRPS: rate, Verdict: verdict, Summary: results.Summary{Requests: int64(rate * 10), ThroughputRPS: thru,
		LatencyMs: results.Latency{Mean: meanMs, P50: meanMs, P95: p95, P99: 2 * p95}}}
	if cpu > 0 {
		st.Server = map[string]float64{ServerCPUCores: cpu}
	}
	return st
}

// Little's law gives each judged step's concurrency; a step the generator
// could not hold, or not judged, is no point.
func TestPoints(t *testing.T) {
	steps := []Step{
		step(100, 100, 10, 20, results.VerdictPass, 0),
		step(200, 200, 50, 90, results.VerdictFail, 0),
		step(400, 300, 5, 9, results.VerdictInconclusive, 0),
	}
	steps[2].GeneratorSaturated = true
	pts := Points(steps)
	if len(pts) != 2 || math.Abs(pts[0].N-1) > 1e-9 || math.Abs(pts[1].N-10) > 1e-9 {
		t.Fatalf("points %+v, want N = 1 and 10", pts)
	}
}

func TestSeedRule(t *testing.T) {
	steps := []Step{
		step(500, 500, 5, 20, results.VerdictPass, 0.5),
		step(1000, 1000, 5, 60, results.VerdictPass, 1.5), // 75 % of 2 cores
		step(2000, 1900, 50, 150, results.VerdictFail, 1.9),
	}
	sr := CheckSeedRule(steps, 2)
	if sr.P95AtRPS != 2000 || sr.CPUAtRPS != 1000 || sr.FiresAtRPS != 1000 || !sr.CPUScraped {
		t.Fatalf("%+v", sr)
	}
	if sr := CheckSeedRule(steps, 0); sr.CPUScraped || sr.FiresAtRPS != 2000 {
		t.Fatalf("without cores CPU is not judged: %+v", sr)
	}
}

// Two measured core counts predict the others with Amdahl's law: 1000 and
// 1800 req/s give σ = 1/9, so 4 cores give 4000/(1+3/9) = 3000.
func TestCoreTablePredicts(t *testing.T) {
	tab := &CoreTable{Rows: []CoreRow{{Cores: 1, Label: "measured", CapacityRPS: 1000}, {Cores: 2, Label: "measured", CapacityRPS: 1800}}}
	tab.Predict([]int{2, 4, 8})
	tab.SetSeed()
	if len(tab.Rows) != 4 || tab.Rows[2].Cores != 4 || tab.Rows[2].Label != "predicted" {
		t.Fatalf("%+v", tab.Rows)
	}
	if got := tab.Rows[2].CapacityRPS; math.Abs(got-3000) > 5 {
		t.Errorf("4 cores: %v, want 3000", got)
	}
	if tab.Rows[1].SeedLowRPS != 500 || tab.Rows[3].SeedHighRPS != 5000 {
		t.Errorf("seed ranges: %+v", tab.Rows)
	}
}

func TestRender(t *testing.T) {
	steps := []Step{
		step(100, 100, 3, 5, results.VerdictPass, 0), step(200, 200, 3, 5, results.VerdictPass, 0),
		step(400, 400, 4, 8, results.VerdictPass, 0), step(800, 700, 80, 300, results.VerdictFail, 0),
		step(600, 590, 10, 40, results.VerdictPass, 0),
	}
	steps[3].LimitedBy = &LimitedBy{Objective: "p95 < 100ms", RateRPS: 800, Value: 300, Unit: "ms"}
	r := NewReport(&Search{Schema: Schema, CapacityRPS: 600, Confirmed: true, LimitedBy: steps[3].LimitedBy, Stopped: "bisected to 5%", Steps: steps})
	r.Scenario = "test"
	r.Thresholds = []results.Bound{{Metric: "p95", Op: "<", Value: 100}}
	r.FitModel()
	r.MakePlan(0.3, []float64{3000})
	r.SeedRule = CheckSeedRule(steps, 0)
	for format, want := range map[string][]string{
		"text":     {"CAPACITY 600 req/s", "limited by: p95 < 100ms = 300 ms at 800 req/s", "3000        8"},
		"markdown": {"## Capacity of test", "| 800 |", "### Plan"},
		"json":     {`"schema": "slogate.capacity/v1"`, `"capacity_rps": 600`, `"plan": [`},
		"html":     {"<svg", "Capacity of test"},
	} {
		var b bytes.Buffer
		if err := Render(&b, format, r); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", format, w, b.String())
			}
		}
	}
}
