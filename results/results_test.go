package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func recordN(rec *Recorder, n int, at func(i int) (due, lat time.Duration), o Outcome) {
	for i := 0; i < n; i++ {
		due, lat := at(i)
		rec.Record(Sample{Due: due, Latency: lat, ServiceLatency: lat, Outcome: o, Status: 200})
	}
}

func TestRecorderScopesAndIntervals(t *testing.T) {
	rec := NewRecorder(Plan{
		Phases: []PhaseSpec{
			{Name: "warm", Warmup: true, Duration: time.Second, Planned: 10},
			{Name: "main", Start: time.Second, Duration: 3 * time.Second, Planned: 300},
		},
		Endpoints:   []string{"a", "b"},
		IntervalLag: time.Second,
	})
	for i := 0; i < 10; i++ {
		rec.Record(Sample{Phase: 0, Due: time.Duration(i) * 100 * time.Millisecond, Latency: time.Second, Outcome: OutcomeSuccess, Status: 200})
	}
	for i := 0; i < 300; i++ {
		s := Sample{Phase: 1, Endpoint: i % 2, Due: time.Second + time.Duration(i)*10*time.Millisecond,
			Latency: time.Duration(1+i%10) * time.Millisecond, Outcome: OutcomeSuccess, Status: 200}
		if i%10 == 0 {
			s.Outcome, s.Status = OutcomeBlocked, 429
		}
		rec.Record(s)
	}
	r := rec.Result(Finish{Scenario: "t", Engine: "test", Elapsed: 4 * time.Second})
	if r.Summary.Requests != 300 {
		t.Errorf("measured requests %d, want 300 (warm-up excluded)", r.Summary.Requests)
	}
	if r.Summary.LatencyMs.Max > 11 {
		t.Errorf("max %v: warm-up latency leaked into the run", r.Summary.LatencyMs.Max)
	}
	if r.Summary.TargetRateRPS != 100 {
		t.Errorf("target rate %v, want 100", r.Summary.TargetRateRPS)
	}
	if r.Summary.BlockRate != 0.1 || r.Summary.StatusCodes["429"] != 30 {
		t.Errorf("block rate %v codes %v", r.Summary.BlockRate, r.Summary.StatusCodes)
	}
	if len(r.Intervals) != 3 {
		t.Fatalf("%d intervals, want 3", len(r.Intervals))
	}
	for _, iv := range r.Intervals {
		if iv.Requests != 100 || iv.Histogram == "" {
			t.Errorf("interval %+v", iv)
		}
	}
	if r.Endpoints[0].Requests != 150 || r.Endpoints[1].Requests != 150 {
		t.Errorf("endpoints %d/%d", r.Endpoints[0].Requests, r.Endpoints[1].Requests)
	}
	if r.Phase("warm").Requests != 10 || !r.Phase("warm").Warmup {
		t.Errorf("warm-up phase %+v", r.Phase("warm"))
	}
	// The encoded run histogram re-percentiles to the summary exactly.
	h, err := DecodeHistogram(r.Histograms.Run.Latency)
	if err != nil {
		t.Fatal(err)
	}
	if got := LatencyFrom(h); got != r.Summary.LatencyMs {
		t.Errorf("decoded %+v != summary %+v", got, r.Summary.LatencyMs)
	}
}

// Merging the histograms of two halves gives the percentiles of the whole:
// results merge exactly (shards, repeated runs), percentiles never average.
func TestHistogramsMergeExactly(t *testing.T) {
	whole, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i*37%5000+1) * time.Microsecond * 10
		recordDuration(whole, d)
		if i%2 == 0 {
			recordDuration(a, d)
		} else {
			recordDuration(b, d)
		}
	}
	ea, _ := EncodeHistogram(a)
	eb, _ := EncodeHistogram(b)
	da, _ := DecodeHistogram(ea)
	db, _ := DecodeHistogram(eb)
	da.Merge(db)
	if LatencyFrom(da) != LatencyFrom(whole) {
		t.Errorf("merged %+v != whole %+v", LatencyFrom(da), LatencyFrom(whole))
	}
}

func TestWriteReadAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: time.Second, Planned: 1}}, Endpoints: []string{"e"}})
	rec.Record(Sample{Latency: time.Millisecond, Outcome: OutcomeSuccess, Status: 200})
	r := rec.Result(Finish{Scenario: "s", Engine: "vegeta", StartedAt: time.Now(), Elapsed: time.Second})
	if err := Write(p, r); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	back, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || back.Summary.Requests != 1 || back.Scenario != "s" {
		t.Errorf("read back %+v", back.Summary)
	}
	for _, bad := range []struct{ doc, want string }{
		{`{"schema": "slogate.result/v2"}`, `"slogate.result/v2"`},
		{`{"summary": {}}`, `no "schema"`},
		{`not json`, "not a JSON result"},
		{`{"schema": "slogate.result/v1", "summary": {"requests": "many"}}`, "malformed"},
	} {
		if _, err := Decode([]byte(bad.doc)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("decode %s: %v, want %q", bad.doc, err, bad.want)
		}
	}
	if err := Write(filepath.Join(dir, "missing", "deeper", "r.json"), r); err != nil {
		t.Errorf("write into a new directory: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schema": "slogate.result/v1", "summary": {"requests": 3}}`))
	f.Add([]byte(`{"schema": "slogate.result/v1", "histograms": {"run": {"latency": "HISTFAAAA"}}}`))
	f.Add([]byte(`{"schema": "slogate.result/v1", "server": {"targets": [{"url": "http://127.0.0.1:1/metrics", "job": "guard", "scrapes": 2, "times_ms": [1, 2]}],
		"series": [{"target": 0, "labels": {"__name__": "up"}, "values": [1, null]}, {"target": 0, "labels": {"__name__": "x"}, "values": ["NaN", "+Inf"]}]}}`))
	// testdata/fuzz/FuzzDecode holds recorded results (one with errors,
	// blocks and several phases) to mutate from.
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			return
		}
		// What Decode accepts is valid: schema, counts, rates, histograms.
		if r.Schema != Schema {
			t.Fatalf("accepted schema %q", r.Schema)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid result: %v", err)
		}
		s := &r.Summary
		if s.SuccessCount+s.BlockedCount+s.ErrorCount != s.Requests || s.ErrorRate < 0 || s.ErrorRate > 1 {
			t.Fatalf("accepted inconsistent counts: %+v", s)
		}
		for _, enc := range []string{r.Histograms.Run.Latency, r.Histograms.Run.ServiceLatency, r.Histograms.Run.Lateness} {
			if _, err := DecodeHistogram(enc); err != nil {
				t.Fatalf("accepted a histogram that does not decode: %v", err)
			}
		}
		var text strings.Builder
		if err := WriteText(&text, r); err != nil {
			t.Fatal(err)
		}
		// What was accepted survives a write and a read.
		back, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(back); err != nil {
			t.Fatalf("re-encoded result refused: %v", err)
		}
	})
}

// A hand-edited or damaged result is refused on read with the file and the
// field named, before anything is judged or drawn from it.
func TestReadValidates(t *testing.T) {
	dir := t.TempDir()
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: 2 * time.Second, Planned: 4}}, Endpoints: []string{"e"}})
	for i := 0; i < 4; i++ {
		o := OutcomeSuccess
		if i == 3 {
			o = OutcomeError
		}
		rec.Record(Sample{Due: time.Duration(i) * time.Second / 2, Latency: time.Millisecond, Outcome: o, Status: 200})
	}
	good := rec.Result(Finish{Scenario: "s", Engine: "vegeta", StartedAt: time.Now(), Elapsed: 2 * time.Second})
	other := hdrhistogram.New(1, 1<<62, 5) // a geometry whose counts array is ~50 MB
	_ = other.RecordValue(7)
	wide, err := other.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(r *Result)
		want string
	}{
		{func(r *Result) { r.Summary.Requests = -5 }, "summary.requests: -5 is negative"},
		{func(r *Result) { r.Summary.ErrorCount = 0 }, "summary.requests: 4, but success_count+blocked_count+error_count = 3"},
		{func(r *Result) { r.Summary.ErrorRate = 0 }, "summary.error_rate: 0, but the counts give 0.25"},
		{func(r *Result) { r.Summary.SuccessRate = 1.5 }, "summary.success_rate: 1.5 is not a fraction 0..1"},
		{func(r *Result) { r.Phases[0].BlockRate = -0.1 }, "phases[0].block_rate"},
		{func(r *Result) { r.Endpoints[0].LatencyMs.P99 = -1 }, "endpoints[0].latency_ms.p99: -1"},
		{func(r *Result) { r.Summary.StatusCodes["200"] = -3 }, `summary.status_codes["200"]: -3 is negative`},
		{func(r *Result) { r.Intervals[0].Errors = -1 }, "intervals[0].errors: -1 is negative"},
		{func(r *Result) { r.Intervals[1].TS = 1 << 30 }, "intervals[1].t_s: 1073741824 lies outside 0..8640000 s"},
		{func(r *Result) { r.Intervals[0].Histogram = "HISTFAAAA" }, "intervals[0].histogram: decoding histogram"},
		{func(r *Result) { r.Histograms.Run.Latency = "not base64!" }, "histograms.run.latency: decoding histogram"},
		{func(r *Result) { r.Histograms.Phases["p"] = HistogramSet{Lateness: string(wide)} }, `histograms.phases["p"].lateness: decoding histogram: histogram geometry 1..4611686018427387904`},
		{func(r *Result) { r.DurationS = -2 }, "duration_s: -2"},
		{func(r *Result) { r.SLO = &SLOReport{Verdict: "passed"} }, `slo.verdict: "passed"`},
	} {
		var r Result
		data, _ := json.Marshal(good)
		if err := json.Unmarshal(data, &r); err != nil { // a deep copy
			t.Fatal(err)
		}
		c.edit(&r)
		p := filepath.Join(dir, "edited.json")
		if err := Write(p, &r); err != nil {
			t.Fatal(err)
		}
		_, err := Read(p)
		if err == nil || !strings.Contains(err.Error(), "edited.json") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("read: %v, want the file and %q", err, c.want)
		}
	}
	p := filepath.Join(dir, "good.json")
	if err := Write(p, good); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); err != nil {
		t.Errorf("a recorded result is refused: %v", err)
	}
}

// A writer killed mid-write (kill -9) leaves .NAME.slogate-tmp-PID-N behind;
// the next write to that directory removes leftovers of dead processes and
// old ones, and nothing else.
func TestWriteRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	const deadPID = 1<<31 - 1 // above any pid_max: no such process
	touch := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{half"), 0o644); err != nil {
			t.Fatal(err)
		}
		if age > 0 {
			old := time.Now().Add(-age)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	dead := touch(fmt.Sprintf(".r.json.slogate-tmp-%d-123", deadPID), 0)
	deadOther := touch(fmt.Sprintf(".other.html.slogate-tmp-%d-9", deadPID), 0)
	aged := touch(".r.json.slogate-tmp-1-77", 48*time.Hour) // pid 1 lives, but a day old
	live := touch(".r.json.slogate-tmp-1-78", 0)            // a live writer's file
	own := touch(fmt.Sprintf(".r.json.slogate-tmp-%d-5", os.Getpid()), 0)
	foreign := touch(".r.json.tmp-4242", 48*time.Hour) // not ours: never touched
	user := touch(fmt.Sprintf("notes.slogate-tmp-%d-1", deadPID), 0)

	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: time.Second, Planned: 1}}})
	rec.Record(Sample{Latency: time.Millisecond, Outcome: OutcomeSuccess, Status: 200})
	if err := Write(filepath.Join(dir, "r.json"), rec.Result(Finish{Scenario: "s", Elapsed: time.Second})); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dead, deadOther, aged} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s not removed (%v)", filepath.Base(p), err)
		}
	}
	for _, p := range []string{live, own, foreign, user, filepath.Join(dir, "r.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
}

// Runs merged one after another (--repeat) keep whole seconds between them,
// so their intervals reach past the summed duration: still a valid result.
func TestMergedRepeatsReadBack(t *testing.T) {
	var runs []*Result
	for i := 0; i < 3; i++ {
		rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: 2100 * time.Millisecond, Planned: 21}}})
		recordN(rec, 21, func(i int) (time.Duration, time.Duration) {
			return time.Duration(i) * 100 * time.Millisecond, time.Millisecond
		}, OutcomeSuccess)
		runs = append(runs, rec.Result(Finish{Scenario: "s", Engine: "vegeta", Elapsed: 2100 * time.Millisecond}))
	}
	agg, err := MergeSequential(runs)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "merged.json")
	if err := Write(p, agg); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); err != nil {
		t.Errorf("merged result refused: %v (last interval t_s %d, duration %g s)", err, agg.Intervals[len(agg.Intervals)-1].TS, agg.DurationS)
	}
}
