package results

import (
	"strings"
	"testing"
	"time"
)

// Shards of one run share its time axis: counts and histograms merge as
// in one recording of every request, seconds add up, durations do not.
func TestMergeShardsIsExactOnOneTimeAxis(t *testing.T) {
	mk := func(n int, base float64) []mergeSample {
		out := make([]mergeSample, n)
		for i := range out {
			out[i] = mergeSample{ms: base + float64(i%89), endpoint: i % 2, outcome: OutcomeSuccess}
		}
		return out
	}
	all := NewRecorder(Plan{
		Phases:     []PhaseSpec{{Name: "warm", Warmup: true, Duration: 2 * time.Second}, {Name: "main", Start: 2 * time.Second, Duration: 8 * time.Second}},
		Endpoints:  []string{"home", "api"},
		TargetRate: func(time.Duration) float64 { return 100 },
	})
	a := recordRun(t, 50, mk(500, 1), all)
	b := recordRun(t, 50, mk(500, 30), all)
	a.Generator.AchievedRatio, b.Generator.AchievedRatio = 1, 0.9
	want := all.Result(Finish{Scenario: "s", Engine: "test", Elapsed: 10 * time.Second})
	got, err := MergeShards([]*Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.Requests != want.Summary.Requests || got.Summary.LatencyMs != want.Summary.LatencyMs {
		t.Errorf("merged %d requests %+v, want %d %+v as recorded in one go", got.Summary.Requests, got.Summary.LatencyMs, want.Summary.Requests, want.Summary.LatencyMs)
	}
	if got.Summary.RequestRateRPS != want.Summary.RequestRateRPS || got.Summary.TargetRateRPS != 100 {
		t.Errorf("rates %v (target %v), want %v (target 100): shards' rates add up", got.Summary.RequestRateRPS, got.Summary.TargetRateRPS, want.Summary.RequestRateRPS)
	}
	if got.DurationS != 10 || got.Phase("main").DurationS != 8 {
		t.Errorf("duration %v, main %v: want 10 and 8 (the shards ran at once)", got.DurationS, got.Phase("main").DurationS)
	}
	if e := got.Endpoint("api"); e == nil || e.Summary.LatencyMs != want.Endpoint("api").Summary.LatencyMs {
		t.Errorf("endpoint api %+v, want the latency of all its requests", e)
	}
	if len(got.Intervals) != len(want.Intervals) {
		t.Fatalf("%d intervals, want %d", len(got.Intervals), len(want.Intervals))
	}
	for i, iv := range got.Intervals {
		w := want.Intervals[i]
		if iv.TS != w.TS || iv.Requests != w.Requests || iv.LatencyMs != w.LatencyMs || iv.TargetRPS != w.TargetRPS {
			t.Errorf("second %d: %+v, want %+v", iv.TS, iv, w)
		}
	}
	if g := got.Generator; g.PlannedReqs != 1000 || g.AchievedRatio != 0.95 {
		t.Errorf("generator %+v, want 1000 planned and 95%% on schedule (the shares' weighted ratios)", g)
	}
}

func TestCheckShards(t *testing.T) {
	const seq = "0,1/4,1/2,3/4,1"
	shard := func(value, sequence, hash string) *Result {
		return &Result{Scenario: "s", Environment: Environment{ScenarioHash: hash}, Segment: &Segment{Value: value, Sequence: sequence}}
	}
	names := []string{"a", "b", "c", "d"}
	set, err := CheckShards(names, []*Result{shard("1/2:3/4", seq, "h"), shard("0:1/4", seq, "h"), shard("3/4:1", seq, "h"), shard("1/4:1/2", seq, "h")})
	if err != nil || !set.Complete() || set.Segment().Value != "0:1" {
		t.Errorf("complete set: %+v %v", set, err)
	}
	set, err = CheckShards(names, []*Result{shard("0:1/4", seq, "h"), shard("3/4:1", seq, "h")})
	if err != nil || set.Complete() || strings.Join(set.Missing, " ") != "1/4:1/2 1/2:3/4" || set.Segment().Value != "0:1/4,3/4:1" {
		t.Errorf("gap: %+v %v", set, err)
	}
	partial := shard("0:1", "0,1", "h")
	partial.Partial = true
	if set, err := CheckShards(names, []*Result{partial}); err != nil || set.Complete() {
		t.Errorf("an interrupted shard: %+v %v", set, err)
	}
	for name, shards := range map[string][]*Result{
		"held twice":      {shard("0:1/4", seq, "h"), shard("0:1/4", seq, "h")},
		"overlap":         {shard("0:1/4", seq, "h"), shard("0:1/2", seq, "h")},
		"other scenario":  {shard("0:1/4", seq, "h"), shard("1/4:1/2", seq, "x")},
		"other sequence":  {shard("0:1/4", seq, "h"), shard("1/4:1/2", "0,1/4,1/2,1", "h")},
		"not of sequence": {shard("0:1/3", seq, "h")},
	} {
		if _, err := CheckShards(names, shards); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
