package k6

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.k6.io/k6/metrics"
	"go.k6.io/k6/output"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

func mustParse(t *testing.T, doc string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", "", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func job(t *testing.T, s *scenarios.Scenario) plan.Job {
	t.Helper()
	mix, err := plan.NewMix(s, "http://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	return plan.Job{Scenario: s, Schedule: plan.NewSchedule(s), Mix: mix, BaseURL: "http://127.0.0.1:9",
		MaxWorkers: 64, Timeout: s.Target.Timeout.D(), Drain: s.Generator.Drain.D()}
}

const phasesDoc = `
name: shapes
target: {url: "http://127.0.0.1:9"}
requests: [{name: a}]
phases:
  - {name: "warm up", kind: constant, rate: 20, duration: 2s, warmup: true}
  - {name: c, kind: constant, rate: 0.5, duration: 10s}
  - {name: r, kind: ramp, from: 100, to: 300, duration: 10s}
  - {name: st, kind: step, from: 100, to: 400, steps: 4, duration: 8s}
  - {name: sn, kind: sine, rate: 200, amplitude: 100, period: 4s, duration: 10s}
  - {name: b, kind: burst, rate: 50, burst_rate: 500, burst_every: 3s, burst_duration: 1s, duration: 10s}
`

// The k6 executors must ask for the same number of requests as the slogate
// schedule, phase by phase: integrate each executor's rate over time.
func TestBuildOptionsMatchesSchedule(t *testing.T) {
	s := mustParse(t, phasesDoc)
	j := job(t, s)
	opts := BuildOptions(j)
	specs := j.Schedule.PhaseSpecs()
	wantNames := []string{"warm_up", "c", "r", "st", "sn", "b"}
	for i, name := range opts.ScenarioNames {
		if name != wantNames[i] {
			t.Fatalf("scenario name %d = %q, want %q", i, name, wantNames[i])
		}
		ex := opts.Scenarios[name]
		unit, err := time.ParseDuration(ex.TimeUnit)
		if err != nil {
			t.Fatal(err)
		}
		start, _ := time.ParseDuration(ex.StartTime)
		if start != specs[i].Start {
			t.Errorf("%s: startTime %s, want %s", name, start, specs[i].Start)
		}
		var hits float64
		switch ex.Executor {
		case "constant-arrival-rate":
			d, _ := time.ParseDuration(ex.Duration)
			hits = float64(ex.Rate) * d.Seconds() / unit.Seconds()
		case "ramping-arrival-rate":
			rate := float64(*ex.StartRate)
			for _, st := range ex.Stages {
				d, _ := time.ParseDuration(st.Duration)
				hits += (rate + float64(st.Target)) / 2 * d.Seconds()
				rate = float64(st.Target)
			}
			hits /= unit.Seconds()
		default:
			t.Fatalf("%s: executor %q", name, ex.Executor)
		}
		want := float64(specs[i].Planned)
		if math.Abs(hits-want) > math.Max(1, 0.01*want) {
			t.Errorf("%s (%s): k6 asks for %.1f requests, schedule for %.0f (tolerance 1%%)", name, s.Phases[i].Kind, hits, want)
		}
		if ex.MaxVUs != 64 || ex.PreAllocatedVUs < 20 || ex.PreAllocatedVUs > ex.MaxVUs {
			t.Errorf("%s: VUs pre %d max %d", name, ex.PreAllocatedVUs, ex.MaxVUs)
		}
	}
	if opts.Scenarios["c"].TimeUnit != "1000s" || opts.Scenarios["c"].Rate != 500 {
		t.Errorf("0.5 req/s should be 500 per 1000s, got %d per %s", opts.Scenarios["c"].Rate, opts.Scenarios["c"].TimeUnit)
	}
}

// The effective scenario file the engine hands to the child must give the
// exact same mix: endpoint, identity and body of every request.
func TestWriteScenarioKeepsTheMix(t *testing.T) {
	for _, name := range []string{"echo-smoke", "ioc-batch-small", "guard-normal"} {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Skipf("built-in %s: %v", name, err)
		}
		path := filepath.Join(t.TempDir(), "s.yaml")
		if err := WriteScenario(path, s, "http://127.0.0.1:9"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, err := scenarios.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, _ := plan.NewMix(s, "http://127.0.0.1:9")
		b, _ := plan.NewMix(c, "http://127.0.0.1:9")
		if plan.NewSchedule(s).Total() != plan.NewSchedule(c).Total() {
			t.Fatalf("%s: schedules differ", name)
		}
		for seq := int64(0); seq < 2000; seq++ {
			ea, eb := a.Endpoint(seq), b.Endpoint(seq)
			ha, va := a.Identity(seq, ea)
			hb, vb := b.Identity(seq, eb)
			if ea != eb || ha != hb || va != vb || !bytes.Equal(a.Body(seq, ea), b.Body(seq, eb)) || a.URL(ea) != b.URL(eb) {
				t.Fatalf("%s: request %d differs after the round trip", name, seq)
			}
		}
	}
}

// Bodies above the scenario file limit survive the hand-over: body_size
// stays a size and a body_file is copied beside the written scenario, so
// the child's file is small and loads.
func TestWriteScenarioKeepsLargeBodies(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.yaml")
	doc := "target: {url: \"http://127.0.0.1:9\"}\nrequests:\n  - {name: a, body_file: big.bin}\n  - {name: b, body_size: 3000000}\nphases: [{rate: 10, duration: 1s}]\n"
	if err := os.WriteFile(src, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := WriteScenario(path, s, "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	c, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Requests {
		if !bytes.Equal(s.Requests[i].BodyBytes, c.Requests[i].BodyBytes) {
			t.Errorf("request %d: body of %d bytes became %d bytes", i, len(s.Requests[i].BodyBytes), len(c.Requests[i].BodyBytes))
		}
	}
}

const outputDoc = `
name: out
target: {url: "http://127.0.0.1:9", timeout: 1s}
requests: [{name: home, weight: 3}, {name: api, path: /api}]
outcomes: {success: ["200-299"], blocked: ["429", "418"]}
phases:
  - {name: warm, rate: 10, duration: 1s, warmup: true}
  - {name: main, rate: 100, duration: 3s}
`

type fakeSamples struct {
	reg  *metrics.Registry
	dur  *metrics.Metric
	drop *metrics.Metric
	t0   time.Time
}

func newFake() *fakeSamples {
	reg := metrics.NewRegistry()
	return &fakeSamples{
		reg:  reg,
		dur:  reg.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time),
		drop: reg.MustNewMetric("dropped_iterations", metrics.Counter),
		t0:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// request is a sample of a request sent at offset `at` that took ms.
func (f *fakeSamples) request(at time.Duration, ms float64, tags ...string) metrics.Sample {
	ts := f.reg.RootTagSet()
	for i := 0; i+1 < len(tags); i += 2 {
		ts = ts.With(tags[i], tags[i+1])
	}
	end := f.t0.Add(at).Add(time.Duration(ms * float64(time.Millisecond)))
	return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: f.dur, Tags: ts}, Time: end, Value: ms}
}

func startOutput(t *testing.T, env map[string]string) (*Output, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	o, err := NewOutput(output.Params{ConfigArgument: path, Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	return o.(*Output), path
}

// The output classifies, attributes and times samples like the vegeta
// engine: phase from the scenario tag, endpoint from the endpoint tag,
// outcome from the scenario's rules, status 0 as a transport error.
func TestOutputFoldsSamples(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	if err := WriteScenario(scen, mustParse(t, outputDoc), "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	o, path := startOutput(t, map[string]string{EnvScenario: scen})
	f := newFake()
	var batch []metrics.Sample
	for i := 0; i < 10; i++ { // warm-up: not measured
		batch = append(batch, f.request(time.Duration(i)*100*time.Millisecond, 50, "scenario", "warm", "status", "200", "endpoint", "home"))
	}
	for i := 0; i < 300; i++ {
		at := time.Second + time.Duration(i)*10*time.Millisecond
		status, endpoint := "200", "home"
		switch {
		case i%10 == 0:
			status = "429"
		case i%25 == 1:
			status = "500"
		case i == 7:
			status = "418" // blocked by this scenario's rules
		}
		if i%4 == 3 {
			endpoint = "api"
		}
		tags := []string{"scenario", "main", "status", status, "endpoint", endpoint}
		if i == 299 {
			tags = []string{"scenario", "main", "status", "0", "error", "dial: connection refused", "error_code", "1212"}
		}
		if i == 298 {
			tags = []string{"scenario", "main", "status", "200", "name", "http://other/x"}
		}
		batch = append(batch, f.request(at, float64(1+i%20), tags...))
	}
	o.AddMetricSamples([]metrics.SampleContainer{metrics.Samples(batch)})
	o.AddMetricSamples([]metrics.SampleContainer{metrics.Sample{
		TimeSeries: metrics.TimeSeries{Metric: f.drop, Tags: f.reg.RootTagSet()}, Time: f.t0, Value: 3}})
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	res, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != "k6" || res.Scenario != "out" {
		t.Errorf("engine %q scenario %q", res.Engine, res.Scenario)
	}
	if got := res.Summary.Requests; got != 300 {
		t.Fatalf("measured requests %d, want 300 (warm-up excluded)", got)
	}
	if p := res.Phase("warm"); p == nil || p.Requests != 10 {
		t.Errorf("warm-up phase: %+v", p)
	}
	// 30 × 429 + 1 × 418 blocked; i%25==1 (12 of them, none also %10==0) → 500; one transport error.
	if res.Summary.BlockedCount != 31 || res.Summary.ErrorCount != 13 {
		t.Errorf("blocked %d errors %d, want 31 and 13", res.Summary.BlockedCount, res.Summary.ErrorCount)
	}
	if res.Summary.Errors["dial: connection refused"] != 1 || res.Summary.Errors["unexpected status 500"] != 12 {
		t.Errorf("errors %v", res.Summary.Errors)
	}
	if res.Generator.DroppedIterations != 3 || !res.Generator.Saturated {
		t.Errorf("generator %+v", res.Generator)
	}
	if ep := res.Endpoint("api"); ep == nil || ep.Requests != 74 { // 75 minus request 299 (untagged transport error)
		t.Errorf("endpoint api: %+v", ep)
	}
	if ep := res.Endpoint("http://other/x"); ep == nil || ep.Requests != 1 {
		t.Errorf("a request outside the scenario's endpoints is its own endpoint: %+v", res.Endpoints)
	}
	if _, ok := res.Histograms.Endpoints["http://other/x"]; !ok {
		t.Error("no histogram for the extra endpoint")
	}
	// Latencies 1..20 ms uniformly: p50 ≈ 10 ms (HDR, 3 digits).
	if p50 := res.Summary.LatencyMs.P50; p50 < 9.9 || p50 > 11.1 {
		t.Errorf("p50 %.2f ms", p50)
	}
	if res.Summary.LatencyMs != res.Summary.ServiceLatencyMs {
		t.Error("k6 latency is service latency: both must be equal")
	}
	// Due times: the main phase starts 1 s after the run start → intervals 1, 2, 3.
	if len(res.Intervals) != 3 || res.Intervals[0].TS != 1 || res.Intervals[0].Requests != 100 {
		t.Errorf("intervals %+v", res.Intervals)
	}
}

// Without a scenario, phases come from the script's own k6 scenarios and
// endpoints from the tags; outcomes are the defaults.
func TestOutputWithoutScenario(t *testing.T) {
	firstLoaded.Store(nil)
	o, path := startOutput(t, nil)
	f := newFake()
	var batch []metrics.Sample
	for i := 0; i < 100; i++ {
		status := "200"
		if i%5 == 0 {
			status = "403"
		}
		batch = append(batch, f.request(time.Duration(i)*10*time.Millisecond, 5, "status", status, "endpoint", []string{"x", "y"}[i%2]))
	}
	o.AddMetricSamples([]metrics.SampleContainer{metrics.Samples(batch)})
	if err := o.StopWithTestError(nil); err != nil {
		t.Fatal(err)
	}
	res, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests != 100 || res.Summary.BlockRate != 0.2 {
		t.Errorf("requests %d block rate %g", res.Summary.Requests, res.Summary.BlockRate)
	}
	if len(res.Endpoints) != 2 || res.Endpoint("x").Requests != 50 {
		t.Errorf("endpoints %+v", res.Endpoints)
	}
}

// Memory stays flat however many samples arrive: fold 600k requests over
// 10 simulated minutes and compare the live heap with a tenth of that.
func TestOutputMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	if err := WriteScenario(scen, mustParse(t, strings.Replace(outputDoc, "duration: 3s", "duration: 600s", 1)), "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	o, _ := startOutput(t, map[string]string{EnvScenario: scen})
	f := newFake()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	feed := func(from, to int) {
		batch := make([]metrics.Sample, 0, 1000)
		for i := from; i < to; i++ {
			batch = append(batch, f.request(time.Second+time.Duration(i)*time.Millisecond, float64(1+i%50), "scenario", "main", "status", "200", "endpoint", "home"))
			if len(batch) == cap(batch) {
				o.AddMetricSamples([]metrics.SampleContainer{metrics.Samples(batch)})
				o.flush()
				batch = make([]metrics.Sample, 0, 1000)
			}
		}
	}
	feed(0, 60_000)
	after1 := heap()
	feed(60_000, 600_000)
	after10 := heap()
	// Each closed one-second interval keeps a few hundred bytes; 540 more
	// seconds may add well under 2 MB. A per-sample slice would add ~40 MB.
	if grow := int64(after10) - int64(after1); grow > 2<<20 {
		t.Errorf("heap grew by %d KiB from 60k to 600k samples", grow>>10)
	}
	_ = o.Stop()
}
