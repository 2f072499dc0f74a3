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
	bound := func(metric, op string, v float64) results.Bound {
		return results.Bound{Metric: metric, Op: op, Value: v}
	}
	rep := &results.SLOReport{Objectives: []results.ObjectiveResult{
		{Scope: results.RunScope(), Unit: "ms", Bounds: []results.Bound{bound("p99", "<", 200)}},
		{Scope: results.RunScope(), Unit: "ms", Bounds: []results.Bound{bound("max", "<=", 1500)}},
		{Scope: results.PhaseScope("steady"), Unit: "ms", Bounds: []results.Bound{bound("p50", "<", 30)}},
		{Scope: results.EndpointScope("home"), Unit: "ms", Bounds: []results.Bound{bound("p99.9", "<", 0.5)}},
		{Scope: results.RunScope(), Unit: "ms", Bounds: []results.Bound{bound("p95", ">=", 5), bound("p95", "<=", 80)}}, // a range: two lines
		{Scope: results.RunScope(), Unit: "ms", Baseline: &baseline, Bounds: []results.Bound{bound("p99", "<", 100), {Metric: "p99", Op: "<=", Value: 22, Budget: "<=+10%"}}},
		{Scope: results.RunScope(), Unit: "fraction", Bounds: []results.Bound{bound("error_rate", "<", 0.001)}},
		{Scope: results.RunScope(), Unit: "req/s", Bounds: []results.Bound{bound("throughput", ">=", 500)}},
		{Objective: "p99 < 200ms", Scope: results.RunScope(), Unit: "ms"}, // a file from before bounds: no line
		{Scope: results.RunScope(), Unit: "ms", Bounds: []results.Bound{bound("p99", "==", 5), bound("p99", "<", math.NaN()), bound("p98", "<", -1)}},
	}}
	got := latencyThresholds(rep)
	want := []threshold{
		{Metric: "p99", Upper: true, Ms: 200, Scope: results.RunScope(), Label: "p99 < 200ms"},
		{Metric: "max", Upper: true, Ms: 1500, Scope: results.RunScope(), Label: "max <= 1.5s"},
		{Metric: "p50", Upper: true, Ms: 30, Scope: results.PhaseScope("steady"), Label: "p50 < 30ms"},
		{Metric: "p999", Upper: true, Ms: 0.5, Scope: results.EndpointScope("home"), Label: "p999 < 0.5ms"},
		{Metric: "p95", Upper: false, Ms: 5, Scope: results.RunScope(), Label: "p95 >= 5ms"},
		{Metric: "p95", Upper: true, Ms: 80, Scope: results.RunScope(), Label: "p95 <= 80ms"},
		{Metric: "p99", Upper: true, Ms: 100, Scope: results.RunScope(), Label: "p99 < 100ms"},
		{Metric: "p99", Upper: true, Ms: 22, Scope: results.RunScope(), Label: "p99 budget <=+10% of baseline 20.0 ms"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thresholds:\n got %+v\nwant %+v", got, want)
	}
	if latencyThresholds(nil) != nil {
		t.Error("nil report gave thresholds")
	}
}

func TestSLOStaircase(t *testing.T) {
	ths := []threshold{
		{Metric: "p50", Upper: true, Ms: 50, Scope: results.RunScope()},
		{Metric: "p99", Upper: true, Ms: 200, Scope: results.RunScope()},
		{Metric: "p90", Upper: true, Ms: 300, Scope: results.RunScope()}, // looser than p99: p99's bound holds from p50 on
		{Metric: "max", Upper: true, Ms: 500, Scope: results.RunScope()},
		{Metric: "p95", Upper: false, Ms: 1, Scope: results.RunScope()},            // a lower bound is no SLA step
		{Metric: "p999", Upper: true, Ms: 10, Scope: results.PhaseScope("steady")}, // not the run's spectrum
		{Metric: "mean", Upper: true, Ms: 10, Scope: results.RunScope()},           // not a percentile
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
