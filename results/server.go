package results

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Server is the target's side of a run: the Prometheus metrics slogate
// scraped from the target's /metrics endpoints before, during and after the
// load, kept in the result so that PromQL objectives can be evaluated again
// later (slogate check) with the target gone.
//
// Samples are stored per scrape target: one list of scrape times, and for
// each series one value per scrape time (null where the series was absent
// from that scrape). A counter scraped every second for a minute is 61
// numbers, its labels once.
type Server struct {
	Targets []ScrapeTarget `json:"targets"`
	Series  []ServerSeries `json:"series"`
	// Keep says which series were kept: "all", or "default+objectives" (the
	// families the run's objectives name plus DefaultServerFamilies).
	Keep string `json:"keep,omitempty"`
	// DroppedSeries counts series left out because a target exposed more
	// than MaxServerSeries; DroppedScrapes scrapes left out past
	// MaxServerScrapes.
	DroppedSeries  int64 `json:"dropped_series,omitempty"`
	DroppedScrapes int64 `json:"dropped_scrapes,omitempty"`
	// Summary is the server's own view of the run, computed from the
	// samples when the run ends (absent figures were not exposed).
	Summary *ServerSummary `json:"summary,omitempty"`
}

// ServerSummary is what the server's metrics say about the run, beside the
// client's figures: its own request latency (the gap to the client's is
// network and queueing), requests it counted, and its resources.
type ServerSummary struct {
	// LatencyHistogram is the histogram family the latency came from.
	LatencyHistogram string  `json:"latency_histogram,omitempty"`
	P50Ms            float64 `json:"p50_ms,omitempty"`
	P95Ms            float64 `json:"p95_ms,omitempty"`
	P99Ms            float64 `json:"p99_ms,omitempty"`
	// Requests is the increase of the latency histogram's count over the run.
	Requests   float64 `json:"requests,omitempty"`
	MaxRSSMB   float64 `json:"max_rss_mb,omitempty"`
	CPUCores   float64 `json:"cpu_cores,omitempty"` // mean over the run
	Goroutines float64 `json:"max_goroutines,omitempty"`
}

// ScrapeTarget is one /metrics endpoint and how scraping it went.
type ScrapeTarget struct {
	URL       string  `json:"url"`
	Job       string  `json:"job"`
	Instance  string  `json:"instance"`
	IntervalS float64 `json:"interval_s"`
	Scrapes   int64   `json:"scrapes"`  // answered and parsed
	Failures  int64   `json:"failures"` // refused, timed out, bad status, unparsable
	LastError string  `json:"last_error,omitempty"`
	// TimesMs are the successful scrapes' times, Unix milliseconds.
	TimesMs []int64 `json:"times_ms"`
}

// ServerSeries is one series of one target: its labels (including
// __name__, job and instance, as Prometheus would store them) and a value
// per scrape of its target (Values[i] was scraped at TimesMs[i]).
type ServerSeries struct {
	Target int               `json:"target"`
	Labels map[string]string `json:"labels"`
	Values []ServerValue     `json:"values"`
}

// ServerValue is one scraped value; absent (the series was not in that
// scrape) encodes as JSON null, and the non-finite values Prometheus allows
// as the strings "NaN", "+Inf" and "-Inf".
type ServerValue struct {
	V       float64
	Present bool
}

// MarshalJSON writes null, a number, or a non-finite value as a string.
func (v ServerValue) MarshalJSON() ([]byte, error) {
	switch {
	case !v.Present:
		return []byte("null"), nil
	case math.IsNaN(v.V):
		return []byte(`"NaN"`), nil
	case math.IsInf(v.V, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v.V, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v.V, 'g', -1, 64), nil
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (v *ServerValue) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch s {
	case "null":
		*v = ServerValue{}
		return nil
	case `"NaN"`:
		*v = ServerValue{V: math.NaN(), Present: true}
		return nil
	case `"+Inf"`:
		*v = ServerValue{V: math.Inf(1), Present: true}
		return nil
	case `"-Inf"`:
		*v = ServerValue{V: math.Inf(-1), Present: true}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("server value %s: want a number, null, \"NaN\", \"+Inf\" or \"-Inf\"", s)
	}
	*v = ServerValue{V: f, Present: true}
	return nil
}

// Bounds on what a result keeps of the server side, so that a target with a
// label explosion or a week-long soak cannot make a result (or slogate's
// memory) unbounded.
const (
	MaxServerSeries  = 20_000 // per result
	MaxServerScrapes = 7_200  // per target: two hours at one a second
)

// DefaultServerFamilies are the metric families kept when the run does not
// ask for all: the process and Go runtime figures every Prometheus client
// exposes, and the bundled services' families (a name ending in "_" is a
// prefix). The families the objectives name are always kept too.
var DefaultServerFamilies = []string{
	"process_", "go_goroutines", "go_memstats_heap_inuse_bytes", "go_gc_duration_seconds",
	"ddos_", "cache_", "ioc_",
}

// KeepFamily reports whether family is in names (a name ending in "_"
// matching as a prefix).
func KeepFamily(names []string, family string) bool {
	for _, n := range names {
		if n == family || (strings.HasSuffix(n, "_") && strings.HasPrefix(family, n)) {
			return true
		}
	}
	return false
}

// validate checks the server section's internal consistency.
func (s *Server) validate() error {
	for i, t := range s.Targets {
		if t.Scrapes < 0 || t.Failures < 0 {
			return fmt.Errorf("server.targets[%d]: negative counts", i)
		}
		if len(t.TimesMs) > MaxServerScrapes {
			return fmt.Errorf("server.targets[%d]: %d scrapes, above the limit of %d", i, len(t.TimesMs), MaxServerScrapes)
		}
	}
	if len(s.Series) > MaxServerSeries {
		return fmt.Errorf("server.series: %d series, above the limit of %d", len(s.Series), MaxServerSeries)
	}
	for i, se := range s.Series {
		if se.Target < 0 || se.Target >= len(s.Targets) {
			return fmt.Errorf("server.series[%d]: target %d does not exist", i, se.Target)
		}
		if len(se.Values) != len(s.Targets[se.Target].TimesMs) {
			return fmt.Errorf("server.series[%d]: %d values for %d scrapes", i, len(se.Values), len(s.Targets[se.Target].TimesMs))
		}
		if se.Labels["__name__"] == "" {
			return fmt.Errorf("server.series[%d]: no __name__ label", i)
		}
	}
	return nil
}

// ServerLines describe the server side in a few lines, the same in every
// report: what was scraped, the server's own latency next to the client's,
// its resources.
func ServerLines(r *Result) []string {
	srv := r.Server
	if srv == nil {
		return nil
	}
	var lines []string
	for _, t := range srv.Targets {
		l := fmt.Sprintf("scraped %s (job %s): %d scrapes every %gs", t.URL, t.Job, t.Scrapes, t.IntervalS)
		if t.Failures > 0 {
			l += fmt.Sprintf(", %d failed (last: %s)", t.Failures, t.LastError)
		}
		lines = append(lines, l)
	}
	if srv.DroppedSeries > 0 || srv.DroppedScrapes > 0 {
		lines = append(lines, fmt.Sprintf("kept at most %d series and %d scrapes a target: %d series and %d scrapes left out",
			MaxServerSeries, MaxServerScrapes, srv.DroppedSeries, srv.DroppedScrapes))
	}
	if s := srv.Summary; s != nil {
		if s.LatencyHistogram != "" {
			c := r.Summary.ServiceLatencyMs
			lines = append(lines, fmt.Sprintf("server latency (%s, ms): p50 %s  p95 %s  p99 %s · client service latency p50 %s  p95 %s  p99 %s (the gap is network and queueing) · server counted %.0f requests",
				s.LatencyHistogram, num(s.P50Ms), num(s.P95Ms), num(s.P99Ms), num(c.P50), num(c.P95), num(c.P99), s.Requests))
		}
		var res []string
		if s.MaxRSSMB > 0 {
			res = append(res, fmt.Sprintf("RSS max %.1f MiB", s.MaxRSSMB))
		}
		if s.CPUCores > 0 {
			res = append(res, fmt.Sprintf("CPU %.2f cores (mean)", s.CPUCores))
		}
		if s.Goroutines > 0 {
			res = append(res, fmt.Sprintf("goroutines max %.0f", s.Goroutines))
		}
		if len(res) > 0 {
			lines = append(lines, "server resources: "+strings.Join(res, " · "))
		}
	}
	return lines
}

func writeServerText(w io.Writer, r *Result) {
	for _, l := range ServerLines(r) {
		fmt.Fprintln(w, l)
	}
}
