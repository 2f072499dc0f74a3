package ioc

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestMetrics(t *testing.T) {
	cfg := testConfig()
	cfg.MaxWorkers = 1
	_, srv, _ := startService(t, cfg)
	analyzeOK(t, srv, `{"iocs": ["8.8.8.8", "m1.com", "m2.com", "m3.com", "m4.com", "bad!"]}`) // VirusTotal: 4 allowed, 1 limited
	analyzeOK(t, srv, `{"iocs": ["8.8.8.8"]}`)                                                 // all cache hits

	fams := scrape(t, srv)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ioc_analyses_total", nil, 6},
		{"ioc_analyses_total", map[string]string{"type": "domain"}, 4},
		{"ioc_rejected_total", nil, 1},
		{"ioc_partial_results_total", nil, 1},
		{"cache_requests_total", nil, 4 + 4*2 + 4},
		{"cache_hits_total", nil, 4},
		{"ioc_provider_calls_total", map[string]string{"provider": "virustotal"}, 4},
		{"ioc_provider_calls_total", map[string]string{"provider": "ipinfo"}, 1},
		{"ioc_provider_rate_limit_hits_total", map[string]string{"provider": "virustotal"}, 1},
		{"ioc_provider_rate_limit_hits_total", map[string]string{"provider": "otx"}, 0},
		{"ioc_http_requests_total", map[string]string{"handler": "analyze", "code": "200"}, 2},
		{"ioc_analysis_duration_seconds", nil, 6},
		{"ioc_request_duration_seconds", map[string]string{"handler": "analyze"}, 2},
		{"ioc_circuit_breaker_state", map[string]string{"provider": "otx"}, 0},
		{"ioc_cache_entries", nil, 4 + 3 + 4}, // 8.8.8.8 x4, VirusTotal for m1-m3 (m4 limited), OTX x4
	} {
		if got := metricValue(fams, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if f := fams["ioc_analysis_duration_seconds"]; f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		t.Error("ioc_analysis_duration_seconds is not a histogram")
	}
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("missing %s (process/Go collectors)", name)
		}
	}
}

// TestCacheMetricsCarryServiceLabel: the guard exports cache_hits_total and
// cache_requests_total too, so the IOC service's carry service="ioc" and a
// Prometheus scraping both can tell them apart (the names stay the seed's).
func TestCacheMetricsCarryServiceLabel(t *testing.T) {
	_, srv, _ := startService(t, testConfig())
	analyzeOK(t, srv, `{"iocs": ["8.8.8.8"]}`)
	analyzeOK(t, srv, `{"iocs": ["8.8.8.8"]}`)
	fams := scrape(t, srv)
	for _, tt := range []struct {
		name string
		want float64
	}{
		{"cache_requests_total", 8},
		{"cache_hits_total", 4},
	} {
		f, ok := fams[tt.name]
		if !ok {
			t.Errorf("%s: missing from /metrics", tt.name)
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Errorf("%s: %d series, want 1", tt.name, len(f.GetMetric()))
			continue
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		if len(labels) != 1 || labels[0] != "service=ioc" {
			t.Errorf("%s labels = %v, want [service=ioc]", tt.name, labels)
		}
		if got := metricValue(fams, tt.name, map[string]string{"service": "ioc"}); got != tt.want {
			t.Errorf(`%s{service="ioc"} = %v, want %v`, tt.name, got, tt.want)
		}
	}
}
