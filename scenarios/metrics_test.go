package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestTargetMetrics(t *testing.T) {
	const phases = "requests: [{path: /}]\nphases: [{rate: 1, duration: 1s}]\n"
	s, err := Parse("m.yaml", ".", []byte("target:\n  url: http://127.0.0.1:1\n  metrics: {urls: [\"http://127.0.0.1:2/metrics\"], interval: 250ms, keep: all}\n  prometheus: http://127.0.0.1:9090\n"+phases))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Target.Metrics
	if len(m.URLs) != 1 || m.Interval.D() != 250*time.Millisecond || m.Keep != "all" || s.Target.Prometheus != "http://127.0.0.1:9090" {
		t.Fatalf("%+v %q", m, s.Target.Prometheus)
	}
	s, err = Parse("m.yaml", ".", []byte("target: {service: guard}\n"+phases))
	if err != nil || s.Target.Metrics.Interval.D() != time.Second || s.Target.Metrics.Keep != "default" {
		t.Fatalf("defaults: %+v %v", s.Target.Metrics, err)
	}
	bad := map[string]string{
		"  metrics: {urls: [\"ftp://x\"]}\n":                           "line 3: target.metrics.urls[0]",
		"  metrics: {urls: [\"http://127.0.0.1:2\"], interval: 1ms}\n": "target.metrics.interval",
		"  metrics: {keep: some}\n":                                    "target.metrics.keep",
		"  metrics: {url: x}\n":                                        "unknown field \"url\"",
		"  prometheus: localhost:9090\n":                               "target.prometheus",
	}
	for yml, want := range bad {
		_, err := Parse("m.yaml", ".", []byte("target:\n  url: http://127.0.0.1:1\n"+yml+phases))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "m.yaml") {
			t.Errorf("%q: %v, want %q", yml, err, want)
		}
	}
}

// --target on a built-in whose bundled service runs isolated: the service,
// its knobs and its process all give way to the URL.
func TestOverrideTargetOfAnIsolatedService(t *testing.T) {
	s, err := Resolve("guard-baseline")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Target.Isolate {
		t.Fatal("guard-baseline no longer isolates its guard: this test needs another built-in")
	}
	if err := s.OverrideTarget("http://127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	if s.Target.Isolate || s.Target.Service != "" || s.Target.Env != nil {
		t.Fatalf("target after --target: %+v", s.Target)
	}
}
