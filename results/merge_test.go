package results

import (
	"slices"
	"testing"
	"time"
)

// mergeFixture records samples into a two-phase, two-endpoint run of 10 s; each
// sample is (latency ms, endpoint, outcome) spread evenly over the run.
type mergeSample struct {
	ms       float64
	endpoint int
	outcome  Outcome
}

func recordRun(t *testing.T, rate float64, samples []mergeSample, recs ...*Recorder) *Result {
	t.Helper()
	plan := Plan{
		Phases: []PhaseSpec{
			{Name: "warm", Kind: "constant", Warmup: true, Duration: 2 * time.Second, Planned: int64(2 * rate)},
			{Name: "main", Kind: "constant", Start: 2 * time.Second, Duration: 8 * time.Second, Planned: int64(8 * rate)},
		},
		Endpoints:  []string{"home", "api"},
		TargetRate: func(time.Duration) float64 { return rate },
	}
	rec := NewRecorder(plan)
	for i, s := range samples {
		due := time.Duration(float64(i) / float64(len(samples)) * float64(10*time.Second))
		phase := 1
		if due < 2*time.Second {
			phase = 0
		}
		d := time.Duration(s.ms * float64(time.Millisecond))
		status := map[Outcome]int{OutcomeSuccess: 200, OutcomeBlocked: 429, OutcomeError: 500}[s.outcome]
		smp := Sample{Phase: phase, Endpoint: s.endpoint, Due: due, Latency: d, ServiceLatency: d, Outcome: s.outcome, Status: status}
		rec.Record(smp)
		for _, all := range recs {
			all.Record(smp)
		}
	}
	return rec.Result(Finish{Scenario: "s", Engine: "test", Elapsed: 10 * time.Second,
		Generator: Generator{PlannedReqs: int64(10 * rate), SentReqs: int64(len(samples))}})
}

func TestMergeSequentialIsExact(t *testing.T) {
	mk := func(n int, base float64, blockedEvery int) []mergeSample {
		out := make([]mergeSample, n)
		for i := range out {
			out[i] = mergeSample{ms: base + float64(i%97), endpoint: i % 2, outcome: OutcomeSuccess}
			if blockedEvery > 0 && i%blockedEvery == 0 {
				out[i].outcome = OutcomeBlocked
			}
		}
		return out
	}
	// all gets every sample of both runs: the merged percentiles must be its percentiles.
	all := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "warm", Warmup: true, Duration: 2 * time.Second}, {Name: "main", Start: 2 * time.Second, Duration: 8 * time.Second}}, Endpoints: []string{"home", "api"}})
	a := recordRun(t, 100, mk(1000, 1, 0), all)
	b := recordRun(t, 100, mk(1000, 50, 10), all)
	want := all.Result(Finish{Scenario: "s", Engine: "test", Elapsed: 20 * time.Second})
	a.Generator.Transport, a.Generator.Protocols, a.Generator.Proxy = "net/http", []string{"HTTP/2.0"}, "http://proxy:3128"
	b.Generator.Transport, b.Generator.Protocols = "net/http", []string{"HTTP/1.1", "HTTP/2.0"}

	got, err := MergeSequential([]*Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	// The run scope counts measured requests: the 2 s warm-up of each run is out.
	if got.Summary.Requests != 1600 || got.Summary.BlockedCount != 80 || got.Summary.StatusCodes["429"] != 80 {
		t.Errorf("counts: requests %d blocked %d 429s %d, want 1600 80 80", got.Summary.Requests, got.Summary.BlockedCount, got.Summary.StatusCodes["429"])
	}
	if got.Summary.Requests != want.Summary.Requests {
		t.Errorf("requests %d, want %d as recorded in one go", got.Summary.Requests, want.Summary.Requests)
	}
	if got.Summary.LatencyMs != want.Summary.LatencyMs {
		t.Errorf("merged latency %+v, want that of all requests together %+v", got.Summary.LatencyMs, want.Summary.LatencyMs)
	}
	if got.Summary.BlockRate != 0.05 {
		t.Errorf("block rate %v, want 0.05", got.Summary.BlockRate)
	}
	// Rates are totals over the summed measured (non-warm-up) time: 2 × 8 s.
	if got.Summary.TargetRateRPS != 100 {
		t.Errorf("target rate %v, want 100 (sequential runs do not add up)", got.Summary.TargetRateRPS)
	}
	if w := float64(1600) / 16; got.Summary.ThroughputRPS != w {
		t.Errorf("throughput %v, want %v", got.Summary.ThroughputRPS, w)
	}
	main := got.Phase("main")
	if main == nil || main.DurationS != 16 || main.Summary.LatencyMs != want.Phase("main").Summary.LatencyMs {
		t.Errorf("phase main %+v, want 16 s and the latency of all main-phase requests", main)
	}
	if e := got.Endpoint("api"); e == nil || e.Summary.Requests != 800 || e.Summary.LatencyMs != want.Endpoint("api").Summary.LatencyMs {
		t.Errorf("endpoint api %+v, want 800 measured requests and exact latency", e)
	}
	// Intervals follow one another: b's seconds come after a's.
	if len(got.Intervals) != len(a.Intervals)+len(b.Intervals) {
		t.Fatalf("%d intervals, want %d", len(got.Intervals), len(a.Intervals)+len(b.Intervals))
	}
	for i := 1; i < len(got.Intervals); i++ {
		if got.Intervals[i].TS <= got.Intervals[i-1].TS {
			t.Fatalf("interval %d at %d s after %d s: not in sequence", i, got.Intervals[i].TS, got.Intervals[i-1].TS)
		}
	}
	if got.Generator.PlannedReqs != 2000 || got.Generator.SentReqs != 2000 || got.Generator.AchievedRatio != 1 {
		t.Errorf("generator %+v, want 2000/2000 sent", got.Generator)
	}
	// How the requests went is kept: each client, version and proxy once.
	if g := got.Generator; g.Transport != "net/http" || !slices.Equal(g.Protocols, []string{"HTTP/1.1", "HTTP/2.0"}) || g.Proxy != "http://proxy:3128" {
		t.Errorf("generator transport %q protocols %v proxy %q, want net/http, [HTTP/1.1 HTTP/2.0], http://proxy:3128", g.Transport, g.Protocols, g.Proxy)
	}
	if got.DurationS != a.DurationS+b.DurationS {
		t.Errorf("duration %v, want %v", got.DurationS, a.DurationS+b.DurationS)
	}
	if _, err := MergeSequential(nil); err == nil {
		t.Error("merging no runs gave no error")
	}
	broken := *b
	broken.Histograms.Run.Latency = "not a histogram"
	if _, err := MergeSequential([]*Result{a, &broken}); err == nil {
		t.Error("a broken histogram merged without error")
	}
}
