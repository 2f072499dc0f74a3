package scenarios

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

func phase(t *testing.T, yamlPhase string) *Phase {
	t.Helper()
	s, err := Parse("p.yaml", "", []byte("target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases:\n  - "+yamlPhase+"\n"))
	if err != nil {
		t.Fatalf("parse %s: %v", yamlPhase, err)
	}
	return &s.Phases[0]
}

func TestPhasePlannedAndDue(t *testing.T) {
	cases := []struct {
		phase   string
		planned int64
		peak    float64
	}{
		{"{kind: constant, rate: 100, duration: 10s}", 1000, 100},
		{"{kind: ramp, from: 0, to: 100, duration: 10s}", 500, 100},  // ∫ = 100·10/2
		{"{kind: ramp, from: 100, to: 300, duration: 2s}", 400, 300}, // (100+300)/2·2
		{"{kind: step, from: 100, to: 300, steps: 3, duration: 3s}", 600, 300},
		{"{kind: sine, rate: 100, amplitude: 50, period: 10s, duration: 10s}", 1000, 150}, // full periods integrate to the mean
		{"{kind: burst, rate: 10, burst_rate: 100, burst_every: 5s, burst_duration: 1s, duration: 10s}", 2*100 + 8*10, 100},
	}
	for _, c := range cases {
		p := phase(t, c.phase)
		if got := p.Planned(); got != c.planned {
			t.Errorf("%s: planned %d, want %d", c.phase, got, c.planned)
		}
		if got := p.PeakRate(); got != c.peak {
			t.Errorf("%s: peak %v, want %v", c.phase, got, c.peak)
		}
		// Due times are non-decreasing, start at 0 and stay inside the phase.
		var prev time.Duration
		for i := int64(0); i < p.Planned(); i++ {
			d := p.Due(i)
			if d < prev || d >= p.Duration.D() {
				t.Fatalf("%s: due(%d) = %s after %s (phase %s)", c.phase, i, d, prev, p.Duration.D())
			}
			prev = d
		}
		// Hits(Due(i)) = i: the schedule inverts the integral.
		for _, i := range []int64{1, p.Planned() / 2, p.Planned() - 1} {
			if h := p.Hits(p.Due(i)); math.Abs(h-float64(i)) > 1e-3 {
				t.Errorf("%s: Hits(Due(%d)) = %v", c.phase, i, h)
			}
		}
	}
}

func TestRampRateAt(t *testing.T) {
	p := phase(t, "{kind: ramp, from: 100, to: 300, duration: 2s}")
	if r := p.RateAt(time.Second); math.Abs(r-200) > 1e-9 {
		t.Errorf("rate at 1s = %v, want 200", r)
	}
}

func TestClassify(t *testing.T) {
	s, err := Parse("c.yaml", "", []byte(`target: {url: "http://127.0.0.1:1"}
requests: [{name: a}]
outcomes: {success: ["200-299", "404"], blocked: [429, "418"]}
phases: [{rate: 1, duration: 1s}]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		status int
		terr   bool
		want   results.Outcome
	}{
		{200, false, results.OutcomeSuccess},
		{404, false, results.OutcomeSuccess},
		{429, false, results.OutcomeBlocked},
		{418, false, results.OutcomeBlocked},
		{403, false, results.OutcomeError}, // not in this scenario's blocked list
		{302, false, results.OutcomeError},
		{500, false, results.OutcomeError},
		{0, true, results.OutcomeError},
	}
	for _, c := range cases {
		if got := s.Outcomes.Classify(c.status, c.terr); got != c.want {
			t.Errorf("classify(%d, %v) = %v, want %v", c.status, c.terr, got, c.want)
		}
	}
	var def Outcomes
	if def.Classify(403, false) != results.OutcomeBlocked || def.Classify(301, false) != results.OutcomeSuccess || def.Classify(503, false) != results.OutcomeError {
		t.Error("default classification: want 403 blocked, 3xx success, 5xx error")
	}
}

func TestParseErrorsNameLineAndField(t *testing.T) {
	base := "target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\n"
	cases := []struct{ doc, want string }{
		{"requests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n", "target"},
		{base + "phases:\n  - {kind: sine, rate: 10, amplitude: 20, period: 1s, duration: 2s}\n", "line 4: phases[0].amplitude"},
		{base + "phases:\n  - {kind: step, from: 1, to: 5, steps: 1, duration: 2s}\n", "line 4: phases[0].steps"},
		{base + "phases:\n  - {kind: burst, rate: 1, burst_rate: 5, burst_every: 1s, burst_duration: 2s, duration: 2s}\n", "phases[0].burst_duration"},
		{base + "phases: []\n", "phases: at least one phase"},
		{base + "phases:\n  - {rate: 1, duration: 1s, warmup: true}\n", "every phase is a warm-up"},
		{"target: {url: \"ftp://x\"}\nrequests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n", "line 1: target.url"},
		{"target: {service: nginx}\nrequests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n", "target.service"},
		{"target: {url: \"http://h\"}\nrequests:\n  - {name: a, method: FETCH}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].method"},
		{"target: {url: \"http://h\"}\nrequests:\n  - {name: a, body: x, body_size: 3}\nphases: [{rate: 1, duration: 1s}]\n", "requests[0].body"},
		{"target: {url: \"http://h\"}\nrequests:\n  - {name: a, kind: mcp}\nphases: [{rate: 1, duration: 1s}]\n", "requests[0].tool"},
		{"target: {url: \"http://h\"}\nrequests: [{name: a}, {name: a}]\nphases: [{rate: 1, duration: 1s}]\n", "duplicate request name"},
		{"target: {url: \"http://h\"}\nrequests: [{name: a}]\noutcomes: {blocked: [\"4xx\"]}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: outcomes.blocked"},
		{"target: {url: \"http://h\"}\nrequests: [{name: a, wieght: 3}]\nphases: [{rate: 1, duration: 1s}]\n", "line 2: unknown field \"wieght\""},
		{"", "empty scenario"},
	}
	for _, c := range cases {
		_, err := Parse("s.yaml", "", []byte(c.doc))
		if err == nil {
			t.Errorf("no error for:\n%s", c.doc)
			continue
		}
		if !strings.HasPrefix(err.Error(), "s.yaml") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %q: want it to start with the file and mention %q", err, c.want)
		}
	}
}

func TestBuiltinsLoad(t *testing.T) {
	list := List()
	if len(list) == 0 {
		t.Fatal("no built-in scenarios")
	}
	for _, b := range list {
		if b.Err != nil {
			t.Errorf("built-in %s: %v", b.Name, b.Err)
		}
		if b.Description == "" {
			t.Errorf("built-in %s has no description", b.Name)
		}
	}
	if _, err := Resolve("no-such-scenario"); err == nil {
		t.Error("unknown built-in resolved")
	}
}

func TestAdhocAndOverrides(t *testing.T) {
	s, err := Adhoc("http://127.0.0.1:9000/", 500, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Phases[0].Planned() != 5000 || s.Requests[0].Method != "GET" {
		t.Errorf("adhoc: %+v", s.Phases[0])
	}
	b, err := Builtin("echo-smoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.OverrideLoad(50, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(b.Phases) != 1 || b.Phases[0].Planned() != 100 {
		t.Errorf("override: %+v", b.Phases)
	}
	if _, err := Adhoc("not a url", 1, time.Second); err == nil {
		t.Error("adhoc accepted a bad URL")
	}
}

// FuzzParse feeds the loader arbitrary documents; its seed corpus
// (testdata/fuzz/FuzzParse) holds every built-in scenario and the inputs
// that once blew up. Whatever loads must be affordable: bounded counts,
// bodies and schedule, and parsing itself allocates little beyond the
// bodies it was asked for.
func FuzzParse(f *testing.F) {
	f.Add([]byte("target: {url: \"http://127.0.0.1:1\"}\nrequests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n"))
	f.Add([]byte("target: {service: echo}\nrequests: [{name: a, generate: {min: 1, max: 3}}]\nphases: [{kind: sine, rate: 5, amplitude: 2, period: 1s, duration: 2s}]\n"))
	f.Add([]byte("phases: [{kind: burst}]"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := Parse("fuzz.yaml", dir, data)
		runtime.ReadMemStats(&after)
		// yaml.v3 costs a few hundred bytes per node (a node per 2 bytes at
		// worst); beyond that only the bodies the scenario asks for.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(MaxTotalBodyBytes+4<<20+1000*len(data)) {
			t.Fatalf("parsing %d bytes allocated %d MiB", len(data), alloc>>20)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(s.Requests) > MaxRequests || len(s.Phases) > MaxPhases {
			t.Fatalf("%d requests, %d phases loaded", len(s.Requests), len(s.Phases))
		}
		bodies := 0
		for i := range s.Requests {
			bodies += len(s.Requests[i].BodyBytes)
		}
		if bodies > MaxTotalBodyBytes {
			t.Fatalf("bodies of %d bytes loaded", bodies)
		}
		// A scenario that loads has a finite, positive, bounded schedule,
		// and the due time of its last request is inside its phase.
		var total int64
		var length time.Duration
		for i := range s.Phases {
			p := &s.Phases[i]
			n := p.Planned()
			if n < 1 {
				t.Fatalf("phase %d plans %d requests", i, n)
			}
			if due := p.Due(n - 1); due < 0 || due > p.Duration.D() {
				t.Fatalf("phase %d: last request due at %s of %s", i, due, p.Duration.D())
			}
			total += n
			length += p.Duration.D()
		}
		if total > MaxPlanned || length > MaxDuration {
			t.Fatalf("schedule of %d requests over %s loaded", total, length)
		}
	})
}

// The closed forms of Due (step, burst) and Newton's method (sine) give the smallest t with
// Hits(t) = i, as a bisection of Hits does (to its 100 ns tolerance),
// including a burst profile with nothing between bursts (Hits flat).
func TestDueClosedFormsMatchBisection(t *testing.T) {
	bisect := func(p *Phase, i int64) time.Duration {
		lo, hi := 0.0, p.Duration.D().Seconds()
		for range 64 {
			mid := (lo + hi) / 2
			if p.Hits(time.Duration(mid*float64(time.Second))) < float64(i) {
				lo = mid
			} else {
				hi = mid
			}
			if hi-lo < 1e-8 {
				break
			}
		}
		return time.Duration(hi * float64(time.Second))
	}
	for _, spec := range []string{
		"{kind: step, from: 10, to: 1000, steps: 5, duration: 10s}",
		"{kind: step, from: 1000, to: 10, steps: 7, duration: 13s}",
		"{kind: step, from: 3.3, to: 7.7, steps: 10000, duration: 100s}",
		"{kind: burst, rate: 100, burst_rate: 5000, burst_every: 3s, burst_duration: 500ms, duration: 20s}",
		"{kind: burst, rate: 0, burst_rate: 700, burst_every: 2s, burst_duration: 300ms, duration: 11s}",
		"{kind: burst, rate: 3, burst_rate: 7, burst_every: 1s, burst_duration: 1s, duration: 5s}",
		"{kind: sine, rate: 5000, amplitude: 2000, period: 10s, duration: 25s}",
		"{kind: sine, rate: 300, amplitude: 300, period: 2s, duration: 7s}",
		"{kind: sine, rate: 0.5, amplitude: 0.1, period: 1s, duration: 60s}",
		"{kind: sine, rate: 20000, amplitude: 19999, period: 50ms, duration: 3s}",
	} {
		p := phase(t, spec)
		for i := int64(0); i < p.Planned(); i++ {
			if got, want := p.Due(i), bisect(p, i); got-want > 100 || want-got > 100 {
				t.Fatalf("%s: Due(%d) = %v, bisection %v", spec, i, got, want)
			}
		}
	}
}
