package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/slogate/slogate/results"
)

// chart is one figure of the HTML report: an inline SVG drawn by gonum/plot
// and the legend, printed by the page beside it so it never hides data.
type chart struct {
	ID      string
	Title   string
	Caption string
	SVG     template.HTML
	Legend  []legendItem
	Notes   []string
	Err     string // the chart could not be drawn: why
}

type legendItem struct {
	Label string
	Color string // CSS colour
	Kind  string // line | dash | fill | thin
}

// Chart geometry in points (the SVG scales to the page width).
const (
	chartWidth  = 760
	chartHeight = 290
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

	colText     = rgb(0x1f2937)
	colAxis     = rgb(0x6b7280)
	colGrid     = rgb(0xe5e7eb)
	colBand     = color.NRGBA{R: 0x94, G: 0xa3, B: 0xb8, A: 0x2a}
	colBoundary = rgb(0x94a3b8)

	colP50     = rgb(0x2563eb)
	colP90     = rgb(0x0d9488)
	colP99     = rgb(0xea580c)
	colMax     = rgb(0x9333ea)
	colOther   = rgb(0x475569)
	colSuccess = rgb(0x22c55e)
	colBlocked = rgb(0xf59e0b)
	colError   = rgb(0xdc2626)
	colAsked   = rgb(0x111827)
	colSLO     = rgb(0xdc2626)
	colBase    = rgb(0x2563eb)
	colNew     = rgb(0xea580c)
	colPhases  = []color.RGBA{rgb(0x0d9488), rgb(0x9333ea), rgb(0xdb2777), rgb(0x65a30d), rgb(0x0891b2), rgb(0xca8a04)}
)

// colorRGBA is the one colour type the report uses.
type colorRGBA = color.RGBA

func rgb(hex uint32) color.RGBA {
	return color.RGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

func css(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// metricColor is the colour of a latency percentile's line, shared by its
// SLO threshold line so the two read together.
func metricColor(metric string) color.RGBA {
	switch metric {
	case "p50":
		return colP50
	case "p90":
		return colP90
	case "p99":
		return colP99
	case "max":
		return colMax
	}
	return colOther
}

func lineStyle(c color.RGBA, width float64, dashed bool) draw.LineStyle {
	s := draw.LineStyle{Color: c, Width: vg.Points(width)}
	if dashed {
		s.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return s
}

func textStyle(c color.Color, size vg.Length, x draw.XAlignment, y draw.YAlignment) text.Style {
	return text.Style{Color: c, Font: font.From(sansFont, size), XAlign: x, YAlign: y, Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot in the report's style: sans-serif text, light
// axes, no title (the page prints it).
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sansFont, 11)
		ax.Label.TextStyle.Color = colText
		ax.Tick.Label.Font = font.From(sansFont, 10)
		ax.Tick.Label.Color = colText
		ax.LineStyle.Color = colAxis
		ax.Tick.LineStyle.Color = colAxis
		ax.Padding = vg.Points(2)
	}
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(sansFont, 10)
	return p
}

func grid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: colGrid, Width: vg.Points(0.5)}
	g.Horizontal = draw.LineStyle{Color: colGrid, Width: vg.Points(0.5)}
	return g
}

// build runs one chart builder and turns a panic inside gonum/plot (it
// panics on, e.g., non-positive values on a log axis) into a chart that
// says it could not be drawn, so one bad chart never loses the report.
func build(c *chart, plotChart func(c *chart) (*plot.Plot, error)) *chart {
	func() {
		defer func() {
			if v := recover(); v != nil {
				c.Err = fmt.Sprint(v)
			}
		}()
		p, err := plotChart(c)
		if err != nil {
			c.Err = err.Error()
			return
		}
		if p == nil {
			return
		}
		svg, err := renderSVG(p, chartWidth, chartHeight, c.Title)
		if err != nil {
			c.Err = err.Error()
			return
		}
		c.SVG = svg
	}()
	return c
}

var (
	svgHeaderRE  = regexp.MustCompile(`(?s)^.*?<svg[^>]*?viewBox="([^"]*)"[^>]*>`)
	svgCommentRE = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// renderSVG draws p and returns it as an inline <svg> element: no XML
// prolog, no namespace URLs (HTML5 parsers know <svg>), a viewBox so it
// scales with the page, and a font stack so browsers without the
// Liberation fonts fall back to a metric-compatible sans-serif.
func renderSVG(p *plot.Plot, w, h vg.Length, title string) (template.HTML, error) {
	canvas := vgsvg.New(w, h)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("rendering chart: %w", err)
	}
	s := svgCommentRE.ReplaceAllString(buf.String(), "")
	m := svgHeaderRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("rendering chart: unexpected SVG header")
	}
	header := fmt.Sprintf(`<svg class="chart" viewBox="%s" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		m[1], template.HTMLEscapeString(title))
	s = header + s[len(m[0]):]
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return template.HTML(s), nil // #nosec: generated by vgsvg, which escapes text
}

// ---- custom plotters ----

type band struct {
	Name       string
	Start, End float64
}

// phaseBands shades every other phase of the load profile across the full
// height of the chart, draws a dashed line at each phase boundary and writes
// the phase name at the top, so a latency or throughput change can be read
// against the phase that caused it. Added first, it sits behind the data.
type phaseBands []band

func (pb phaseBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	label := textStyle(colAxis, 9, draw.XLeft, draw.YTop)
	boundary := lineStyle(colBoundary, 0.8, true)
	for i, b := range pb {
		start, end := math.Max(b.Start, p.X.Min), math.Min(b.End, p.X.Max)
		if end <= start {
			continue
		}
		x0, x1 := trX(start), trX(end)
		if i%2 == 1 {
			c.FillPolygon(colBand, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		}
		if b.Start > p.X.Min {
			c.StrokeLine2(boundary, x0, c.Min.Y, x0, c.Max.Y)
		}
		if x1-x0 > label.Width(b.Name)+vg.Points(4) {
			c.FillText(label, vg.Point{X: x0 + vg.Points(4), Y: c.Max.Y - vg.Points(3)}, b.Name)
		}
	}
}

// refLine is a horizontal line over [X0, X1] at Y with a label at its right
// end: an SLO threshold.
type refLine struct {
	X0, X1, Y float64
	Style     draw.LineStyle
	Label     string
}

func (l refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	x0, x1 := trX(math.Max(l.X0, p.X.Min)), trX(math.Min(l.X1, p.X.Max))
	y := trY(l.Y)
	if y < c.Min.Y || y > c.Max.Y || x1 <= x0 {
		return
	}
	c.StrokeLine2(l.Style, x0, y, x1, y)
	if l.Label != "" {
		c.FillText(textStyle(l.Style.Color, 9, draw.XRight, draw.YBottom), vg.Point{X: x1 - vg.Points(3), Y: y + vg.Points(2)}, l.Label)
	}
}

// linearTicks puts about six labelled ticks on a linear axis at a "nice"
// step (1, 2 or 5 × 10^k) with an unlabelled tick halfway between:
// gonum's default gives as few as three.
type linearTicks struct{}

func (linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return nil
	}
	span := max - min
	mag := math.Pow(10, math.Floor(math.Log10(span/6)))
	step, best := mag, math.Inf(1)
	for _, m := range []float64{1, 2, 5, 10} {
		if d := math.Abs(span/(m*mag) - 6); d < best {
			step, best = m*mag, d
		}
	}
	// Labels carry the step's decimals and no more: 3 × 0.2 prints 0.6,
	// not 0.6000000000000001.
	decimals := int(-math.Floor(math.Log10(step) + 1e-9))
	if decimals < 0 {
		decimals = 0
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / step * 2); i*step/2 <= max*(1+1e-9); i++ {
		v := i * step / 2
		t := plot.Tick{Value: v}
		if math.Mod(i, 2) == 0 {
			t.Label = strconv.FormatFloat(math.Round(v/step)*step, 'f', decimals, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logTicks labels a log axis at 1, 2 and 5 × 10^k (only 10^k when the range
// spans more than four decades), with unlabelled minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	decades := math.Log10(max / min)
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (decades <= 4 && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// ---- series from a result ----

// timeRange is the measured span of a run's per-second intervals:
// [first t_s, last t_s + 1).
func timeRange(r *results.Result) (lo, hi float64, ok bool) {
	if r == nil || len(r.Intervals) == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, iv := range r.Intervals {
		lo = math.Min(lo, float64(iv.TS))
		hi = math.Max(hi, float64(iv.TS+1))
	}
	return lo, hi, true
}

func phaseBandsOf(r *results.Result) phaseBands {
	var pb phaseBands
	for _, p := range r.Phases {
		name := p.Name
		if p.Warmup {
			name += " (warm-up)"
		}
		pb = append(pb, band{Name: name, Start: p.StartS, End: p.StartS + p.DurationS})
	}
	return pb
}

func phaseSpan(r *results.Result, scope results.Scope) (lo, hi float64, ok bool) {
	if scope.Kind != results.ScopePhase {
		return 0, 0, false
	}
	if p := r.Phase(scope.Name); p != nil {
		return p.StartS, p.StartS + p.DurationS, true
	}
	return 0, 0, false
}

// latencySegments returns one latency statistic per second, plotted at the
// middle of its second, split where a second is missing or had no
// request: a line must not bridge a gap it knows nothing about.
func latencySegments(r *results.Result, pick func(results.Latency) float64) []plotter.XYs {
	ivs := append([]results.Interval(nil), r.Intervals...)
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].TS < ivs[j].TS })
	var segs []plotter.XYs
	var cur plotter.XYs
	last := math.MinInt
	flush := func() {
		if len(cur) == 1 { // a lone second is drawn as a short dash
			cur = plotter.XYs{{X: cur[0].X - 0.4, Y: cur[0].Y}, {X: cur[0].X + 0.4, Y: cur[0].Y}}
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
		}
		cur = nil
	}
	for _, iv := range ivs {
		if iv.Requests == 0 {
			flush()
			continue
		}
		if iv.TS != last+1 {
			flush()
		}
		last = iv.TS
		cur = append(cur, plotter.XY{X: float64(iv.TS) + 0.5, Y: pick(iv.LatencyMs)})
	}
	flush()
	return segs
}

// rateSteps returns a per-second rate (such as the asked rate) as a step
// series over [t, t+1): missing seconds are zero, and a last point closes
// the final second.
func rateSteps(r *results.Result, pick func(*results.Interval) float64) plotter.XYs {
	return steps(r, pick, false)
}

// countSteps returns a per-second count (requests of an outcome) as a rate
// step series. A second the schedule covered only in part (the last second
// of a run that ends mid-second, Interval.SpanS) is divided by that part
// (250 requests in the last 0.5 s are 500 req/s, not a drop to 250) and
// drawn over it; one under minPartialSecond is left out (too short to be a
// rate).
func countSteps(r *results.Result, pick func(*results.Interval) float64) plotter.XYs {
	return steps(r, pick, true)
}

// minPartialSecond is the shortest partial second countSteps draws.
const minPartialSecond = 0.25

func steps(r *results.Result, pick func(*results.Interval) float64, counts bool) plotter.XYs {
	if _, _, ok := timeRange(r); !ok {
		return nil
	}
	// Walk the intervals, not the seconds between them: a gap (seconds
	// with no request) is one zero step, so the work is bounded by the
	// number of intervals whatever their timestamps.
	ivs := make([]*results.Interval, 0, len(r.Intervals))
	for i := range r.Intervals {
		ivs = append(ivs, &r.Intervals[i])
	}
	sort.SliceStable(ivs, func(i, j int) bool { return ivs[i].TS < ivs[j].TS })
	var xys plotter.XYs
	next := float64(ivs[0].TS) // the first second not yet drawn
	end := next                // where the series ends
	skipped := math.NaN()      // the second after a left-out sliver
	for _, iv := range ivs {
		t := float64(iv.TS)
		if t < next { // a second seen twice: the first one counts
			continue
		}
		span := 1.0
		if counts && iv.SpanS > 0 && iv.SpanS < 1 {
			span = iv.SpanS
		}
		if span < minPartialSecond {
			skipped = t + 1 // not a gap: the previous step runs on
			continue
		}
		if t > next && t != skipped {
			xys = append(xys, plotter.XY{X: next, Y: 0})
		}
		xys = append(xys, plotter.XY{X: t, Y: pick(iv) / span})
		// A partial second inside a series (where merged runs meet) is a
		// rate like any other; only the series' end stops at its span.
		next, end = t+1, t+span
	}
	if len(xys) == 0 {
		return nil
	}
	return append(xys, plotter.XY{X: end, Y: xys[len(xys)-1].Y})
}

func addLines(p *plot.Plot, segs []plotter.XYs, style draw.LineStyle) error {
	for _, s := range segs {
		l, err := plotter.NewLine(s)
		if err != nil {
			return err
		}
		l.LineStyle = style
		p.Add(l)
	}
	return nil
}

func segMax(segs []plotter.XYs) float64 {
	m := 0.0
	for _, s := range segs {
		for _, p := range s {
			m = math.Max(m, p.Y)
		}
	}
	return m
}

func segMin(segs []plotter.XYs) float64 {
	m := math.Inf(1)
	for _, s := range segs {
		for _, p := range s {
			if p.Y > 0 {
				m = math.Min(m, p.Y)
			}
		}
	}
	return m
}

func segMedian(segs []plotter.XYs) float64 {
	var vs []float64
	for _, s := range segs {
		for _, p := range s {
			vs = append(vs, p.Y)
		}
	}
	if len(vs) == 0 {
		return 0
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// yAxis chooses the latency axis. A linear axis from 0 reads best; when the
// top of the data is more than 25× its typical value (one stalled second
// among milliseconds), a log axis keeps both readable. Thresholds more than
// 3× (linear) or 10× (log) above the data would squash it, so they are left
// off the chart and listed under it instead.
type yAxis struct {
	log      bool
	min, max float64
}

func chooseYAxis(dataMin, dataTypical, dataMax float64, thresholds []float64) (yAxis, []bool) {
	ax := yAxis{log: dataTypical > 0 && dataMax/dataTypical > 25}
	limit := 3 * dataMax
	if ax.log {
		limit = 10 * dataMax
	}
	top := dataMax
	bottom := dataMin
	visible := make([]bool, len(thresholds))
	for i, t := range thresholds {
		if t <= limit || dataMax == 0 {
			visible[i] = true
			top = math.Max(top, t)
			if t > 0 {
				bottom = math.Min(bottom, t)
			}
		}
	}
	if top <= 0 {
		top = 1
	}
	if ax.log {
		if !(bottom > 0) || math.IsInf(bottom, 0) {
			bottom = top / 100
		}
		ax.min, ax.max = bottom/1.4, top*1.6
	} else {
		ax.min, ax.max = 0, top*1.15
	}
	return ax, visible
}

func (ax yAxis) apply(a *plot.Axis) {
	a.Min, a.Max = ax.min, ax.max
	if ax.log {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = logTicks{}
	}
}

// ---- percentile spectrum ----

// spectrumPoints samples a latency histogram for a percentile spectrum plot
// on the HdrHistogram x axis X = 1/(1−q): 0 % at X=1, 90 % at 10, 99 % at
// 100, 99.9 % at 1000. Points are spaced evenly in log X (40 a decade) up
// to X = N, the request count (the last percentile one request can
// resolve), and end on the maximum.
func spectrumPoints(h *hdrhistogram.Histogram) plotter.XYs {
	n := float64(h.TotalCount())
	if n < 1 {
		return nil
	}
	var xys plotter.XYs
	for k := 0; ; k++ {
		x := math.Pow(10, float64(k)/40)
		if x >= n {
			break
		}
		q := 1 - 1/x
		xys = append(xys, plotter.XY{X: x, Y: float64(h.ValueAtQuantile(100*q)) / 1000})
	}
	return append(xys, plotter.XY{X: math.Max(n, 1.0001), Y: float64(h.Max()) / 1000})
}

// spectrumTicks labels the 1/(1−q) axis in percentiles.
type spectrumTicks struct{}

func (spectrumTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%"}
	for i, l := range labels {
		x := math.Pow(10, float64(i))
		if x > max*(1+1e-9) {
			break
		}
		ticks = append(ticks, plot.Tick{Value: x, Label: l})
		if i == 0 && 2 <= max {
			ticks = append(ticks, plot.Tick{Value: 2, Label: "50%"})
		}
	}
	return ticks
}

// sloStaircase is the SLO as a function of the percentile, as
// HdrHistogram's plotter draws an SLA: at percentile q the latency may be at
// most the smallest upper bound among objectives at q or beyond. The
// spectrum must stay under it. Only run-scoped upper bounds on percentiles
// count; max sits at the right edge.
func sloStaircase(ths []threshold, xMax float64) (plotter.XYs, []threshold) {
	type step struct {
		x, ms float64
	}
	var steps []step
	var used []threshold
	for _, t := range ths {
		q := quantileOf(t.Metric)
		if !t.Upper || t.Scope.Kind != results.ScopeRun || q <= 0 {
			continue
		}
		x := xMax
		if q < 1 {
			x = math.Min(1/(1-q), xMax)
		}
		steps = append(steps, step{x, t.Ms})
		used = append(used, t)
	}
	if len(steps) == 0 {
		return nil, nil
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].x < steps[j].x })
	// Effective bound over (x_{i-1}, x_i]: the minimum of bounds at x_i and beyond.
	eff := make([]float64, len(steps))
	m := math.Inf(1)
	for i := len(steps) - 1; i >= 0; i-- {
		m = math.Min(m, steps[i].ms)
		eff[i] = m
	}
	xys := plotter.XYs{{X: 1, Y: eff[0]}}
	for i, s := range steps {
		xys = append(xys, plotter.XY{X: s.x, Y: eff[i]})
		if i+1 < len(steps) {
			xys = append(xys, plotter.XY{X: s.x, Y: eff[i+1]})
		}
	}
	return xys, used
}

func xysMax(xys plotter.XYs) float64 {
	m := 0.0
	for _, p := range xys {
		m = math.Max(m, p.Y)
	}
	return m
}

func xysMin(xys plotter.XYs) float64 {
	m := math.Inf(1)
	for _, p := range xys {
		if p.Y > 0 {
			m = math.Min(m, p.Y)
		}
	}
	return m
}

func decodeHistogram(enc string) (*hdrhistogram.Histogram, error) {
	if enc == "" {
		return nil, fmt.Errorf("the result has no histogram")
	}
	return results.DecodeHistogram(enc)
}
