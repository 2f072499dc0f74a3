package k6

import (
	"errors"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.k6.io/k6/errext"
	"go.k6.io/k6/metrics"

	"github.com/slogate/slogate/results"
)

// A k6 script's thresholds gate slogate runs (DESIGN: "Drop a user's own
// criteria" is what a gate must never do), so the engine runs k6 with its
// thresholds on, and the output reports k6's own verdicts:
//
//   - k6 evaluates the thresholds (every 2 s, for abortOnFail, and once
//     after the last sample) on its metrics' sinks; the output is given the
//     same *metrics.Threshold values (SetThresholds) and reads LastFailed
//     after the final evaluation, which k6 runs before it stops the outputs.
//   - the value a threshold compared is recomputed from the same sink.
//
// Memory: k6 feeds every sample to every metric's sink as soon as its
// metrics engine runs (thresholds or summary), and a Trend sink keeps every
// value (k6 #763). With the end-of-test summary disabled, as the engine
// runs k6, nothing reads the sinks of metrics without thresholds, so Start
// swaps each such Trend sink (and sub-metric sink) for a counting one:
// only metrics that carry a threshold keep their values (8 bytes per
// sample of that metric).

// SetThresholds implements output.WithThresholds (called before Start).
func (o *Output) SetThresholds(th map[string]metrics.Thresholds) {
	o.thresholds = th
}

// SetBuiltinMetrics implements output.WithBuiltinMetrics (called before Start).
func (o *Output) SetBuiltinMetrics(b *metrics.BuiltinMetrics) {
	o.builtin = b
}

// thresholdsOn reports whether k6 evaluates thresholds in this run.
func (o *Output) thresholdsOn() bool {
	return !o.params.RuntimeOptions.NoThresholds.Bool && len(o.thresholds) > 0
}

// summaryOff reports whether k6's end-of-test summary is disabled.
func (o *Output) summaryOff() bool {
	ro := o.params.RuntimeOptions
	return ro.NoSummary.Bool || ro.SummaryMode.String == "disabled"
}

// countSink replaces the Trend sink of a metric nobody reads: it counts.
type countSink struct{ n uint64 }

func (c *countSink) Add(metrics.Sample) { c.n++ }
func (c *countSink) Format(time.Duration) map[string]float64 {
	return map[string]float64{"count": float64(c.n)}
}
func (c *countSink) IsEmpty() bool { return c.n == 0 }

// trimSinks swaps the Trend sinks of built-in metrics and sub-metrics that
// carry no threshold for counting sinks. Called from Start: k6 has parsed
// the thresholds and created their sub-metrics, and no sample flows yet.
func (o *Output) trimSinks() {
	if o.builtin == nil || !o.summaryOff() {
		return
	}
	swap := func(m *metrics.Metric) {
		if m == nil || m.Type != metrics.Trend || len(m.Thresholds.Thresholds) > 0 {
			return
		}
		if _, ok := m.Sink.(*metrics.TrendSink); ok {
			m.Sink = &countSink{}
		}
	}
	v := reflect.ValueOf(o.builtin).Elem()
	mt := reflect.TypeOf((*metrics.Metric)(nil))
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() != mt || f.IsNil() {
			continue
		}
		m := f.Interface().(*metrics.Metric)
		swap(m)
		for _, sm := range m.Submetrics {
			swap(sm.Metric)
		}
	}
}

// noteThresholdMetric remembers the registry metric of a sample whose
// metric (or one of its sub-metrics) has thresholds, to read its sink at
// the end.
func (o *Output) noteThresholdMetric(m *metrics.Metric) {
	if m == nil || o.thresholdMetrics[m.Name] != nil || !o.thresholdParents[m.Name] {
		return
	}
	o.thresholdMetrics[m.Name] = m
}

func (o *Output) prepareThresholds() {
	o.thresholdMetrics = map[string]*metrics.Metric{}
	o.thresholdParents = map[string]bool{}
	if !o.thresholdsOn() {
		return
	}
	for name := range o.thresholds {
		parent, _, _ := strings.Cut(name, "{")
		o.thresholdParents[parent] = true
	}
}

// scriptThresholds lists every threshold with k6's final verdict and the
// value it compared, sorted by metric.
func (o *Output) scriptThresholds(elapsed time.Duration) []results.ScriptThreshold {
	if !o.thresholdsOn() {
		return nil
	}
	names := make([]string, 0, len(o.thresholds))
	for n := range o.thresholds {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []results.ScriptThreshold
	for _, name := range names {
		sink := o.sinkOf(name)
		for _, th := range o.thresholds[name].Thresholds {
			st := results.ScriptThreshold{
				Metric: name, Threshold: th.Source, AbortOnFail: th.AbortOnFail, Failed: th.LastFailed,
			}
			if v, ok := thresholdValue(sink, th.Source, elapsed); ok {
				st.Value = &v
				if !strings.HasPrefix(strings.TrimSpace(th.Source), "count") {
					st.Unit = o.unitOf(name)
				}
			}
			out = append(out, st)
		}
	}
	return out
}

// unitOf is the unit of a threshold value in slogate's words.
func (o *Output) unitOf(name string) string {
	parent, _, _ := strings.Cut(name, "{")
	m := o.thresholdMetrics[parent]
	switch {
	case m == nil:
		return ""
	case m.Type == metrics.Rate:
		return "fraction"
	case m.Type == metrics.Trend && m.Contains == metrics.Time:
		return "ms"
	}
	return ""
}

// sinkOf finds the sink of a threshold's metric or sub-metric ("m{k:v}").
func (o *Output) sinkOf(name string) metrics.Sink {
	parent, _, sub := strings.Cut(name, "{")
	m := o.thresholdMetrics[parent]
	if m == nil {
		return nil
	}
	if !sub {
		return m.Sink
	}
	for _, sm := range m.Submetrics {
		if sm.Name == name {
			return sm.Metric.Sink
		}
	}
	return nil
}

var aggregation = regexp.MustCompile(`^\s*([a-z]+)\s*(?:\(\s*([0-9.]+)\s*\))?\s*(?:<=|>=|===|==|!=|<|>)`)

// thresholdValue computes the aggregate a threshold expression compares
// (k6's metrics.Thresholds.Run does the same on the same sink): count,
// rate (per second for counters), value, avg, min, max, med, p(N).
func thresholdValue(sink metrics.Sink, source string, elapsed time.Duration) (float64, bool) {
	m := aggregation.FindStringSubmatch(source)
	if m == nil || sink == nil || sink.IsEmpty() {
		return 0, false
	}
	agg := m[1]
	switch s := sink.(type) {
	case *metrics.TrendSink:
		switch agg {
		case "min":
			return s.Min(), true
		case "max":
			return s.Max(), true
		case "avg":
			return s.Avg(), true
		case "med":
			return s.P(0.5), true
		case "count":
			return float64(s.Count()), true
		case "p":
			pct, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return 0, false
			}
			return s.P(pct / 100), true
		}
	case *metrics.CounterSink:
		switch agg {
		case "count":
			return s.Value, true
		case "rate":
			if elapsed <= 0 {
				return 0, false
			}
			return s.Value / elapsed.Seconds(), true
		}
	case *metrics.RateSink:
		if agg == "rate" && s.Total > 0 {
			return float64(s.Trues) / float64(s.Total), true
		}
	case *metrics.GaugeSink:
		if agg == "value" {
			return s.Value, true
		}
	}
	return 0, false
}

// stoppedByUser reports whether the user interrupted the run (a signal,
// which is how the engine forwards Ctrl-C to k6).
func stoppedByUser(err error) bool {
	var ar errext.HasAbortReason
	return errors.As(err, &ar) && ar.AbortReason() == errext.AbortedByUser
}

// stoppedByThresholds reports whether k6 ended the run because of its
// thresholds (abortOnFail during the run, or failed thresholds at the end):
// the run finished as far as the script asked, and the failure is a
// verdict, not an interruption.
func stoppedByThresholds(err error) bool {
	var ar errext.HasAbortReason
	if errors.As(err, &ar) {
		r := ar.AbortReason()
		return r == errext.AbortedByThreshold || r == errext.AbortedByThresholdsAfterTestEnd
	}
	return false
}
