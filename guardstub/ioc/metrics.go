package ioc

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are registered on a registry of the Service's own, so two services in
// one process (tests, guard + IOC) never collide.
//
// cache_hits_total and cache_requests_total carry no ioc_ prefix: they are the
// names the bundled guard exports too, so the seed's PromQL
// rate(cache_hits_total[5m]) / rate(cache_requests_total[5m]) gives the hit rate
// of either service. Both carry the constant label service="ioc" (the guard's
// say service="guard"), so a Prometheus scraping both keeps them apart and
// sum without (service) still adds them up. One cache request is one
// (provider, IOC) lookup.
type metrics struct {
	registry *prometheus.Registry

	analyses        *prometheus.CounterVec // ioc_analyses_total{type,reputation}
	partial         prometheus.Counter     // ioc_partial_results_total
	rejected        prometheus.Counter     // ioc_rejected_total
	requests        *prometheus.CounterVec // ioc_http_requests_total{handler,code}
	requestDuration *prometheus.HistogramVec
	analysis        *prometheus.HistogramVec // ioc_analysis_duration_seconds{type}

	cacheHits      prometheus.Counter
	cacheRequests  prometheus.Counter
	cacheEvictions prometheus.Counter
	coalesced      *prometheus.CounterVec

	providerCalls     *prometheus.CounterVec // attempts sent to a provider
	providerErrors    *prometheus.CounterVec // failed attempts, reason error|timeout
	rateLimitHits     *prometheus.CounterVec
	retries           *prometheus.CounterVec
	breakerRejections *prometheus.CounterVec
	breakerState      *prometheus.GaugeVec

	mcpSessions        prometheus.Gauge       // ioc_mcp_sessions: slots held (open or initializing)
	mcpSessionsRefused *prometheus.CounterVec // ioc_mcp_sessions_refused_total{limit}
}

// durationBuckets span a cached analysis (~10 µs) to a large batch at the
// seed's latency (minutes).
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200}

// serviceLabel tells this service's cache metrics from the guard's, which
// share their names.
var serviceLabel = prometheus.Labels{"service": "ioc"}

func newMetrics(cacheEntries func() float64) *metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		registry: reg,
		analyses: f("ioc_analyses_total", "IOCs analysed, by type and merged reputation.", "type", "reputation"),
		partial: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_partial_results_total",
			Help: "IOC results missing at least one provider (failed, rate-limited or circuit open)."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_rejected_total",
			Help: "Input items rejected as not an IOC."}),
		requests: f("ioc_http_requests_total", "HTTP requests by handler and status code.", "handler", "code"),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ioc_request_duration_seconds",
			Help: "Time to answer /analyze, /batch and MCP tool calls (injected clock).", Buckets: durationBuckets}, []string{"handler"}),
		analysis: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ioc_analysis_duration_seconds",
			Help: "Time to analyse one IOC across its providers (injected clock).", Buckets: durationBuckets}, []string{"type"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "cache_hits_total",
			Help: "Provider-result cache hits (one lookup per provider and IOC).", ConstLabels: serviceLabel}),
		cacheRequests: prometheus.NewCounter(prometheus.CounterOpts{Name: "cache_requests_total",
			Help: "Provider-result cache lookups.", ConstLabels: serviceLabel}),
		cacheEvictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_cache_evictions_total",
			Help: "Cache entries evicted because CACHE_MAX_SIZE was reached."}),
		coalesced:         f("ioc_cache_coalesced_total", "Lookups that shared an identical in-flight provider call.", "provider"),
		providerCalls:     f("ioc_provider_calls_total", "Attempts sent to a simulated provider.", "provider"),
		providerErrors:    f("ioc_provider_errors_total", "Failed provider attempts, by reason (error, timeout).", "provider", "reason"),
		rateLimitHits:     f("ioc_provider_rate_limit_hits_total", "Provider calls refused by the client-side rate limit.", "provider"),
		retries:           f("ioc_provider_retries_total", "Provider attempts that were retries.", "provider"),
		breakerRejections: f("ioc_circuit_breaker_rejections_total", "Provider calls refused by an open circuit breaker.", "provider"),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ioc_circuit_breaker_state",
			Help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open."}, []string{"provider"}),
		mcpSessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ioc_mcp_sessions",
			Help: "MCP sessions open or being initialized (each holds a slot of MCP_MAX_SESSIONS)."}),
		mcpSessionsRefused: f("ioc_mcp_sessions_refused_total",
			"New MCP sessions refused, by the limit reached (total = MCP_MAX_SESSIONS, per_client = MCP_MAX_SESSIONS_PER_CLIENT).", "limit"),
	}
	reg.MustRegister(
		m.analyses, m.partial, m.rejected, m.requests, m.requestDuration, m.analysis,
		m.cacheHits, m.cacheRequests, m.cacheEvictions, m.coalesced,
		m.providerCalls, m.providerErrors, m.rateLimitHits, m.retries, m.breakerRejections, m.breakerState,
		m.mcpSessions, m.mcpSessionsRefused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ioc_cache_entries", Help: "Entries in the provider-result cache."}, cacheEntries),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	m.mcpSessionsRefused.WithLabelValues("total")
	m.mcpSessionsRefused.WithLabelValues("per_client")
	for p := range numProviders {
		l := p.label()
		m.providerCalls.WithLabelValues(l)
		m.rateLimitHits.WithLabelValues(l)
		m.breakerState.WithLabelValues(l)
	}
	return m
}
