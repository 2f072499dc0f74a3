package slo

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

func TestErrorBudgetMath(t *testing.T) {
	// 9995 good requests at 1..100 ms, 5 errors: error rate 0.05 %.
	r := synthetic(uniform(9995, 1, 100), 20, 5, 1000)
	tests := []struct {
		name       string
		doc        string
		window     time.Duration
		wantSLI    string
		wantTarget float64
		wantBad    int64
		wantBurn   float64 // ± 2 %
	}{
		// error_rate < 0.1 % is a 99.9 % availability SLO with a 0.1 %
		// budget; 5 errors in 10020 requests (20 blocked do not burn) is
		// 0.0499 %: burn rate 0.499.
		{"availability", `- {metric: error_rate, threshold: "< 0.1%"}`, 0, "availability", 0.999, 5, 0.499},
		{"availability 1-day window", `- {metric: error_rate, threshold: "< 0.1%"}`, 24 * time.Hour, "availability", 0.999, 5, 0.499},
		// p99 < 95 ms: 99 % of requests within 95 ms, 1 % budget. Requests
		// at ≥ 95 ms: the uniform values from 95 to 100 ms, 5.05 % of 9995
		// ≈ 505, of 10020 requests: bad ratio ≈ 5.04 %, burn ≈ 5.04.
		{"latency", `- {metric: p99, threshold: "< 95ms"}`, 0, "latency", 0.99, 505, 5.04},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := parse(t, tt.doc)
			ebs := ErrorBudgets(r, set, tt.window)
			if len(ebs) != 1 {
				t.Fatalf("got %d budgets, want 1: %+v", len(ebs), ebs)
			}
			eb := ebs[0]
			window := tt.window
			if window == 0 {
				window = 30 * 24 * time.Hour
			}
			if eb.SLI != tt.wantSLI || eb.Target != tt.wantTarget || math.Abs(eb.Budget-(1-tt.wantTarget)) > 1e-9 {
				t.Fatalf("%+v: want %s target %g", eb, tt.wantSLI, tt.wantTarget)
			}
			if d := eb.BadEvents - tt.wantBad; d < -3 || d > 3 {
				t.Fatalf("bad events %d, want %d ± 3 (HDR bucket at the threshold)", eb.BadEvents, tt.wantBad)
			}
			if eb.TotalEvents != 10020 {
				t.Fatalf("total %d, want 10020", eb.TotalEvents)
			}
			if math.Abs(eb.BurnRate-tt.wantBurn)/tt.wantBurn > 0.02 {
				t.Fatalf("burn rate %g, want %g", eb.BurnRate, tt.wantBurn)
			}
			// Spent over the 10 s run: burn × 10 s / window.
			wantSpent := eb.BurnRate * 10 / window.Seconds()
			if math.Abs(eb.BudgetSpent-wantSpent) > 1e-6 || eb.RunSeconds != 10 || eb.WindowDays != window.Hours()/24 {
				t.Fatalf("spent %g over %g s of a %g-day window, want %g", eb.BudgetSpent, eb.RunSeconds, eb.WindowDays, wantSpent)
			}
			if math.Abs(eb.ExhaustedInHours-window.Hours()/eb.BurnRate) > 0.01*window.Hours()/eb.BurnRate {
				t.Fatalf("exhausted in %g h, want window / burn = %g", eb.ExhaustedInHours, window.Hours()/eb.BurnRate)
			}
		})
	}
}

func TestErrorBudgetInVerdict(t *testing.T) {
	r := synthetic(uniform(1000, 1, 100), 0, 0, 100)
	set := parse(t, `- {metric: error_rate, threshold: "<= 0"}
- {metric: error_rate, threshold: "< 1%", phase: main}
- {metric: p95, threshold: "< 200ms"}
- {metric: block_rate, threshold: "< 1%"}
`)
	rep := Evaluate(r, set, Options{})
	// error_rate <= 0 leaves no budget, phase scopes are not SLIs, block
	// rate is not an SLI: only the latency SLI remains, with nothing burnt.
	if len(rep.ErrorBudget) != 1 || rep.ErrorBudget[0].SLI != "latency" || rep.ErrorBudget[0].BurnRate != 0 || rep.ErrorBudget[0].ExhaustedInHours != 0 {
		t.Fatalf("error budget %+v", rep.ErrorBudget)
	}
	var buf bytes.Buffer
	results.WriteVerdict(&buf, &rep)
	for _, want := range []string{"ERROR BUDGET (30-day SLO window", "latency (p95 < 200ms)", "95%", "0.00×", "forever"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("verdict text lacks %q:\n%s", want, buf.String())
		}
	}
}
