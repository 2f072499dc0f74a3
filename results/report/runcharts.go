package report

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/slogate/slogate/results"
)

var errNoIntervals = errors.New("the result has no per-second intervals (was the run interrupted during warm-up?)")

// resultCharts are the figures of a one-run report.
func resultCharts(r *results.Result) []*chart {
	return []*chart{
		build(&chart{ID: "latency-over-time", Title: "Latency over time",
			Caption: "Per-second latency percentiles measured from each request's intended send time; dashed lines are the SLO thresholds, shaded bands the load phases."},
			func(c *chart) (*plot.Plot, error) { return latencyOverTime(c, r) }),
		build(&chart{ID: "throughput-over-time", Title: "Throughput over time",
			Caption: "Requests per second by outcome, stacked: success, blocked (the guard answering 429/403) and error; the dashed line is the rate the schedule asked for."},
			func(c *chart) (*plot.Plot, error) { return throughputOverTime(c, r) }),
		build(&chart{ID: "percentile-spectrum", Title: "Latency percentile spectrum",
			Caption: "Latency at each percentile of the whole run (HDR histogram) on HdrHistogram's 1/(1−q) axis, per measured phase and service latency (from the actual send) beside it; the red staircase is the SLO — the curve must stay below it."},
			func(c *chart) (*plot.Plot, error) { return spectrum(c, r) }),
	}
}

func latencyOverTime(c *chart, r *results.Result) (*plot.Plot, error) {
	lo, hi, ok := timeRange(r)
	if !ok {
		return nil, errNoIntervals
	}
	type line struct {
		name   string
		metric string
		width  float64
		pick   func(results.Latency) float64
	}
	lines := []line{
		{"max", "max", 0.8, func(l results.Latency) float64 { return l.Max }},
		{"p99", "p99", 1.6, func(l results.Latency) float64 { return l.P99 }},
		{"p90", "p90", 1.4, func(l results.Latency) float64 { return l.P90 }},
		{"p50", "p50", 1.8, func(l results.Latency) float64 { return l.P50 }},
	}
	segs := make([][]plotter.XYs, len(lines))
	dataMax, dataMin := 0.0, math.Inf(1)
	for i, l := range lines {
		segs[i] = latencySegments(r, l.pick)
		dataMax = math.Max(dataMax, segMax(segs[i]))
		dataMin = math.Min(dataMin, segMin(segs[i]))
	}
	typical := segMedian(segs[3])

	// Thresholds that apply to the whole run or to one phase (endpoint
	// objectives have no per-second series to compare with).
	var ths []threshold
	for _, t := range latencyThresholds(r.SLO) {
		if t.Scope.Kind == results.ScopeRun || t.Scope.Kind == results.ScopePhase {
			ths = append(ths, t)
		}
	}
	values := make([]float64, len(ths))
	for i, t := range ths {
		values[i] = t.Ms
	}
	ax, visible := chooseYAxis(dataMin, typical, dataMax, values)

	p := newPlot("seconds since start", "latency (ms)")
	p.Add(phaseBandsOf(r), grid())
	for i, l := range lines {
		if err := addLines(p, segs[i], lineStyle(metricColor(l.metric), l.width, false)); err != nil {
			return nil, err
		}
		kind := "line"
		if l.width < 1 {
			kind = "thin"
		}
		c.Legend = append(c.Legend, legendItem{Label: l.name, Color: css(metricColor(l.metric)), Kind: kind})
	}
	for i, t := range ths {
		x0, x1 := lo, hi
		if t.Scope.Kind != results.ScopeRun {
			if x0, x1, ok = phaseSpan(r, t.Scope); !ok {
				continue
			}
		}
		label := t.Label
		if t.Scope.Kind != results.ScopeRun {
			label += " (" + t.Scope.String() + ")"
		}
		if !visible[i] {
			c.Notes = append(c.Notes, fmt.Sprintf("SLO %s is off the scale (%s, the data peaks at %s).", label, ms(t.Ms), ms(dataMax)))
			continue
		}
		col := metricColor(t.Metric)
		p.Add(refLine{X0: x0, X1: x1, Y: t.Ms, Style: lineStyle(col, 1.2, true), Label: "SLO " + label})
		c.Legend = append(c.Legend, legendItem{Label: "SLO " + label, Color: css(col), Kind: "dash"})
	}
	p.X.Min, p.X.Max = lo, hi
	ax.apply(&p.Y)
	if ax.log {
		c.Notes = append(c.Notes, "Log latency axis: the slowest seconds are more than 25× the typical p50.")
	}
	return p, nil
}

func throughputOverTime(c *chart, r *results.Result) (*plot.Plot, error) {
	lo, hi, ok := timeRange(r)
	if !ok {
		return nil, errNoIntervals
	}
	p := newPlot("seconds since start", "requests / s")
	p.Add(phaseBandsOf(r), grid())
	// Stacked areas, drawn largest first so each smaller one covers the
	// bottom of the previous: error on top of blocked on top of success.
	type layer struct {
		name string
		col  colorRGBA
		pick func(*results.Interval) float64
	}
	layers := []layer{
		{"error", colError, func(iv *results.Interval) float64 { return float64(iv.Success + iv.Blocked + iv.Errors) }},
		{"blocked", colBlocked, func(iv *results.Interval) float64 { return float64(iv.Success + iv.Blocked) }},
		{"success", colSuccess, func(iv *results.Interval) float64 { return float64(iv.Success) }},
	}
	top := 0.0
	for _, l := range layers {
		xys := countSteps(r, l.pick)
		top = math.Max(top, xysMax(xys))
		area, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		area.StepStyle = plotter.PostStep
		area.FillColor = l.col
		area.LineStyle = lineStyle(darker(l.col), 0.6, false)
		p.Add(area)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		c.Legend = append(c.Legend, legendItem{Label: layers[i].name, Color: css(layers[i].col), Kind: "fill"})
	}
	asked := rateSteps(r, func(iv *results.Interval) float64 { return iv.TargetRPS })
	if xysMax(asked) > 0 {
		top = math.Max(top, xysMax(asked))
		l, err := plotter.NewLine(asked)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = lineStyle(colAsked, 1.3, true)
		p.Add(l)
		c.Legend = append(c.Legend, legendItem{Label: "asked rate", Color: css(colAsked), Kind: "dash"})
	}
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = 0, math.Max(top, 1)*1.15
	return p, nil
}

func spectrum(c *chart, r *results.Result) (*plot.Plot, error) {
	h, err := decodeHistogram(r.Histograms.Run.Latency)
	if err != nil {
		return nil, err
	}
	run := spectrumPoints(h)
	if len(run) == 0 {
		return nil, errors.New("the run recorded no latency")
	}
	p := newPlot("percentile", "latency (ms)")
	p.Add(grid())
	xMax := run[len(run)-1].X
	dataMax, dataMin := xysMax(run), xysMin(run)

	type curve struct {
		name  string
		xys   plotter.XYs
		col   colorRGBA
		width float64
		dash  bool
	}
	var curves []curve
	var phaseNames []string
	for _, ph := range r.Phases {
		if !ph.Warmup {
			phaseNames = append(phaseNames, ph.Name)
		}
	}
	if len(phaseNames) > 1 {
		for i, name := range phaseNames {
			set, ok := r.Histograms.Phases[name]
			if !ok {
				continue
			}
			ph, err := decodeHistogram(set.Latency)
			if err != nil {
				continue
			}
			xys := spectrumPoints(ph)
			if len(xys) == 0 {
				continue
			}
			curves = append(curves, curve{results.PhaseScope(name).String(), xys, colPhases[i%len(colPhases)], 1, false})
		}
	}
	if sh, err := decodeHistogram(r.Histograms.Run.ServiceLatency); err == nil && sh.TotalCount() > 0 {
		curves = append(curves, curve{"run, service latency (from actual send)", spectrumPoints(sh), colOther, 1.2, true})
	}
	curves = append(curves, curve{"run, latency (from intended send)", run, colP50, 2.2, false})
	for _, cv := range curves {
		dataMax = math.Max(dataMax, xysMax(cv.xys))
		dataMin = math.Min(dataMin, xysMin(cv.xys))
	}

	stair, used := sloStaircase(latencyThresholds(r.SLO), xMax)
	values := make([]float64, len(used))
	for i, t := range used {
		values[i] = t.Ms
	}
	ax, visible := chooseYAxis(dataMin, float64(h.ValueAtQuantile(50))/1000, dataMax, values)
	for i, t := range used {
		if !visible[i] {
			c.Notes = append(c.Notes, fmt.Sprintf("SLO %s is off the scale (the run peaks at %s).", t.Label, ms(dataMax)))
		}
	}

	for _, cv := range curves {
		l, err := plotter.NewLine(cv.xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = lineStyle(cv.col, cv.width, cv.dash)
		p.Add(l)
	}
	// Legend: the run first.
	for i := len(curves) - 1; i >= 0; i-- {
		kind := "line"
		if curves[i].dash {
			kind = "dash"
		}
		c.Legend = append(c.Legend, legendItem{Label: curves[i].name, Color: css(curves[i].col), Kind: kind})
	}
	if len(stair) > 0 {
		var names []string
		for _, t := range used {
			names = append(names, t.Label)
		}
		if err := addSLOStair(p, c, stair, "SLO: "+strings.Join(names, ", ")); err != nil {
			return nil, err
		}
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = spectrumTicks{}
	p.X.Min, p.X.Max = 1, xMax
	ax.apply(&p.Y)
	c.Notes = append(c.Notes, fmt.Sprintf("%d requests: the curve ends at the %s percentile, the last one they resolve.", h.TotalCount(), percentileName(1-1/xMax)))
	return p, nil
}

// percentileName renders q (0..1) as "99.99%".
func percentileName(q float64) string {
	digits := 0
	for d := 1 - q; d < 0.0999 && digits < 7; d *= 10 {
		digits++
	}
	return fmt.Sprintf("%.*f%%", max(digits-1, 0), 100*q)
}

// ---- comparison charts ----

// comparisonCharts overlay the two runs. Either side may be nil (a JSON
// comparison rendered without its inputs); then there is nothing to draw.
func comparisonCharts(base, cur *results.Result) []*chart {
	if base == nil || cur == nil {
		return nil
	}
	return []*chart{
		build(&chart{ID: "compare-latency-over-time", Title: "Latency over time: base vs new",
			Caption: "Per-second p50 (dashed) and p99 (solid) of both runs on the same time axis; bands are NEW's load phases, dashed grey lines NEW's SLO thresholds."},
			func(c *chart) (*plot.Plot, error) { return compareLatencyOverTime(c, base, cur) }),
		build(&chart{ID: "compare-percentile-spectrum", Title: "Latency percentile spectrum: base vs new",
			Caption: "Whole-run latency by percentile from each run's HDR histogram; lower is better at every percentile."},
			func(c *chart) (*plot.Plot, error) { return compareSpectrum(c, base, cur) }),
		build(&chart{ID: "compare-throughput", Title: "Throughput over time: base vs new",
			Caption: "Successful requests per second (solid) and errors per second (dotted, if any) of both runs; the dashed black line is the asked rate."},
			func(c *chart) (*plot.Plot, error) { return compareThroughput(c, base, cur) }),
	}
}

type side struct {
	name string
	r    *results.Result
	col  colorRGBA
}

func sides(base, cur *results.Result) []side {
	return []side{{"base", base, colBase}, {"new", cur, colNew}}
}

func unionRange(base, cur *results.Result) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, r := range []*results.Result{base, cur} {
		a, b, ok := timeRange(r)
		if !ok {
			return 0, 0, errNoIntervals
		}
		lo, hi = math.Min(lo, a), math.Max(hi, b)
	}
	return lo, hi, nil
}

func compareLatencyOverTime(c *chart, base, cur *results.Result) (*plot.Plot, error) {
	lo, hi, err := unionRange(base, cur)
	if err != nil {
		return nil, err
	}
	p := newPlot("seconds since start", "latency (ms)")
	p.Add(phaseBandsOf(cur), grid())
	dataMax, dataMin, typical := 0.0, math.Inf(1), math.Inf(1)
	for _, s := range sides(base, cur) {
		p50 := latencySegments(s.r, func(l results.Latency) float64 { return l.P50 })
		p99 := latencySegments(s.r, func(l results.Latency) float64 { return l.P99 })
		if err := addLines(p, p99, lineStyle(s.col, 1.8, false)); err != nil {
			return nil, err
		}
		if err := addLines(p, p50, lineStyle(s.col, 1.4, true)); err != nil {
			return nil, err
		}
		dataMax = math.Max(dataMax, segMax(p99))
		dataMin = math.Min(dataMin, segMin(p50))
		typical = math.Min(typical, segMedian(p50))
		c.Legend = append(c.Legend,
			legendItem{Label: s.name + " p99", Color: css(s.col), Kind: "line"},
			legendItem{Label: s.name + " p50", Color: css(s.col), Kind: "dash"})
	}
	var ths []threshold
	for _, t := range latencyThresholds(cur.SLO) {
		if t.Scope.Kind == results.ScopeRun && (t.Metric == "p50" || t.Metric == "p99") {
			ths = append(ths, t)
		}
	}
	values := make([]float64, len(ths))
	for i, t := range ths {
		values[i] = t.Ms
	}
	ax, visible := chooseYAxis(dataMin, typical, dataMax, values)
	for i, t := range ths {
		if !visible[i] {
			c.Notes = append(c.Notes, fmt.Sprintf("SLO %s is off the scale (the data peaks at %s).", t.Label, ms(dataMax)))
			continue
		}
		p.Add(refLine{X0: lo, X1: hi, Y: t.Ms, Style: lineStyle(colOther, 1.1, true), Label: "SLO " + t.Label})
		c.Legend = append(c.Legend, legendItem{Label: "SLO " + t.Label, Color: css(colOther), Kind: "dash"})
	}
	p.X.Min, p.X.Max = lo, hi
	ax.apply(&p.Y)
	return p, nil
}

func compareSpectrum(c *chart, base, cur *results.Result) (*plot.Plot, error) {
	p := newPlot("percentile", "latency (ms)")
	p.Add(grid())
	xMax, dataMax, dataMin, typical := 1.0001, 0.0, math.Inf(1), math.Inf(1)
	for _, s := range sides(base, cur) {
		h, err := decodeHistogram(s.r.Histograms.Run.Latency)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		xys := spectrumPoints(h)
		if len(xys) == 0 {
			return nil, fmt.Errorf("%s: the run recorded no latency", s.name)
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = lineStyle(s.col, 2, false)
		p.Add(l)
		xMax = math.Max(xMax, xys[len(xys)-1].X)
		dataMax = math.Max(dataMax, xysMax(xys))
		dataMin = math.Min(dataMin, xysMin(xys))
		typical = math.Min(typical, float64(h.ValueAtQuantile(50))/1000)
		c.Legend = append(c.Legend, legendItem{Label: fmt.Sprintf("%s (%d requests)", s.name, h.TotalCount()), Color: css(s.col), Kind: "line"})
	}
	stair, used := sloStaircase(latencyThresholds(cur.SLO), xMax)
	values := make([]float64, len(used))
	for i, t := range used {
		values[i] = t.Ms
	}
	ax, _ := chooseYAxis(dataMin, typical, dataMax, values)
	if len(stair) > 0 {
		if err := addSLOStair(p, c, stair, "SLO (new)"); err != nil {
			return nil, err
		}
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = spectrumTicks{}
	p.X.Min, p.X.Max = 1, xMax
	ax.apply(&p.Y)
	return p, nil
}

func compareThroughput(c *chart, base, cur *results.Result) (*plot.Plot, error) {
	lo, hi, err := unionRange(base, cur)
	if err != nil {
		return nil, err
	}
	p := newPlot("seconds since start", "requests / s")
	p.Add(phaseBandsOf(cur), grid())
	top := 1.0
	add := func(xys plotter.XYs, style func(*plotter.Line)) error {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		style(l)
		p.Add(l)
		top = math.Max(top, xysMax(xys))
		return nil
	}
	for _, s := range sides(base, cur) {
		col := s.col
		ok := countSteps(s.r, func(iv *results.Interval) float64 { return float64(iv.Success) })
		if err := add(ok, func(l *plotter.Line) { l.LineStyle = lineStyle(col, 1.8, false) }); err != nil {
			return nil, err
		}
		c.Legend = append(c.Legend, legendItem{Label: s.name + " success/s", Color: css(col), Kind: "line"})
		errs := countSteps(s.r, func(iv *results.Interval) float64 { return float64(iv.Errors) })
		if xysMax(errs) > 0 {
			if err := add(errs, func(l *plotter.Line) {
				l.LineStyle = lineStyle(col, 1.2, false)
				l.LineStyle.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
			}); err != nil {
				return nil, err
			}
			c.Legend = append(c.Legend, legendItem{Label: s.name + " errors/s", Color: css(col), Kind: "dot"})
		}
	}
	asked := rateSteps(cur, func(iv *results.Interval) float64 { return iv.TargetRPS })
	if xysMax(asked) > 0 {
		if err := add(asked, func(l *plotter.Line) { l.LineStyle = lineStyle(colAsked, 1.1, true) }); err != nil {
			return nil, err
		}
		c.Legend = append(c.Legend, legendItem{Label: "asked rate (new)", Color: css(colAsked), Kind: "dash"})
	}
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = 0, top*1.15
	return p, nil
}

// darker returns c with its channels at 70 %, for the edge of a filled area.
func darker(c colorRGBA) colorRGBA {
	return colorRGBA{R: uint8(float64(c.R) * 0.7), G: uint8(float64(c.G) * 0.7), B: uint8(float64(c.B) * 0.7), A: c.A}
}

// addSLOStair draws the SLO staircase on a spectrum chart, dashed, with its legend entry.
func addSLOStair(p *plot.Plot, c *chart, stair plotter.XYs, label string) error {
	l, err := plotter.NewLine(stair)
	if err != nil {
		return err
	}
	l.LineStyle = lineStyle(colSLO, 1.4, true)
	p.Add(l)
	c.Legend = append(c.Legend, legendItem{Label: label, Color: css(colSLO), Kind: "dash"})
	return nil
}
