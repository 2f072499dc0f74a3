package promql

import (
	"context"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// FuzzQuery: any objective expression is refused by Parse, or evaluates
// over a small scraped run (or fails) within a bounded time; never a panic.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"up", "sum(rate(reqs_total[5m]))", `histogram_quantile(0.95, rate(h_bucket[5m]))`,
		"rate(x[5m]", "x[5m]", `reqs_total{action=~"a|b"} / on() group_left sum(reqs_total)`,
		"max_over_time(reqs_total[1y:1ms])", "max_over_time(reqs_total[1m:])", "vector(0)/0", "time()",
	} {
		f.Add(s)
	}
	srv := &results.Server{Targets: []results.ScrapeTarget{{URL: "http://127.0.0.1:1/metrics", Job: "x", IntervalS: 1}}}
	se := results.ServerSeries{Labels: map[string]string{"__name__": "reqs_total", "action": "a"}}
	for i := range 11 {
		srv.Targets[0].TimesMs = append(srv.Targets[0].TimesMs, 1_700_000_000_000+int64(i)*1000)
		se.Values = append(se.Values, results.ServerValue{V: float64(10 * i), Present: true})
	}
	srv.Series = append(srv.Series, se)
	f.Fuzz(func(t *testing.T, expr string) {
		if _, err := Parse(expr); err != nil {
			return
		}
		// The engine stops at the context's deadline (nested subqueries
		// with millisecond steps would otherwise run for minutes; a gate
		// has the engine's own 30 s timeout). One second for each of the
		// two evaluations keeps an input well inside the fuzzer's 10 s
		// limit for a hung worker.
		for _, over := range []Over{AtEnd, OverRun} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = Evaluate(ctx, srv, expr, over)
			cancel()
		}
	})
}
