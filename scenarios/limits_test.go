package scenarios

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// loadErr parses doc and returns its error text ("" when it loads).
func loadErr(t *testing.T, doc string) string {
	t.Helper()
	_, err := Parse("x.yaml", "", []byte(doc))
	if err == nil {
		return ""
	}
	return err.Error()
}

const okTarget = "target: {url: \"http://127.0.0.1:1\"}\n"

// A step phase's Hits is closed-form: steps: 2000000000 used to loop two
// billion times per call (and 64 calls per request in Due).
func TestStepHitsClosedForm(t *testing.T) {
	p := Phase{Kind: "step", From: 10, To: 1000, Steps: 2_000_000_000, Duration: Duration(10 * time.Second)}
	brute := func(p *Phase, x float64) float64 {
		d := p.Duration.D().Seconds()
		stage := d / float64(p.Steps)
		total := 0.0
		for k := 0; k < p.Steps && x > 0; k++ {
			span := math.Min(x, stage)
			total += span * (p.From + (p.To-p.From)*float64(k)/float64(p.Steps-1))
			x -= span
		}
		return total
	}
	small := Phase{Kind: "step", From: 100, To: 300, Steps: 7, Duration: Duration(3 * time.Second)}
	for _, x := range []float64{0, 0.1, 0.4285, 0.5, 1.2857142857, 2, 2.99, 3} {
		got, want := small.Hits(time.Duration(x*float64(time.Second))), brute(&small, x)
		if math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("Hits(%gs) = %v, want %v", x, got, want)
		}
	}
	// Two billion stages: the integral is the mean of from and to times D
	// (within one stage's worth), computed without walking the stages.
	if got, want := p.Hits(p.Duration.D()), (p.From+p.To)/2*10; math.Abs(got-want) > 1 {
		t.Errorf("Hits(D) = %v, want ≈ %v", got, want)
	}
}

func TestParseRefusesWhatItCannotAfford(t *testing.T) {
	reqs := "requests: [{name: a}]\n"
	many := func(n int, item string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "  - "+item+"\n", i)
		}
		return b.String()
	}
	cases := []struct{ name, doc, want string }{
		{"steps", okTarget + reqs + "phases:\n  - {kind: step, from: 1, to: 5, steps: 2000000000, duration: 2s}\n", "line 4: phases[0].steps: must be >= 2 and at most 10000"},
		{"phase duration", okTarget + reqs + "phases:\n  - {rate: 1, duration: 100000h}\n", "line 4: phases[0].duration: at most 24h"},
		{"total duration", okTarget + reqs + "phases:\n  - {rate: 1, duration: 20h}\n  - {rate: 1, duration: 20h}\n", "line 5: phases[1].duration: the phases last 40h0m0s in all, above the 24h limit"},
		{"period", okTarget + reqs + "phases:\n  - {kind: sine, rate: 5, amplitude: 1, period: 100000h, duration: 2s}\n", "phases[0].period: at most 24h"},
		{"planned", okTarget + reqs + "phases:\n  - {rate: 20000, duration: 12h}\n  - {rate: 20000, duration: 12h}\n", "line 5: phases[1]: the schedule plans 1728000000 requests by this phase, above the 1000000000 limit"},
		{"nan amplitude", okTarget + reqs + "phases:\n  - {kind: sine, rate: 5, amplitude: .nan, period: 1s, duration: 2s}\n", "phases[0].amplitude"},
		{"nan from", okTarget + reqs + "phases:\n  - {kind: ramp, from: .nan, to: 5, duration: 2s}\n", "line 4: phases[0].from: must be >= 0"},
		{"inf rate", okTarget + reqs + "phases:\n  - {rate: .inf, duration: 2s}\n", "phases[0].rate: must be > 0"},
		{"timeout", "target: {url: \"http://127.0.0.1:1\", timeout: 1000h}\n" + reqs + "phases: [{rate: 1, duration: 1s}]\n", "line 1: target.timeout: must be > 0 and at most 1h"},
		{"drain", okTarget + reqs + "generator: {drain: 1000h}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: generator.drain: must be >= 0 and at most 1h"},
		{"max workers", okTarget + reqs + "generator: {max_workers: 1000000000}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: generator.max_workers: must be >= 0 and at most 100000"},
		{"requests", okTarget + "requests:\n" + many(MaxRequests+1, "{name: r%d}") + "phases: [{rate: 1, duration: 1s}]\n", fmt.Sprintf("line 2: requests: %d entries, above the limit of %d", MaxRequests+1, MaxRequests)},
		{"phases", okTarget + reqs + "phases:\n" + many(MaxPhases+1, "{name: p%d, rate: 1, duration: 1s}"), fmt.Sprintf("line 3: phases: %d entries, above the limit of %d", MaxPhases+1, MaxPhases)},
		{"body size", okTarget + "requests:\n  - {name: a, body_size: 100000000}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].body_size: at most 16 MiB"},
		{"generate max", okTarget + "requests:\n  - {name: a, generate: {min: 1, max: 1000000000, hot: 5}}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].generate.max: at most 8192"},
		{"generate min", okTarget + "requests:\n  - {name: a, generate: {min: 9000}}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].generate.min: at most 8192"},
		{"generate hot", okTarget + "requests:\n  - {name: a, generate: {hot: 1000000000}}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].generate.hot: must be >= 0 and at most 8192"},
		{"long name", okTarget + "requests:\n  - {name: " + strings.Repeat("n", 300) + "}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].name: 300 bytes, at most 256"},
		{"long header", okTarget + "requests:\n  - {name: a, headers: {X-A: " + strings.Repeat("v", 9000) + "}}\nphases: [{rate: 1, duration: 1s}]\n", "requests[0].headers: X-A: value of 9000 bytes, at most 8192"},
		{"arguments", okTarget + "requests:\n  - {name: a, kind: mcp, tool: t, arguments: '" + strings.Repeat(" ", 70000) + "{}'}\nphases: [{rate: 1, duration: 1s}]\n", "line 3: requests[0].arguments: 70002 bytes, at most 65536"},
	}
	for _, c := range cases {
		got := loadErr(t, c.doc)
		if !strings.HasPrefix(got, "x.yaml") || !strings.Contains(got, c.want) {
			t.Errorf("%s: error %q, want one naming x.yaml and %q", c.name, got, c.want)
		}
	}
}

// The total body bytes of the mix are bounded, not only each body.
func TestBodiesBoundedInTotal(t *testing.T) {
	var b strings.Builder
	b.WriteString(okTarget + "requests:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  - {name: r%d, body_size: %d}\n", i, 10<<20)
	}
	b.WriteString("phases: [{rate: 1, duration: 1s}]\n")
	want := fmt.Sprintf("requests[6].body_size: the bodies of the mix add up to more than %d MiB", MaxTotalBodyBytes>>20)
	if got := loadErr(t, b.String()); !strings.Contains(got, want) {
		t.Errorf("error %q, want %q", got, want)
	}
}

func TestBodyFileBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxBodyBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	small := filepath.Join(dir, "small.json")
	if err := os.WriteFile(small, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := func(file string) string {
		return okTarget + "requests:\n  - {name: a, body_file: " + file + "}\nphases: [{rate: 1, duration: 1s}]\n"
	}
	cases := []struct{ file, want string }{
		{"/dev/zero", "x.yaml: line 3: requests[0].body_file: /dev/zero is not a regular file"},
		{dir, "is not a regular file"},
		{big, fmt.Sprintf("requests[0].body_file: %s is %d bytes, above the 16 MiB limit", big, MaxBodyBytes+1)},
		{filepath.Join(dir, "missing"), "requests[0].body_file: cannot read body file"},
	}
	for _, c := range cases {
		if got := loadErr(t, doc(c.file)); !strings.Contains(got, c.want) {
			t.Errorf("body_file %s: error %q, want %q", c.file, got, c.want)
		}
	}
	s, err := Parse("x.yaml", "", []byte(doc(small)))
	if err != nil || string(s.Requests[0].BodyBytes) != `{"a":1}` {
		t.Fatalf("small body file: %v", err)
	}
}

func TestScenarioFileBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "above the 1 MiB limit") {
		t.Errorf("big scenario file: %v", err)
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "/dev/zero: is not a regular file") {
		t.Errorf("/dev/zero as scenario: %v", err)
	}
}

// Parsing a scenario at the request-count limit costs little memory: the
// per-entry cost is the entry itself, nothing per entry × clients.
func TestParseMemoryPerEntry(t *testing.T) {
	var b strings.Builder
	b.WriteString(okTarget + "clients: {count: 65536}\nrequests:\n")
	for i := range MaxRequests {
		fmt.Fprintf(&b, "  - {name: r%d, path: /p%d, weight: %d, headers: {X-A: b}, clients: {count: 65536}}\n", i, i, i%7+1)
	}
	b.WriteString("phases: [{rate: 10, duration: 1s}]\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Parse("x.yaml", "", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("parsing %d entries allocated %d MiB, want < 32 MiB", MaxRequests, alloc>>20)
	}
	runtime.KeepAlive(s)
}

// Header names, values and paths that net/http would refuse to send (so
// every request of the run would fail) are refused when the scenario loads.
func TestRequestLineAndHeadersValidated(t *testing.T) {
	doc := func(req string) string {
		return okTarget + "requests:\n  - name: a\n" + req + "phases: [{rate: 1, duration: 1s}]\n"
	}
	cases := []struct{ name, req, want string }{
		{"CR LF in value", "    headers:\n      X-Ok: fine\n      X-Bad: \"a\\r\\nInjected: 1\"\n", "x.yaml: line 6: requests[0].headers: X-Bad: value \"a\\r\\nInjected: 1\" holds a control character"},
		{"NUL in value", "    headers: {X-Bad: \"a\\0b\"}\n", "line 4: requests[0].headers: X-Bad: value"},
		{"space in name", "    headers: {\"X Bad\": v}\n", "line 4: requests[0].headers: invalid header name \"X Bad\""},
		{"colon in name", "    headers: {\"X:Bad\": v}\n", "invalid header name \"X:Bad\""},
		{"non-token name", "    headers: {\"X(Bad)\": v}\n", "invalid header name \"X(Bad)\""},
		{"empty name", "    headers: {\"\": v}\n", "invalid header name \"\""},
		{"clients header", "    clients: {count: 3, header: \"X\\nY\"}\n", "line 4: requests[0].clients.header: invalid header name"},
		{"path without slash", "    path: api\n", "line 4: requests[0].path: must start with /"},
		{"path with space", "    path: /a b\n", "line 4: requests[0].path: \"/a b\": byte 2 is ' '"},
		{"path with CR LF", "    path: \"/a\\r\\nHost: evil\"\n", "requests[0].path: \"/a\\r\\nHost: evil\": byte 2 is '\\r'"},
		{"path with fragment", "    path: /a#b\n", "no #fragment"},
		{"path with bad escape", "    path: /a%zz\n", "line 4: requests[0].path: \"/a%zz\" is not a valid URL path"},
		{"method", "    method: \"GE T\"\n", "line 4: requests[0].method: unknown HTTP method"},
	}
	for _, c := range cases {
		if got := loadErr(t, doc(c.req)); !strings.Contains(got, c.want) {
			t.Errorf("%s: error %q, want %q", c.name, got, c.want)
		}
	}
	s, err := Parse("x.yaml", "", []byte(doc("    path: \"/api/v1/items?id=1&q=a%20b\"\n    headers: {Content-Type: application/json, X-Tab: \"a\\tb\", \"X-Weird_!#$%&'*+.^`|~\": ok}\n")))
	if err != nil {
		t.Fatalf("valid request line and headers refused: %v", err)
	}
	if s.Requests[0].Path != "/api/v1/items?id=1&q=a%20b" {
		t.Errorf("path %q", s.Requests[0].Path)
	}
}

// A scenario file is one YAML document: a second one, valid or not, used
// to be silently ignored.
func TestSecondDocumentRefused(t *testing.T) {
	one := okTarget + "requests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n"
	cases := []struct{ doc, want string }{
		{one + "---\nphases: [{rate: 1000000, duration: 24h}]\n", "x.yaml: line 4: a second YAML document (after ---)"},
		{one + "\n---\n  b: [\n", "x.yaml: line 6: did not find expected node content"},
		{one + "---\n---\nname: x\n", "x.yaml: line 5: a second YAML document"},
	}
	for _, c := range cases {
		if got := loadErr(t, c.doc); !strings.Contains(got, c.want) {
			t.Errorf("error %q, want %q", got, c.want)
		}
	}
	// An explicit start, an end marker, or an empty trailing document is fine.
	for _, doc := range []string{"---\n" + one, one + "...\n", one + "---\n", one + "---\n# nothing\n"} {
		if got := loadErr(t, doc); got != "" {
			t.Errorf("%q: %s", doc, got)
		}
	}
}

// Client blocks never share an identity: block B's addresses are 10.B.x.y,
// so with several blocks each holds at most 65536 (a larger one spilled
// into the next block's addresses).
func TestClientBlocksDoNotOverlap(t *testing.T) {
	cases := []struct{ doc, want string }{
		{okTarget + "clients: {count: 70000}\nrequests:\n  - {name: a}\n  - {name: b, clients: {count: 3}}\nphases: [{rate: 1, duration: 1s}]\n",
			"x.yaml: line 2: clients.count: at most 65536 identities when a request has its own clients block (requests[1].clients)"},
		{okTarget + "requests:\n  - {name: a}\n  - {name: b, clients: {count: 65537}}\nphases: [{rate: 1, duration: 1s}]\n",
			"x.yaml: line 4: requests[1].clients.count: at most 65536 identities per block"},
	}
	for _, c := range cases {
		if got := loadErr(t, c.doc); !strings.Contains(got, c.want) {
			t.Errorf("error %q, want %q", got, c.want)
		}
	}
	// One block may be large: it has the whole 10.0.0.0/8 to itself.
	if got := loadErr(t, okTarget+"clients: {count: 16000000}\nrequests: [{name: a}]\nphases: [{rate: 1, duration: 1s}]\n"); got != "" {
		t.Error(got)
	}
}
