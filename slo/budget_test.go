package slo

import (
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

// Regression budgets judged with the real bootstrap (Significance), on
// synthetic runs with known differences.
func TestBudgetsWithBootstrapSignificance(t *testing.T) {
	base := synthResult(t, synth{medianMs: 20, drift: 0.05, seconds: 30, seed: 21})
	tests := []struct {
		name     string
		newMs    float64
		newSeed  uint64
		doc      string
		want     []string // per objective
		detail   string   // in the first objective's detail
		wantRun  string
		noBreach bool
	}{
		{"within budget (+5 % vs <=+10 %)", 21, 22, `- {metric: p99, budget: "<=+10%"}`, []string{Pass}, "vs baseline", Pass, true},
		{"significant breach (+50 %)", 30, 23, `- {metric: p99, budget: "<=+10%"}`, []string{Fail}, "vs baseline", Fail, false},
		// Same distribution, budget "no worse at all": the new p50 is
		// 1.4 % higher by chance, the breach is noise and passes. (Of seeds
		// 24..39, 7 breach this budget and all 7 pass as noise.)
		{"noise breach passes", 20, 25, `- {metric: p50, budget: "<=+0%"}`, []string{Pass}, "not significant", Pass, false},
		// max cannot be bootstrapped: its significance is unknown, so a
		// breach counts (the evaluation's default).
		{"max breach counts", 30, 25, `- {metric: max, budget: "<=+10%"}`, []string{Fail}, "vs baseline", Fail, false},
		// Absolute and relative together: both must hold.
		{"absolute fails, budget holds", 20.5, 26, `- {metric: p50, threshold: "< 15ms", budget: "<=+10%"}`, []string{Fail}, "vs baseline", Fail, true},
		// A failed key objective fails the run even with a high score.
		{"key budget fails the run", 30, 27, `objectives:
  - {metric: p50, budget: "<=+10%", key: true}
  - {metric: error_rate, threshold: "< 1%", weight: 10}
  - {metric: throughput, threshold: "> 1"}
scoring: {pass: 50, warning: 10}
`, []string{Fail, Pass, Pass}, "vs baseline", Fail, false},
		// Weighted score 3/4 = 75: warning between 60 and 90.
		{"weighted score gives warning", 30, 28, `objectives:
  - {metric: p50, budget: "<=+10%"}
  - {metric: error_rate, threshold: "< 1%", weight: 2}
  - {metric: throughput, threshold: "> 1"}
scoring: {pass: 90, warning: 60}
`, []string{Fail, Pass, Pass}, "vs baseline", Warning, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := synthResult(t, synth{medianMs: tt.newMs, drift: 0.05, seconds: 30, seed: tt.newSeed})
			set := parse(t, tt.doc)
			rep := Evaluate(cur, set, Options{Baseline: base, Significant: Significance(base, cur, 0.05)})
			got := verdicts(rep)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Fatalf("objective verdicts %v, want %v: %+v", got, tt.want, rep.Objectives)
				}
			}
			if d := rep.Objectives[0].Detail; !strings.Contains(d, tt.detail) {
				t.Fatalf("detail %q lacks %q", d, tt.detail)
			}
			if !tt.noBreach && !strings.Contains(rep.Objectives[0].Detail, "%") {
				t.Fatalf("detail %q", rep.Objectives[0].Detail)
			}
			if rep.Verdict != tt.wantRun {
				t.Fatalf("run verdict %s, want %s (score %v, reasons %v)", rep.Verdict, tt.wantRun, rep.Score, rep.Reasons)
			}
			t.Logf("%s → %s: %s", got, rep.Verdict, rep.Objectives[0].Detail)
			if tt.detail == "not significant" {
				// Without significance the same breach fails: it is the
				// bootstrap that keeps noise from failing the gate.
				if v := Evaluate(cur, set, Options{Baseline: base}).Objectives[0].Verdict; v != Fail {
					t.Fatalf("without Significant the breach must fail, got %s", v)
				}
			}
		})
	}
}

func TestSignificanceUnknownWhereBootstrapCannotJudge(t *testing.T) {
	base := synthResult(t, synth{medianMs: 20, seconds: 10, seed: 1})
	cur := synthResult(t, synth{medianMs: 30, seconds: 10, seed: 2})
	sig := Significance(base, cur, 0.05)
	tests := []struct {
		metric, phase, endpoint string
		wantSig, wantKnown      bool
	}{
		{"p50", "", "", true, true},
		{"p75", "", "", true, true},
		{"p50", "steady", "", true, true},
		{"max", "", "", false, false},
		{"min", "", "", false, false},
		{"p50", "", "home", false, false}, // no per-endpoint intervals
		{"p999", "", "", false, false},    // 1000 requests < 5000
		{"p50", "nosuchphase", "", false, false},
	}
	for _, tt := range tests {
		s, k := sig(tt.metric, tt.phase, tt.endpoint)
		if s != tt.wantSig || k != tt.wantKnown {
			t.Errorf("%s/%s/%s: significant=%v known=%v, want %v %v", tt.metric, tt.phase, tt.endpoint, s, k, tt.wantSig, tt.wantKnown)
		}
	}
	if s, k := Significance(nil, cur, 0.05)("p50", "", ""); s || k {
		t.Error("no baseline must be unknown")
	}
	_ = results.Schema
}

// A baseline from another scenario or machine cannot judge budgets: they
// are not checked and the run is inconclusive (exit 3), never a pass.
func TestBudgetAgainstIncomparableBaseline(t *testing.T) {
	base := synthResult(t, synth{medianMs: 20, seconds: 10, seed: 1})
	cur := synthResult(t, synth{medianMs: 20, seconds: 10, seed: 2})
	base.Environment.CPUModel = "Other CPU"
	set := parse(t, `- {metric: p50, threshold: "< 1s", budget: "<=+10%"}
- {metric: p99, budget: "<=+10%"}
`)
	rep := Evaluate(cur, set, Options{Baseline: base, Significant: Significance(base, cur, 0.05)})
	if rep.Verdict != Inconclusive || !strings.Contains(strings.Join(rep.Reasons, " "), "CPU model differs") {
		t.Fatalf("verdict %s, reasons %v", rep.Verdict, rep.Reasons)
	}
	if got := verdicts(rep); got[0] != Pass || got[1] != Inconclusive || !strings.Contains(rep.Objectives[1].Detail, "not comparable") {
		t.Fatalf("objectives %v %+v", got, rep.Objectives)
	}
	// Without budgets the baseline does not matter.
	if rep := Evaluate(cur, parse(t, `- {metric: p50, threshold: "< 1s"}`), Options{Baseline: base}); rep.Verdict != Pass {
		t.Fatalf("no budgets: %s %v", rep.Verdict, rep.Reasons)
	}
}
