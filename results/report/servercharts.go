package report

import (
	"errors"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/slogate/slogate/results"
)

// serverCharts are the target's resources over the run, from the samples
// the run scraped: resident memory, CPU (the rate of
// process_cpu_seconds_total between scrapes) and goroutines, a line per
// scraped target. A figure the target does not expose is left out.
func serverCharts(r *results.Result) []*chart {
	if r.Server == nil {
		return nil
	}
	var out []*chart
	for _, f := range []struct {
		id, title, caption, metric, unit string
		scale                            float64
		rate                             bool
	}{
		{"server-rss", "Server memory", "Resident memory of each scraped target (process_resident_memory_bytes), in MiB, as scraped during the run.", "process_resident_memory_bytes", "MiB", 1.0 / (1 << 20), false},
		{"server-cpu", "Server CPU", "CPU cores each scraped target used between two scrapes (the rate of process_cpu_seconds_total).", "process_cpu_seconds_total", "cores", 1, true},
		{"server-goroutines", "Server goroutines", "Goroutines of each scraped target (go_goroutines).", "go_goroutines", "goroutines", 1, false},
	} {
		lines := serverLines(r, f.metric, f.scale, f.rate)
		if len(lines) == 0 {
			continue
		}
		out = append(out, build(&chart{ID: f.id, Title: f.title, Caption: f.caption},
			func(c *chart) (*plot.Plot, error) { return serverChart(c, r, lines, f.unit) }))
	}
	return out
}

type serverLine struct {
	label string
	xys   plotter.XYs
}

// serverLines extracts metric per target: x seconds since the run's start,
// y the value × scale (or its per-second rate between scrapes).
func serverLines(r *results.Result, metric string, scale float64, rate bool) []serverLine {
	start := float64(r.StartedAt.UnixMilli())
	var out []serverLine
	for _, se := range r.Server.Series {
		if se.Labels["__name__"] != metric {
			continue
		}
		t := r.Server.Targets[se.Target]
		var xys plotter.XYs
		prevT, prevV, have := 0.0, 0.0, false
		for i, v := range se.Values {
			if !v.Present || math.IsNaN(v.V) || math.IsInf(v.V, 0) {
				have = false
				continue
			}
			x := (float64(t.TimesMs[i]) - start) / 1000
			y := v.V * scale
			if rate {
				if have && x > prevT && v.V >= prevV {
					xys = append(xys, plotter.XY{X: x, Y: (v.V - prevV) / (x - prevT) * scale})
				}
				prevT, prevV, have = x, v.V, true
				continue
			}
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
		if len(xys) > 0 {
			out = append(out, serverLine{label: t.Job + " " + t.Instance, xys: xys})
		}
	}
	return out
}

func serverChart(c *chart, r *results.Result, lines []serverLine, unit string) (*plot.Plot, error) {
	if len(lines) == 0 {
		return nil, errors.New("no samples")
	}
	p := newPlot("seconds since start", unit)
	p.Add(phaseBandsOf(r), grid())
	top := 0.0
	for i, sl := range lines {
		l, err := plotter.NewLine(sl.xys)
		if err != nil {
			return nil, err
		}
		col := colPhases[i%len(colPhases)]
		l.LineStyle = lineStyle(col, 1.4, false)
		p.Add(l)
		top = math.Max(top, xysMax(sl.xys))
		c.Legend = append(c.Legend, legendItem{Label: sl.label, Color: css(col), Kind: "line"})
	}
	p.Y.Min, p.Y.Max = 0, math.Max(top, 1e-9)*1.15
	return p, nil
}
