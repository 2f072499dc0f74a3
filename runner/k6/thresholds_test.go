package k6

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.k6.io/k6/lib"
	"go.k6.io/k6/metrics"
	"go.k6.io/k6/output"

	"github.com/slogate/slogate/results"
)

// With the summary disabled, k6 keeps values only for metrics that carry
// a threshold: the output swaps every other built-in Trend sink (and
// sub-metric sink) for a counting one. With the summary on, nothing is
// swapped (the summary reads them). The thresholds are reported with k6's
// verdict and the value computed from the kept sink.
func TestOutputThresholdsAndSinks(t *testing.T) {
	for _, summary := range []string{"disabled", "compact"} {
		t.Run("summary "+summary, func(t *testing.T) {
			firstLoaded.Store(nil)
			reg := metrics.NewRegistry()
			builtin := metrics.RegisterBuiltinMetrics(reg)
			ths := map[string]metrics.Thresholds{
				"http_req_duration": metrics.NewThresholds([]string{"p(90)<50", "max<1000"}),
				"http_req_failed":   metrics.NewThresholds([]string{"rate<0.1"}),
			}
			for name, th := range ths {
				if err := th.Parse(); err != nil {
					t.Fatal(err)
				}
				ths[name] = th
			}
			builtin.HTTPReqDuration.Thresholds = ths["http_req_duration"]
			builtin.HTTPReqFailed.Thresholds = ths["http_req_failed"]
			expected, err := builtin.HTTPReqDuration.AddSubmetric("expected_response:true")
			if err != nil {
				t.Fatal(err)
			}
			var ro lib.RuntimeOptions
			if err := json.Unmarshal([]byte(`{"summaryMode":"`+summary+`"}`), &ro); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "result.json")
			o, err := NewOutput(output.Params{ConfigArgument: path, RuntimeOptions: ro})
			if err != nil {
				t.Fatal(err)
			}
			out := o.(*Output)
			out.SetThresholds(ths)
			out.SetBuiltinMetrics(builtin)
			if err := out.Start(); err != nil {
				t.Fatal(err)
			}
			_, waitingTrimmed := builtin.HTTPReqWaiting.Sink.(*countSink)
			_, subTrimmed := expected.Metric.Sink.(*countSink)
			_, durationKept := builtin.HTTPReqDuration.Sink.(*metrics.TrendSink)
			if waitingTrimmed != (summary == "disabled") || subTrimmed != (summary == "disabled") || !durationKept {
				t.Errorf("http_req_waiting trimmed %v, expected_response sub-metric trimmed %v, http_req_duration kept %v",
					waitingTrimmed, subTrimmed, durationKept)
			}

			// k6's metrics engine fills the sinks and evaluates; the
			// output sees the same samples and reads the result.
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			var batch []metrics.Sample
			for i := 0; i < 100; i++ {
				ms := float64(1 + i) // 1..100 ms: p(90) = 90
				tags := reg.RootTagSet().With("status", "200")
				d := metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: builtin.HTTPReqDuration, Tags: tags}, Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Value: ms}
				f := metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: builtin.HTTPReqFailed, Tags: tags}, Time: d.Time, Value: 0}
				builtin.HTTPReqDuration.Sink.Add(d)
				builtin.HTTPReqFailed.Sink.Add(f)
				batch = append(batch, d, f)
			}
			for _, m := range []*metrics.Metric{builtin.HTTPReqDuration, builtin.HTTPReqFailed} {
				if _, err := m.Thresholds.Run(m.Sink, time.Second); err != nil {
					t.Fatal(err)
				}
			}
			out.AddMetricSamples([]metrics.SampleContainer{metrics.Samples(batch)})
			if err := out.Stop(); err != nil {
				t.Fatal(err)
			}
			res, err := results.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]struct {
				failed bool
				value  float64
				unit   string
			}{
				"http_req_duration p(90)<50": {true, 90, "ms"},
				"http_req_duration max<1000": {false, 100, "ms"},
				"http_req_failed rate<0.1":   {false, 0, "fraction"},
			}
			if len(res.ScriptThresholds) != len(want) {
				t.Fatalf("thresholds %+v", res.ScriptThresholds)
			}
			for _, th := range res.ScriptThresholds {
				w, ok := want[th.Metric+" "+th.Threshold]
				if !ok || th.Failed != w.failed || th.Value == nil || *th.Value < w.value-1 || *th.Value > w.value+1 || th.Unit != w.unit {
					t.Errorf("%+v (value %v), want %+v", th, th.Value, w)
				}
			}
		})
	}
}
