package results

import (
	"strings"
	"testing"
	"time"
)

// A hand-edited server section is refused on read, naming the field.
func TestServerValidated(t *testing.T) {
	ok := func() *Server {
		return &Server{
			Targets: []ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Scrapes: 2, TimesMs: []int64{1, 2}}},
			Series:  []ServerSeries{{Labels: map[string]string{"__name__": "up"}, Values: []ServerValue{{V: 1, Present: true}, {}}}},
		}
	}
	if err := ok().validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Server){
		"negative counts":    func(s *Server) { s.Targets[0].Failures = -1 },
		"does not exist":     func(s *Server) { s.Series[0].Target = 3 },
		"1 values for 2":     func(s *Server) { s.Series[0].Values = s.Series[0].Values[:1] },
		"no __name__ label":  func(s *Server) { delete(s.Series[0].Labels, "__name__") },
		"above the limit of": func(s *Server) { s.Targets[0].TimesMs = make([]int64, MaxServerScrapes+1) },
	}
	for want, spoil := range cases {
		s := ok()
		spoil(s)
		if err := s.validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestServerLines(t *testing.T) {
	r := &Result{Server: &Server{
		Targets: []ScrapeTarget{{URL: "http://127.0.0.1:9/metrics", Job: "guard", IntervalS: 1, Scrapes: 12, Failures: 2, LastError: "HTTP 500"}},
		Summary: &ServerSummary{LatencyHistogram: "ddos_request_duration_seconds", P50Ms: 1.2, P95Ms: 3.4, P99Ms: 5.6, Requests: 1000, MaxRSSMB: 42.5, CPUCores: 0.25, Goroutines: 12},
	}}
	r.Summary.ServiceLatencyMs = Latency{P50: 1.5, P95: 4, P99: 7}
	var b strings.Builder
	writeServerText(&b, r)
	for _, want := range []string{"12 scrapes every 1s, 2 failed (last: HTTP 500)", "p95 3.4", "client service latency p50 1.5", "RSS max 42.5 MiB", "CPU 0.25 cores", "goroutines max 12", "server counted 1000 requests"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
	if ServerLines(&Result{}) != nil {
		t.Error("lines without a server section")
	}
}

// OnInterval sees every second once, as the recorder closes it, with its
// counts, before the result is built.
func TestOnIntervalSeesEverySecond(t *testing.T) {
	var got []Interval
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: 10 * time.Second}}, IntervalLag: time.Second,
		OnInterval: func(iv Interval) { got = append(got, iv) }})
	for i := range 100 {
		rec.Record(Sample{Due: time.Duration(i) * 100 * time.Millisecond, Latency: time.Millisecond, Outcome: OutcomeSuccess})
		if i == 50 { // a late jump closes several seconds at once
			rec.Record(Sample{Due: 9500 * time.Millisecond, Latency: time.Millisecond, Outcome: OutcomeSuccess})
		}
	}
	live := len(got)
	res := rec.Result(Finish{Elapsed: 10 * time.Second})
	var total int64
	for _, iv := range res.Intervals {
		total += iv.Requests
	}
	if total != 101 {
		t.Fatalf("the result's intervals hold %d requests, want 101", total)
	}
	if live < 5 || len(got) != 10 || len(res.Intervals) != 10 {
		t.Fatalf("%d intervals during the run, %d in all, %d in the result", live, len(got), len(res.Intervals))
	}
	seen := map[int]bool{}
	for i, iv := range got {
		if i > 0 && iv.TS <= got[i-1].TS {
			t.Fatalf("second %d after %d: OnInterval must see seconds ascending", iv.TS, got[i-1].TS)
		}
		// (the jump closed seconds 0..7 early: what came later still counts
		// in the result's intervals, not in what was pushed)
		if seen[iv.TS] || iv.Requests < 1 || iv.Requests > 11 || iv.Success != iv.Requests || iv.LatencyMs.P50 < 1 || iv.LatencyMs.P50 > 1.01 {
			t.Fatalf("interval %+v (seen before: %v)", iv, seen[iv.TS])
		}
		seen[iv.TS] = true
	}
}
