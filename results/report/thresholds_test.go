package report

import (
	"math"
	"reflect"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/slogate/slogate/results"
)

func TestLatencyThresholds(t *testing.T) {
	baseline := 20.0
	rep := &results.SLOReport{Objectives: []results.ObjectiveResult{
		{Objective: "p99 < 200ms", Scope: "run", Unit: "ms"},
		{Objective: "max <= 1.5s", Scope: "run", Unit: "ms"},
		{Objective: "p50 < 30", Scope: "phase steady", Unit: "ms"},      // bare number: ms
		{Objective: "p999 < 500us", Scope: "endpoint home", Unit: "ms"}, // microseconds
		{Objective: "p95 5ms..80ms", Scope: "run", Unit: "ms"},          // a range gives two lines
		{Objective: "p99 < 100ms, p99 <=+10% vs baseline", Scope: "run", Unit: "ms", Baseline: &baseline},
		{Objective: "p90 <=+10% vs baseline", Scope: "run", Unit: "ms"}, // no baseline value: no line
		{Objective: "error_rate < 0.1%", Scope: "run", Unit: "fraction"},
		{Objective: "throughput >= 97%", Scope: "run", Unit: "req/s"},
		{Objective: "custom text slo", Scope: "run", Unit: "ms"},
	}}
	got := latencyThresholds(rep)
	want := []threshold{
		{Metric: "p99", Upper: true, Ms: 200, Scope: "run", Label: "p99 < 200ms"},
		{Metric: "max", Upper: true, Ms: 1500, Scope: "run", Label: "max <= 1.5s"},
		{Metric: "p50", Upper: true, Ms: 30, Scope: "phase steady", Label: "p50 < 30"},
		{Metric: "p999", Upper: true, Ms: 0.5, Scope: "endpoint home", Label: "p999 < 500us"},
		{Metric: "p95", Upper: false, Ms: 5, Scope: "run", Label: "p95 ≥ 5ms"},
		{Metric: "p95", Upper: true, Ms: 80, Scope: "run", Label: "p95 ≤ 80ms"},
		{Metric: "p99", Upper: true, Ms: 100, Scope: "run", Label: "p99 < 100ms"},
		{Metric: "p99", Upper: true, Ms: 22, Scope: "run", Label: "p99 budget <=+10% of baseline 20.0 ms"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d thresholds, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		if math.Abs(g.Ms-want[i].Ms) > 1e-9 {
			t.Errorf("threshold %d: %v ms, want %v", i, g.Ms, want[i].Ms)
		}
		g.Ms = want[i].Ms
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("threshold %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if latencyThresholds(nil) != nil {
		t.Error("nil report gave thresholds")
	}
}

func TestSLOStaircase(t *testing.T) {
	ths := []threshold{
		{Metric: "p50", Upper: true, Ms: 50, Scope: "run"},
		{Metric: "p99", Upper: true, Ms: 200, Scope: "run"},
		{Metric: "p90", Upper: true, Ms: 300, Scope: "run"}, // looser than p99: p99's bound holds from p50 on
		{Metric: "max", Upper: true, Ms: 500, Scope: "run"},
		{Metric: "p95", Upper: false, Ms: 1, Scope: "run"},           // a lower bound is no SLA step
		{Metric: "p999", Upper: true, Ms: 10, Scope: "phase steady"}, // not the run's spectrum
		{Metric: "mean", Upper: true, Ms: 10, Scope: "run"},          // not a percentile
	}
	got, used := sloStaircase(ths, 10000)
	want := plotter.XYs{{X: 1, Y: 50}, {X: 2, Y: 50}, {X: 2, Y: 200}, {X: 10, Y: 200}, {X: 10, Y: 200}, {X: 100, Y: 200}, {X: 100, Y: 500}, {X: 10000, Y: 500}}
	if len(used) != 4 {
		t.Errorf("used %d thresholds, want 4 (p50, p99, p90, max)", len(used))
	}
	if len(got) != len(want) {
		t.Fatalf("staircase %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i].X-want[i].X) > 1e-6 || got[i].Y != want[i].Y {
			t.Errorf("staircase point %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPercentileName(t *testing.T) {
	for q, want := range map[float64]string{0.5: "50%", 0.9: "90%", 0.99: "99%", 0.999: "99.9%", 1 - 1.0/3600: "99.97%", 0.99999: "99.999%"} {
		if got := percentileName(q); got != want {
			t.Errorf("percentileName(%v) = %q, want %q", q, got, want)
		}
	}
}

func TestTicks(t *testing.T) {
	labels := func(ts []plot.Tick) (out []string) {
		for _, t := range ts {
			if t.Label != "" {
				out = append(out, t.Label)
			}
		}
		return out
	}
	if got, want := labels(linearTicks{}.Ticks(0, 66)), []string{"0", "10", "20", "30", "40", "50", "60"}; !reflect.DeepEqual(got, want) {
		t.Errorf("linear ticks 0..66: %v, want %v", got, want)
	}
	if got, want := labels(logTicks{}.Ticks(3, 900)), []string{"5", "10", "20", "50", "100", "200", "500"}; !reflect.DeepEqual(got, want) {
		t.Errorf("log ticks 3..900: %v, want %v", got, want)
	}
	if got, want := labels(spectrumTicks{}.Ticks(1, 3600)), []string{"0%", "50%", "90%", "99%", "99.9%"}; !reflect.DeepEqual(got, want) {
		t.Errorf("spectrum ticks to 3600: %v, want %v", got, want)
	}
	if logTicks.Ticks(logTicks{}, 0, 10) != nil {
		t.Error("log ticks over a non-positive range")
	}
}

func FuzzLatencyThresholds(f *testing.F) {
	for _, s := range []string{"p99 < 200ms", "max <= 1.5s", "p95 5ms..80ms", "p99 < 100ms, p99 <=+10% vs baseline", "p50 < ", "p99 < 1e400ms", "p99 < -5ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, objective string) {
		b := 10.0
		ths := latencyThresholds(&results.SLOReport{Objectives: []results.ObjectiveResult{{Objective: objective, Unit: "ms", Baseline: &b}}})
		for _, th := range ths {
			if math.IsNaN(th.Ms) || math.IsInf(th.Ms, 0) || th.Ms < 0 || th.Scope != "run" || !validPercentileName(th.Metric) && quantileOf(th.Metric) < 0 && th.Metric != "mean" {
				t.Errorf("%q gave threshold %+v", objective, th)
			}
		}
		_, _ = sloStaircase(ths, 1000)
	})
}

func validPercentileName(m string) bool { return len(m) > 1 && m[0] == 'p' }
