package capacity

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/slogate/slogate/results"
)

var (
	colP50      = color.RGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
	colP95      = color.RGBA{R: 0x0d, G: 0x94, B: 0x88, A: 0xff}
	colP99      = color.RGBA{R: 0xea, G: 0x58, B: 0x0c, A: 0xff}
	colSLO      = color.RGBA{R: 0xdc, G: 0x26, B: 0x26, A: 0xff}
	colMark     = color.RGBA{R: 0x11, G: 0x18, B: 0x27, A: 0xff}
	colKnee     = color.RGBA{R: 0x93, G: 0x33, B: 0xea, A: 0xff}
	colMeasured = color.RGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
	colModel    = color.RGBA{R: 0xea, G: 0x58, B: 0x0c, A: 0xff}
)

// Charts are the report's inline SVG charts: latency percentiles against
// the stepped rate with the SLO thresholds, the knee and the capacity
// marked; and the USL curve over the measured points. A chart that cannot
// be drawn is left out (the text report below it has every figure).
func Charts(r *Report) []template.HTML {
	var out []template.HTML
	for _, f := range []func(*Report) (*plot.Plot, error){latencyChart, uslChart} {
		p, err := safePlot(f, r)
		if err != nil || p == nil {
			continue
		}
		if svg, err := inlineSVG(p); err == nil {
			out = append(out, svg)
		}
	}
	return out
}

// safePlot turns a panic inside gonum/plot into an error.
func safePlot(f func(*Report) (*plot.Plot, error), r *Report) (p *plot.Plot, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("chart: %v", v)
		}
	}()
	return f(r)
}

func judged(steps []Step) []Step {
	var out []Step
	for _, st := range steps {
		if st.Summary.Requests > 0 {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RateRPS < out[j].RateRPS })
	return out
}

func latencyChart(r *Report) (*plot.Plot, error) {
	steps := judged(r.Steps)
	if len(steps) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Latency percentiles by stepped rate (from the intended send time)"
	p.X.Label.Text = "rate (req/s)"
	p.Y.Label.Text = "latency (ms)"
	p.Add(plotter.NewGrid())
	maxY := 0.0
	for _, c := range []struct {
		name string
		col  color.RGBA
		pick func(results.Latency) float64
	}{
		{"p50", colP50, func(l results.Latency) float64 { return l.P50 }},
		{"p95", colP95, func(l results.Latency) float64 { return l.P95 }},
		{"p99", colP99, func(l results.Latency) float64 { return l.P99 }},
	} {
		xys := make(plotter.XYs, len(steps))
		for i, st := range steps {
			xys[i] = plotter.XY{X: st.RateRPS, Y: c.pick(st.Summary.LatencyMs)}
			maxY = math.Max(maxY, xys[i].Y)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = c.col, c.col
		p.Add(line, points)
		p.Legend.Add(c.name, line)
	}
	xMax := steps[len(steps)-1].RateRPS
	for _, b := range r.Thresholds {
		if b.Value <= 0 || b.Value > 4*maxY {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: b.Value}, {X: xMax, Y: b.Value}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Dashes = colSLO, []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("SLO %s %s %g ms", b.Metric, b.Op, b.Value), l)
	}
	yTop := maxY * 1.05
	for _, m := range []struct {
		at   float64
		col  color.RGBA
		name string
	}{{r.KneeRPS, colKnee, "knee"}, {r.CapacityRPS, colMark, "capacity"}, {r.GeneratorLimitRPS, colMark, "generator limit"}} {
		if m.at <= 0 {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: m.at, Y: 0}, {X: m.at, Y: yTop}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = m.col, vg.Points(1.5)
		if m.name == "knee" {
			l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s %.0f req/s", m.name, m.at), l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Min = 0
	return p, nil
}

func uslChart(r *Report) (*plot.Plot, error) {
	pts := Points(r.Steps)
	if r.Model == nil || len(pts) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Universal Scalability Law over the steps (N = throughput × mean latency)"
	p.X.Label.Text = "concurrency N"
	p.Y.Label.Text = "throughput (req/s)"
	p.Add(plotter.NewGrid())
	xys := make(plotter.XYs, len(pts))
	nMax := 0.0
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.N, Y: pt.X}
		nMax = math.Max(nMax, pt.N)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	sc.Color = colMeasured
	p.Add(sc)
	p.Legend.Add("measured steps", sc)
	// The curve to a little past the last point, or to the peak if it is
	// near: a curve far beyond the measurements would look like data.
	end := nMax * 1.2
	if r.Model.PeakN > 0 && r.Model.PeakN < 2*nMax {
		end = math.Max(end, r.Model.PeakN*1.1)
	}
	const n = 100
	curve := make(plotter.XYs, n)
	for i := range curve {
		x := end * float64(i+1) / n
		curve[i] = plotter.XY{X: x, Y: r.Model.Throughput(x)}
	}
	l, err := plotter.NewLine(curve)
	if err != nil {
		return nil, err
	}
	l.Color = colModel
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("USL (σ %.3g, κ %.3g; a model, R² %.2f)", r.Model.Sigma, r.Model.Kappa, r.Model.R2), l)
	p.Legend.Top, p.Legend.Left = false, false
	p.X.Min, p.Y.Min = 0, 0
	return p, nil
}

var svgHeader = regexp.MustCompile(`(?s)^.*?<svg[^>]*?viewBox="([^"]*)"[^>]*>`)

// inlineSVG draws p as an <svg> element that scales with the page.
func inlineSVG(p *plot.Plot) (template.HTML, error) {
	canvas := vgsvg.New(760, 320)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	m := svgHeader.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("chart: unexpected SVG header")
	}
	s = fmt.Sprintf(`<svg viewBox="%s" role="img" style="width:100%%;height:auto">`, m[1]) + s[len(m[0]):]
	return template.HTML(s), nil // #nosec: generated by vgsvg, which escapes text
}
