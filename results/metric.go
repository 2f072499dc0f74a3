package results

import "math"

// Units of the metrics, as objectives, comparisons and reports print them.
const (
	UnitMs       = "ms"
	UnitFraction = "fraction"
	UnitRPS      = "req/s"
	UnitMiB      = "MiB"
	UnitCores    = "cores"
)

// Metric is one row of the metric table: everything the gate, the
// comparison and the reports need to know about a metric name, decided
// once. Adding a metric (p75, a server-side figure) is adding a row.
type Metric struct {
	Name string
	// Unit is UnitMs, UnitFraction, UnitRPS, or for server figures UnitMiB
	// and UnitCores.
	Unit string
	// Quantile is the percentile of a latency percentile (50 for p50,
	// 99.9 for p999); 0 for every other metric.
	Quantile float64
	// Spectrum places a latency metric on the percentile spectrum (0..1:
	// min 0, p50 0.5, max 1) for charts; -1 when it has no place (mean and
	// every non-latency metric).
	Spectrum float64
	// HigherIsBetter: throughput up is good; latency, error and block rate
	// down are (a block of a legitimate client is a cost).
	HigherIsBetter bool
	// Bootstrappable: the single-run block bootstrap over per-second
	// intervals can bound it (a maximum, one request, cannot be).
	Bootstrappable bool
	// Read takes the metric from a summary, in its unit; nil when the
	// summary does not keep it (p75: read from the histogram).
	Read func(*Summary) float64
	// Server, for a server-side figure, reads it from the server's own
	// summary of the run (Result.Server.Summary; NaN when not exposed).
	// Such a metric covers the whole run only.
	Server func(*ServerSummary) float64
}

// metricTable is the one table of metrics, in the order reports list them.
var metricTable = []Metric{
	{Name: "min", Unit: UnitMs, Spectrum: 0, Read: func(s *Summary) float64 { return s.LatencyMs.Min }},
	{Name: "mean", Unit: UnitMs, Spectrum: -1, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.Mean }},
	{Name: "p50", Unit: UnitMs, Quantile: 50, Spectrum: 0.5, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.P50 }},
	{Name: "p75", Unit: UnitMs, Quantile: 75, Spectrum: 0.75, Bootstrappable: true},
	{Name: "p90", Unit: UnitMs, Quantile: 90, Spectrum: 0.9, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.P90 }},
	{Name: "p95", Unit: UnitMs, Quantile: 95, Spectrum: 0.95, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.P95 }},
	{Name: "p99", Unit: UnitMs, Quantile: 99, Spectrum: 0.99, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.P99 }},
	{Name: "p999", Unit: UnitMs, Quantile: 99.9, Spectrum: 0.999, Bootstrappable: true, Read: func(s *Summary) float64 { return s.LatencyMs.P999 }},
	{Name: "max", Unit: UnitMs, Spectrum: 1, Read: func(s *Summary) float64 { return s.LatencyMs.Max }},
	{Name: "error_rate", Unit: UnitFraction, Spectrum: -1, Bootstrappable: true, Read: func(s *Summary) float64 { return s.ErrorRate }},
	{Name: "block_rate", Unit: UnitFraction, Spectrum: -1, Bootstrappable: true, Read: func(s *Summary) float64 { return s.BlockRate }},
	{Name: "success_rate", Unit: UnitFraction, Spectrum: -1, HigherIsBetter: true, Bootstrappable: true, Read: func(s *Summary) float64 { return s.SuccessRate }},
	{Name: "throughput", Unit: UnitRPS, Spectrum: -1, HigherIsBetter: true, Bootstrappable: true, Read: func(s *Summary) float64 { return s.ThroughputRPS }},
	{Name: "request_rate", Unit: UnitRPS, Spectrum: -1, HigherIsBetter: true, Bootstrappable: true, Read: func(s *Summary) float64 { return s.RequestRateRPS }},
	{Name: "success_throughput", Unit: UnitRPS, Spectrum: -1, HigherIsBetter: true, Bootstrappable: true, Read: func(s *Summary) float64 { return s.SuccessRPS }},
	// Server-side figures (the target's own /metrics, scraped during the run).
	{Name: "server_p50", Unit: UnitMs, Spectrum: -1, Server: serverLatency(func(s *ServerSummary) float64 { return s.P50Ms })},
	{Name: "server_p95", Unit: UnitMs, Spectrum: -1, Server: serverLatency(func(s *ServerSummary) float64 { return s.P95Ms })},
	{Name: "server_p99", Unit: UnitMs, Spectrum: -1, Server: serverLatency(func(s *ServerSummary) float64 { return s.P99Ms })},
	{Name: "server_rss_mb", Unit: UnitMiB, Spectrum: -1, Server: positive(func(s *ServerSummary) float64 { return s.MaxRSSMB })},
	{Name: "server_cpu_cores", Unit: UnitCores, Spectrum: -1, Server: positive(func(s *ServerSummary) float64 { return s.CPUCores })},
}

// ServerMetrics are the server-side rows, in table order.
var ServerMetrics = []string{"server_p50", "server_p95", "server_p99", "server_rss_mb", "server_cpu_cores"}

func serverLatency(f func(*ServerSummary) float64) func(*ServerSummary) float64 {
	return func(s *ServerSummary) float64 {
		if s.LatencyHistogram == "" {
			return math.NaN()
		}
		return f(s)
	}
}

func positive(f func(*ServerSummary) float64) func(*ServerSummary) float64 {
	return func(s *ServerSummary) float64 {
		if v := f(s); v > 0 {
			return v
		}
		return math.NaN()
	}
}

var metricIndex = func() map[string]*Metric {
	m := make(map[string]*Metric, len(metricTable))
	for i := range metricTable {
		m[metricTable[i].Name] = &metricTable[i]
	}
	return m
}()

// LookupMetric returns the row of a metric name, or nil if it is unknown.
func LookupMetric(name string) *Metric { return metricIndex[name] }

// Value reads the metric from a summary in its unit; NaN when the summary
// does not keep it.
func (m *Metric) Value(s *Summary) float64 {
	if m == nil || m.Read == nil {
		return math.NaN()
	}
	return m.Read(s)
}

// FromResult reads the metric of r: a server-side figure from r's server
// summary, any other from s (one of r's scopes). NaN when not kept.
func (m *Metric) FromResult(r *Result, s *Summary) float64 {
	if m != nil && m.Server != nil {
		if r == nil || r.Server == nil || r.Server.Summary == nil {
			return math.NaN()
		}
		return m.Server(r.Server.Summary)
	}
	return m.Value(s)
}
