// Package promql evaluates PromQL objectives over the samples a run scraped
// from its target (results.Server), with Prometheus's own query engine
// (github.com/prometheus/prometheus/promql): the expressions of a team's
// dashboards and alerts gate a run as written, with Prometheus's semantics
// (rate extrapolation, histogram_quantile interpolation, staleness).
//
// When it evaluates. At the end of the run by default: an instant query at
// the time of the last scrape (after the drain). With over: run, a range
// query from the first scrape to the last, one step per scrape interval, and
// the objective takes the worst value of every step (for gauges such as RSS).
//
// Windows longer than the run. A range selector longer than the span the
// run scraped (rate(x[5m]) after a one-minute run) is shortened to that span
// before evaluation (to the span plus 1 ms, as ranges are left-open), so it
// covers exactly the run's scrapes: Prometheus would otherwise divide one
// minute's increase by five minutes. Shorter windows are
// left as written.
//
// What it must not do: invent a value. No scrapes, no series, or a series
// the result did not keep give an error that makes the objective
// inconclusive; several series are all returned (the caller judges each).
package promql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	promql "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/slogate/slogate/results"
)

// Over says when an expression is evaluated.
type Over string

const (
	// AtEnd: one instant query at the last scrape.
	AtEnd Over = "end"
	// OverRun: a range query across the run; every step counts.
	OverRun Over = "run"
)

// MaxExprBytes bounds an expression's text.
const MaxExprBytes = 4096

var promParser = parser.NewParser(parser.Options{})

// Parse checks expr and returns the metric names it selects (for keeping
// their series in the result). Errors carry the parser's position.
func Parse(expr string) (names []string, err error) {
	if len(expr) > MaxExprBytes {
		return nil, fmt.Errorf("expression longer than %d bytes", MaxExprBytes)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("empty expression")
	}
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	switch e.Type() {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
	case parser.ValueTypeMatrix:
		return nil, errors.New("the expression gives a range vector; an objective needs one value per series (wrap it in a function such as rate(), max_over_time())")
	default:
		return nil, fmt.Errorf("the expression gives a %s; an objective needs an instant vector or a scalar", e.Type())
	}
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual && !seen[m.Value] {
					seen[m.Value] = true
					names = append(names, m.Value)
				}
			}
		}
		return nil
	})
	sort.Strings(names)
	return names, nil
}

// Sample is one value of the expression: a series' labels (without
// __name__), the time, the value.
type Sample struct {
	Labels string
	T      time.Time
	V      float64
}

// ErrNoData: the expression cannot be judged from what was scraped.
var ErrNoData = errors.New("no server data")

// Source answers PromQL: the samples a result kept (Scraped) or a running
// Prometheus (Remote). An objective is evaluated the same way over either.
type Source interface {
	// Query evaluates expr over the run: at its end, or every step across it.
	Query(ctx context.Context, expr string, over Over) ([]Sample, error)
}

// Scraped is the Source over the samples a result kept.
type Scraped struct{ Server *results.Server }

// Evaluate runs expr over srv (Scraped{srv}.Query).
func Evaluate(ctx context.Context, srv *results.Server, expr string, over Over) ([]Sample, error) {
	return Scraped{srv}.Query(ctx, expr, over)
}

// Query evaluates expr with the Prometheus engine over the kept samples. It
// returns every sample (one per series at the end, or one per series and
// step across the run).
func (s Scraped) Query(ctx context.Context, expr string, over Over) (out []Sample, err error) {
	// The engine is a library written for a server that recovers its
	// panics; an expression it cannot handle is an error here, not a crash
	// of the gate.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the PromQL engine failed on %q: %v", expr, r)
		}
	}()
	srv := s.Server
	if srv == nil || len(srv.Targets) == 0 {
		return nil, fmt.Errorf("%w: the run scraped no /metrics endpoint", ErrNoData)
	}
	first, last, interval := span(srv)
	if last == 0 {
		return nil, fmt.Errorf("%w: no scrape of %s succeeded (%s)", ErrNoData, srv.Targets[0].URL, lastErrors(srv))
	}
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	// A range is left-open: one millisecond more than the span takes the
	// first scrape in.
	clampRanges(e, time.Duration(last-first+1)*time.Millisecond)
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:    10_000_000,
		Timeout:       30 * time.Second,
		LookbackDelta: 5 * time.Minute,
		Parser:        promParser,
		// A subquery without a step (x[5m:]) takes the scrape interval,
		// as Prometheus takes its global evaluation interval; left unset
		// the engine dereferences a nil function.
		NoStepSubqueryIntervalFn: func(int64) int64 { return interval.Milliseconds() },
	})
	q := newQueryable(srv)
	end := time.UnixMilli(last)
	var query promql.Query
	if over == OverRun {
		query, err = engine.NewRangeQuery(ctx, q, nil, e.String(), time.UnixMilli(first), end, interval)
	} else {
		query, err = engine.NewInstantQuery(ctx, q, nil, e.String(), end)
	}
	if err != nil {
		return nil, err
	}
	defer query.Close()
	res := query.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out = append(out, Sample{Labels: s.Metric.DropMetricName().String(), T: time.UnixMilli(s.T), V: s.F})
		}
	case promql.Scalar:
		out = append(out, Sample{Labels: "{}", T: time.UnixMilli(v.T), V: v.V})
	case promql.Matrix:
		for _, s := range v {
			for _, p := range s.Floats {
				out = append(out, Sample{Labels: s.Metric.DropMetricName().String(), T: time.UnixMilli(p.T), V: p.F})
			}
		}
	default:
		return nil, fmt.Errorf("the expression gives a %s", res.Value.Type())
	}
	if len(out) == 0 {
		return nil, errNoSeries
	}
	return out, nil
}

var errNoSeries = fmt.Errorf("%w: the expression returned no series (are the metric names right, and kept in the result?)", ErrNoData)

// span returns the first and last successful scrape (Unix ms; 0 when none)
// and the longest scrape interval.
func span(srv *results.Server) (first, last int64, interval time.Duration) {
	for _, t := range srv.Targets {
		if n := len(t.TimesMs); n > 0 {
			if first == 0 || t.TimesMs[0] < first {
				first = t.TimesMs[0]
			}
			last = max(last, t.TimesMs[n-1])
		}
		interval = max(interval, time.Duration(t.IntervalS*float64(time.Second)))
	}
	if interval <= 0 {
		interval = time.Second
	}
	return first, last, interval
}

func lastErrors(srv *results.Server) string {
	var errs []string
	for _, t := range srv.Targets {
		if t.LastError != "" {
			errs = append(errs, t.URL+": "+t.LastError)
		}
	}
	if len(errs) == 0 {
		return "no error recorded"
	}
	return strings.Join(errs, "; ")
}

// clampRanges shortens every range selector and subquery longer than span.
func clampRanges(e parser.Expr, span time.Duration) {
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch m := n.(type) {
		case *parser.MatrixSelector:
			if m.Range > span {
				m.Range = span
			}
		case *parser.SubqueryExpr:
			if m.Range > span {
				m.Range = span
			}
		}
		return nil
	})
}

// queryable serves the result's samples to the engine.
type queryable struct{ series []storage.Series }

func newQueryable(srv *results.Server) *queryable {
	q := &queryable{}
	for _, se := range srv.Series {
		times := srv.Targets[se.Target].TimesMs
		b := labels.NewScratchBuilder(len(se.Labels))
		for k, v := range se.Labels {
			b.Add(k, v)
		}
		b.Sort()
		var smp []chunks.Sample
		for i, v := range se.Values {
			if v.Present && i < len(times) {
				smp = append(smp, fSample{t: times[i], f: v.V})
			}
		}
		q.series = append(q.series, storage.NewListSeries(b.Labels(), smp))
	}
	sort.Slice(q.series, func(i, j int) bool {
		return labels.Compare(q.series[i].Labels(), q.series[j].Labels()) < 0
	})
	return q
}

func (q *queryable) Querier(_, _ int64) (storage.Querier, error) { return q, nil }

func (q *queryable) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range q.series {
		if matchAll(s.Labels(), ms) {
			out = append(out, s)
		}
	}
	return &seriesSet{series: out, i: -1}
}

func matchAll(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (q *queryable) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	var vals []string
	for _, s := range q.series {
		if v := s.Labels().Get(name); v != "" && matchAll(s.Labels(), ms) && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	return vals, nil, nil
}

func (q *queryable) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	var names []string
	for _, s := range q.series {
		if !matchAll(s.Labels(), ms) {
			continue
		}
		s.Labels().Range(func(l labels.Label) {
			if !seen[l.Name] {
				seen[l.Name] = true
				names = append(names, l.Name)
			}
		})
	}
	sort.Strings(names)
	return names, nil, nil
}

func (q *queryable) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// fSample is one float sample.
type fSample struct {
	t int64
	f float64
}

func (s fSample) T() int64                      { return s.t }
func (s fSample) ST() int64                     { return 0 }
func (s fSample) F() float64                    { return s.f }
func (s fSample) H() *histogram.Histogram       { return nil }
func (s fSample) FH() *histogram.FloatHistogram { return nil }
func (s fSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s fSample) Copy() chunks.Sample           { return s }

// Worst returns the sample that is worst for a threshold where lower is
// better (higherIsBetter false) or higher is better; NaN counts as worst.
func Worst(samples []Sample, higherIsBetter bool) Sample {
	w := samples[0]
	for _, s := range samples[1:] {
		switch {
		case math.IsNaN(w.V):
			return w
		case math.IsNaN(s.V):
			w = s
		case higherIsBetter && s.V < w.V, !higherIsBetter && s.V > w.V:
			w = s
		}
	}
	return w
}

// LatencyHistograms are the request-latency histogram families Summarize
// looks for, in order: the bundled guard's and IOC service's, then the
// common client-library names.
var LatencyHistograms = []string{
	"ddos_request_duration_seconds", "ioc_request_duration_seconds",
	"http_request_duration_seconds", "http_server_request_duration_seconds",
}

// Summarize computes the server's view of the run from the kept samples:
// latency percentiles and requests from the first latency histogram with
// data (over the whole run), the largest RSS, mean CPU cores, most
// goroutines. Figures the target does not expose stay zero.
func Summarize(ctx context.Context, srv *results.Server) *results.ServerSummary {
	if srv == nil {
		return nil
	}
	sum := &results.ServerSummary{}
	one := func(expr string, over Over) (float64, bool) {
		out, err := Scraped{Server: srv}.Query(ctx, expr, over)
		if err != nil || len(out) == 0 {
			return 0, false
		}
		w := Worst(out, false)
		if math.IsNaN(w.V) || math.IsInf(w.V, 0) {
			return 0, false
		}
		return w.V, true
	}
	const whole = "[1d]" // shortened to the run's scrapes
	for _, h := range LatencyHistograms {
		n, ok := one(fmt.Sprintf("sum(increase(%s_count%s))", h, whole), AtEnd)
		if !ok || n <= 0 {
			continue
		}
		sum.LatencyHistogram, sum.Requests = h, math.Round(n)
		for _, q := range []struct {
			q   float64
			dst *float64
		}{{0.5, &sum.P50Ms}, {0.95, &sum.P95Ms}, {0.99, &sum.P99Ms}} {
			if v, ok := one(fmt.Sprintf("histogram_quantile(%g, sum by (le) (rate(%s_bucket%s)))", q.q, h, whole), AtEnd); ok {
				*q.dst = math.Round(v*1e6) / 1e3
			}
		}
		break
	}
	if v, ok := one("max(process_resident_memory_bytes) / 1048576", OverRun); ok {
		sum.MaxRSSMB = math.Round(v*10) / 10
	}
	if v, ok := one("sum(rate(process_cpu_seconds_total"+whole+"))", AtEnd); ok {
		sum.CPUCores = math.Round(v*1000) / 1000
	}
	if v, ok := one("max(go_goroutines)", OverRun); ok {
		sum.Goroutines = v
	}
	if *sum == (results.ServerSummary{}) {
		return nil
	}
	return sum
}
