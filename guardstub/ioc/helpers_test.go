package ioc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fakeClock is the injected time of the tests: Sleep advances it at once and
// records every positive duration.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 7, 18, 12, 0, 0, 0, time.UTC)}
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

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// testConfig is the defaults with no latency, as unit tests want.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.LatencyScale = 0
	return cfg
}

// startService runs a Service on a loopback httptest server with a fake clock
// (unless opts bring their own).
func startService(t *testing.T, cfg Config, opts ...Option) (*Service, *httptest.Server, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	svc, err := New(cfg, append([]Option{WithClock(clock.Now), WithSleep(clock.Sleep)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		_ = svc.Close()
		srv.Close()
	})
	return svc, srv, clock
}

// post sends body to path and returns status, content type and body.
func post(t *testing.T, srv *httptest.Server, path, contentType, body string) (int, string, []byte) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// analyzeOK posts a JSON body to /analyze and decodes the 200 report.
func analyzeOK(t *testing.T, srv *httptest.Server, body string) Report {
	t.Helper()
	return analyzeAt(t, srv, "/analyze", body)
}

func analyzeAt(t *testing.T, srv *httptest.Server, path, body string) Report {
	t.Helper()
	status, _, b := post(t, srv, path, "application/json", body)
	if status != http.StatusOK {
		t.Fatalf("POST %s %s: status %d: %s", path, body, status, b)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, b)
	}
	return rep
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// scrape parses /metrics with the Prometheus text parser.
func scrape(t *testing.T, srv *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, b)
	}
	return fams
}

// metricValue sums the counter/gauge samples of name whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// counter reads one metric from a Service without HTTP.
func counter(t testing.TB, svc *Service, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := svc.metrics.registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	m := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		m[f.GetName()] = f
	}
	return metricValue(m, name, labels)
}
