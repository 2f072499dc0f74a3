package report

import (
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// A result with scraped server samples gets memory, CPU and goroutine
// charts, drawn without error; one without gets none.
func TestHTMLServerCharts(t *testing.T) {
	r := syntheticRun(t, 10*time.Millisecond, 1, false)
	t0 := r.StartedAt.UnixMilli()
	srv := &results.Server{Targets: []results.ScrapeTarget{{URL: "http://127.0.0.1:9/metrics", Job: "guard", Instance: "127.0.0.1:9", IntervalS: 1, Scrapes: 6}}}
	for i := range 6 {
		srv.Targets[0].TimesMs = append(srv.Targets[0].TimesMs, t0+int64(i)*1000)
	}
	add := func(name string, f func(i int) float64) {
		se := results.ServerSeries{Labels: map[string]string{"__name__": name, "job": "guard"}}
		for i := range 6 {
			se.Values = append(se.Values, results.ServerValue{V: f(i), Present: true})
		}
		srv.Series = append(srv.Series, se)
	}
	add("process_resident_memory_bytes", func(i int) float64 { return float64(40+i) * (1 << 20) })
	add("process_cpu_seconds_total", func(i int) float64 { return 0.5 * float64(i) })
	add("go_goroutines", func(i int) float64 { return float64(10 + i) })
	r.Server = srv
	doc := renderHTML(t, r)
	for _, want := range []string{`<figure id="server-rss">`, `<figure id="server-cpu">`, `<figure id="server-goroutines">`, "guard 127.0.0.1:9"} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(doc, `<div class="chart-error"`) {
		t.Error("a chart failed to render")
	}
	if n := strings.Count(doc, `<svg class="chart"`); n != 6 {
		t.Errorf("%d charts, want 3 + 3", n)
	}
	// CPU: 0.5 s of CPU a second is 0.5 cores
	lines := serverLines(r, "process_cpu_seconds_total", 1, true)
	if len(lines) != 1 || len(lines[0].xys) != 5 || lines[0].xys[0].Y != 0.5 {
		t.Fatalf("cpu lines %+v", lines)
	}
}
