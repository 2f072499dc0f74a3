package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			return
		}
		if r.Schema != Schema {
			t.Fatalf("accepted schema %q", r.Schema)
		}
		_, _ = DecodeHistogram(r.Histograms.Run.Latency)
	})
}
