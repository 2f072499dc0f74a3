package guard

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// action is what the guard did with a request: the `action` label of
// ddos_requests_total and ddos_request_duration_seconds.
type action uint8

const (
	actionAllowed action = iota
	actionBlocked
	actionRateLimited
	actionChallenged
	numActions
)

var actionNames = [numActions]string{"allowed", "blocked", "rate_limited", "challenged"}

// Reasons of ddos_requests_blocked_total{reason}.
const (
	reasonLabelBlocklist      = "ip_blocklisted"
	reasonLabelTimedBlock     = "blocked"               // a timed block is in force
	reasonLabelViolations     = "rate_limit_violations" // this request started a timed block
	reasonLabelRateLimited    = "rate_limited"          // over the hard cap → 429
	reasonLabelModel          = "ml_detection"          // the risk model started a timed block
	reasonLabelUserAgent      = "suspicious_user_agent"
	reasonLabelBodyTooLarge   = "body_too_large"
	reasonLabelUnknownAddress = "unknown_client"
)

// serviceLabel tells the guard's cache_* series from the IOC service's.
var serviceLabel = prometheus.Labels{"service": "guard"}

// metrics are the guard's Prometheus series, on a registry the instance owns, so
// two guards in one process (tests) never share counters. Names follow the seed
// (A.4, and the doc's PromQL: cache_hits_total, cache_requests_total).
type metrics struct {
	registry *prometheus.Registry

	duration       [numActions]prometheus.Observer
	requests       [numActions]prometheus.Counter
	blocked        *prometheus.CounterVec
	cacheHits      prometheus.Counter
	cacheRequests  prometheus.Counter
	upstreamErrors prometheus.Counter
	blocksStarted  *prometheus.CounterVec
}

func newMetrics(g *Guard) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{registry: reg}
	durationVec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ddos_request_duration_seconds",
		Help:    "Time from receiving a request to the end of the guard's answer (proxied or refused), by action.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5},
	}, []string{"action"})
	requestsVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ddos_requests_total",
		Help: "Requests judged by the guard, by action (allowed, blocked, rate_limited, challenged). Health, metrics and admin requests are not counted.",
	}, []string{"action"})
	for a := range numActions {
		m.duration[a] = durationVec.WithLabelValues(actionNames[a])
		m.requests[a] = requestsVec.WithLabelValues(actionNames[a])
	}
	m.blocked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ddos_requests_blocked_total",
		Help: "Requests refused, by reason.",
	}, []string{"reason"})
	// The seed's cache metric names are shared with the IOC service's cache, so a
	// const label says whose they are: sum by (service) or {service="guard"}.
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "cache_hits_total",
		Help:        "Prediction cache lookups that found a fresh prediction.",
		ConstLabels: serviceLabel,
	})
	m.cacheRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "cache_requests_total",
		Help:        "Prediction cache lookups (only while ENABLE_MODEL_CACHE is on).",
		ConstLabels: serviceLabel,
	})
	m.upstreamErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ddos_upstream_errors_total",
		Help: "Allowed requests the upstream failed to answer (the client got 502).",
	})
	m.blocksStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ddos_blocks_started_total",
		Help: "Timed blocks started, by reason (rate_limit_violations, ml_detection).",
	}, []string{"reason"})
	stats := g.scorer
	reg.MustRegister(
		durationVec, requestsVec, m.blocked, m.cacheHits, m.cacheRequests, m.upstreamErrors, m.blocksStarted,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ddos_model_predictions_total",
			Help: "Risk model evaluations (cache misses, minus duplicates within a batch).",
		}, func() float64 { return float64(stats.predictions.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ddos_model_batches_total",
			Help: "Scoring batches run (each at most BATCH_PREDICTION_SIZE rows).",
		}, func() float64 { return float64(stats.batches.Load()) }),
		newTableCollector(g),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	return m
}

// tableCollector reports the client table's size and the active blocks at scrape time.
type tableCollector struct {
	g                         *Guard
	tracked, blocked, evicted *prometheus.Desc
}

func newTableCollector(g *Guard) *tableCollector {
	return &tableCollector{
		g:       g,
		tracked: prometheus.NewDesc("ddos_tracked_clients", "Clients in the state table (bounded by MAX_TRACKED_CLIENTS).", nil, nil),
		blocked: prometheus.NewDesc("ddos_active_blocked_ips", "Clients in a timed block now, plus admin blocklist entries.", nil, nil),
		evicted: prometheus.NewDesc("ddos_client_evictions_total", "Clients forgotten because the state table was full.", nil, nil),
	}
}

func (c *tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tracked
	ch <- c.blocked
	ch <- c.evicted
}

func (c *tableCollector) Collect(ch chan<- prometheus.Metric) {
	tracked, blocked, evicted := c.g.clients.stats(c.g.nowNanos())
	blocked += c.g.blocklist.size()
	ch <- prometheus.MustNewConstMetric(c.tracked, prometheus.GaugeValue, float64(tracked))
	ch <- prometheus.MustNewConstMetric(c.blocked, prometheus.GaugeValue, float64(blocked))
	ch <- prometheus.MustNewConstMetric(c.evicted, prometheus.CounterValue, float64(evicted))
}
