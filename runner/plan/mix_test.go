package plan

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/scenarios"
)

// bigScenario writes a scenario with the given numbers of request entries
// (each with its own large clients block) and phases.
func bigScenario(requests, phases int) []byte {
	var b strings.Builder
	b.WriteString("target: {url: \"http://127.0.0.1:1\"}\nclients: {count: 65536}\nrequests:\n")
	for i := range requests {
		fmt.Fprintf(&b, "  - {name: r%d, path: /p%d, weight: %d, headers: {X-A: b}, clients: {count: 65536}}\n", i, i, i%7+1)
	}
	b.WriteString("phases:\n")
	for i := range phases {
		fmt.Fprintf(&b, "  - {name: p%d, kind: step, from: 1, to: 100, steps: 10000, duration: 10m}\n", i)
	}
	return []byte(b.String())
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// What an engine builds before the first request (mix, schedule, the
// recorder's histograms per endpoint and phase) is bounded by what the
// loader accepts: a 223 KB file of 5000 request entries used to cost
// 2.3 GB (about 0.5 MiB of histograms per entry); now it is refused, and
// the largest accepted scenario costs tens of MiB.
func TestUpFrontCostBounded(t *testing.T) {
	if _, err := scenarios.Parse("big.yaml", "", bigScenario(5000, 1)); err == nil || !strings.Contains(err.Error(), "big.yaml: line 3: requests: 5000 entries, above the limit") {
		t.Fatalf("5000 request entries: %v", err)
	}
	before := heapInUse()
	s, err := scenarios.Parse("big.yaml", "", bigScenario(scenarios.MaxRequests, scenarios.MaxPhases))
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMix(s, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	sched := NewSchedule(s)
	rec := results.NewRecorder(results.Plan{Phases: sched.PhaseSpecs(), Endpoints: mix.Endpoints()})
	// The schedule is computed in O(phases), and request seq's endpoint,
	// identity and due time in O(1) of the mix's size.
	if sched.Total() <= 0 || sched.End() <= 0 {
		t.Fatalf("schedule: %d requests over %s", sched.Total(), sched.End())
	}
	last := sched.Total() - 1
	if due, phase := sched.Due(last); phase != scenarios.MaxPhases-1 || due > sched.End() {
		t.Errorf("last request due at %s in phase %d", due, phase)
	}
	if h, v := mix.Identity(last, mix.Endpoint(last)); h == "" || v == "" {
		t.Error("no client identity")
	}
	used := int64(heapInUse()) - int64(before)
	if used > 100<<20 {
		t.Errorf("the largest accepted scenario costs %d MiB up front, want < 100 MiB", used>>20)
	}
	t.Logf("largest accepted scenario (%d requests, %d phases): %d MiB up front", scenarios.MaxRequests, scenarios.MaxPhases, used>>20)
	runtime.KeepAlive(rec)
}

// The MCP sessions a run opens before the load are bounded over the whole
// scenario, not per request: 64 MCP entries of a million clients each used
// to open 64 × 1000 sessions.
func TestMCPSessionsBoundedPerRun(t *testing.T) {
	var b strings.Builder
	b.WriteString("target: {url: \"http://127.0.0.1:1\"}\nclients: {count: 1000000}\nrequests:\n")
	for i := range scenarios.MaxRequests {
		fmt.Fprintf(&b, "  - {name: m%d, kind: mcp, path: /mcp, tool: t}\n", i)
	}
	b.WriteString("phases: [{rate: 10, duration: 1s}]\n")
	s, err := scenarios.Parse("m.yaml", "", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for e, n := range mcpSessionCounts(s) {
		if n < 1 {
			t.Errorf("request %d opens %d sessions", e, n)
		}
		total += n
	}
	if total > MaxMCPSessions {
		t.Errorf("%d sessions over %d MCP requests, want at most %d", total, scenarios.MaxRequests, MaxMCPSessions)
	}
	// One MCP request with few clients opens one session per client.
	one, err := scenarios.Parse("one.yaml", "", []byte("target: {url: \"http://127.0.0.1:1\"}\nclients: {count: 20}\nrequests: [{name: p}, {name: m, kind: mcp, tool: t}]\nphases: [{rate: 1, duration: 1s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := mcpSessionCounts(one); len(got) != 1 || got[1] != 20 {
		t.Errorf("sessions %v, want map[1:20]", got)
	}
}

// Every identity of block B is 10.B.x.y: the scenario-wide clients (block
// 0) and a request's own clients never share an address.
func TestIdentityBlocksDisjoint(t *testing.T) {
	s, err := scenarios.Parse("b.yaml", "", bigScenario(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMix(s, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for seq := int64(0); seq < 20000; seq++ {
		e := mix.Endpoint(seq)
		_, addr := mix.Identity(seq, e)
		if want := fmt.Sprintf("10.%d.", e+1); !strings.HasPrefix(addr, want) {
			t.Fatalf("request %d on endpoint %d: identity %s, want %s*", seq, e, addr, want)
		}
	}
	if a, b := IdentityAddress(0, scenarios.MaxBlockClients-1), IdentityAddress(1, 0); a == b || a != "10.0.255.255" {
		t.Errorf("last of block 0 %s, first of block 1 %s", a, b)
	}
}

// A request given by path goes under the target's path, keeps the
// target's query and adds its own; user:password@ in the URL is basic
// authentication on every engine (the header is the mix's).
func TestRequestURLJoinsTheTargets(t *testing.T) {
	for _, tc := range []struct{ base, path, want string }{
		{"http://h:1", "/users", "http://h:1/users"},
		{"http://h:1/", "/users", "http://h:1/users"},
		{"http://h:1/v1?key=k", "/users?page=2", "http://h:1/v1/users?key=k&page=2"},
		{"http://h:1/v1/?key=k", "/users", "http://h:1/v1/users?key=k"},
		{"http://h:1?key=k", "/", "http://h:1/?key=k"},
		{"http://h:1/a%2Fb", "/c", "http://h:1/a%2Fb/c"},
	} {
		s := &scenarios.Scenario{Requests: []scenarios.Request{{Name: "r", Method: "GET", Path: tc.path, Weight: 1}}}
		m, err := NewMix(s, tc.base)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.URL(0); got != tc.want {
			t.Errorf("%s + %s = %s, want %s", tc.base, tc.path, got, tc.want)
		}
	}
	s := &scenarios.Scenario{Requests: []scenarios.Request{{Name: "r", Method: "GET", Path: "/", Weight: 1}, {Name: "own", Method: "GET", Path: "/", Weight: 1, Headers: map[string]string{"Authorization": "Bearer t"}}}}
	m, err := NewMix(s, "http://user:p%40ss@h:1")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header(0).Get("Authorization"); got != "Basic dXNlcjpwQHNz" { // user:p@ss
		t.Errorf("Authorization %q, want basic authentication of user:p@ss", got)
	}
	if got := m.Header(1).Get("Authorization"); got != "Bearer t" {
		t.Errorf("a request's own Authorization became %q", got)
	}
}
