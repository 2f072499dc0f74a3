package guard

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fakeClock is the injected clock: time moves only when a test says so.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 11, 13, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testConfig is DefaultConfig with the model free (tests count evaluations, not
// time) and loopback trusted, so X-Forwarded-For names the simulated client.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.ModelCostIterations = 0
	cfg.TrustedProxies = mustPrefixes("127.0.0.1/32,::1/128")
	return cfg
}

func mustPrefixes(s string) []netip.Prefix {
	p, err := ParsePrefixList(s)
	if err != nil {
		panic(err)
	}
	return p
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testGuard is a guard behind a real loopback server (httptest), forwarding to
// its own demo upstream over loopback unless opts say otherwise.
type testGuard struct {
	t      *testing.T
	g      *Guard
	srv    *httptest.Server
	clock  *fakeClock
	client *http.Client
}

func startGuard(t *testing.T, cfg Config, opts ...Option) *testGuard {
	t.Helper()
	clock := newFakeClock()
	opts = append([]Option{WithClock(clock.Now), WithLogger(quietLog)}, opts...)
	g, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(g)
	tg := &testGuard{t: t, g: g, srv: srv, clock: clock, client: srv.Client()}
	t.Cleanup(func() {
		srv.Close()
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tg
}

// response is what a test needs from an answer.
type response struct {
	status     int
	retryAfter string
	body       string
}

// req sends method path from the simulated client ip (X-Forwarded-For; "" = none)
// with body and optional header pairs.
func (tg *testGuard) req(ip, method, path string, body []byte, headerPairs ...string) response {
	tg.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, tg.srv.URL+path, rd)
	if err != nil {
		tg.t.Fatal(err)
	}
	if ip != "" {
		r.Header.Set("X-Forwarded-For", ip)
	}
	for i := 0; i+1 < len(headerPairs); i += 2 {
		r.Header.Set(headerPairs[i], headerPairs[i+1])
	}
	resp, err := tg.client.Do(r)
	if err != nil {
		tg.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
}

func (tg *testGuard) get(ip, path string) response { return tg.req(ip, http.MethodGet, path, nil) }

// statuses sends n GETs of / from ip, stepping the clock by gap before each, and
// returns the statuses in order.
func (tg *testGuard) statuses(ip string, n int, gap time.Duration) []int {
	tg.t.Helper()
	out := make([]int, n)
	for i := range n {
		tg.clock.Advance(gap)
		out[i] = tg.get(ip, "/").status
	}
	return out
}

// countLeading counts how many statuses at the start equal want.
func countLeading(statuses []int, want int) int {
	for i, s := range statuses {
		if s != want {
			return i
		}
	}
	return len(statuses)
}

func count(statuses []int, want int) int {
	n := 0
	for _, s := range statuses {
		if s == want {
			n++
		}
	}
	return n
}

// scrape parses /metrics with expfmt.
func (tg *testGuard) scrape() map[string]*dto.MetricFamily {
	tg.t.Helper()
	resp, err := tg.client.Get(tg.srv.URL + "/metrics")
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tg.t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// metricValue returns the value of name with the given label pairs (counter,
// gauge, or a histogram's sample count); -1 if absent.
func metricValue(fams map[string]*dto.MetricFamily, name string, labelPairs ...string) float64 {
	mf := fams[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labelPairs); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labelPairs[i] && l.GetValue() == labelPairs[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func bodyOfSize(n int) []byte { return []byte(strings.Repeat("X", n)) }
