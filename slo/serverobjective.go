package slo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo/promql"
)

// Server-side objectives: {promql: EXPR, threshold: "< 0.1", over: end|run}.
//
// The expression is evaluated by Prometheus's own engine (package promql)
// over the samples the run scraped from its target, or by a running
// Prometheus (Options.Prometheus). Its value is in the expression's own unit,
// so the threshold is a plain number ("< 0.1", ">= 300") or a percentage
// ("> 90%" is 0.9); a range "a..b" works as for metrics.
//
// Several series: every one is judged and the worst decides (a series per
// instance or per action is common); the detail names it. No series, no
// scrape, a NaN value: inconclusive, never a pass.

// PromQLUnit is the unit of a PromQL objective's value: the expression's own.
const PromQLUnit = "value"

// promQLTimeout bounds one objective's evaluation.
const promQLTimeout = 30 * time.Second

func (o *Objective) compilePromQL() error {
	if o.PromQL == "" {
		return ferr("over", "over applies to promql objectives only")
	}
	if o.Metric != "" {
		return ferr("promql", "an objective has a metric or a promql expression, not both")
	}
	if o.Phase != "" || o.Endpoint != "" {
		return ferr("promql", "a promql objective covers the whole run: remove phase/endpoint (select series with labels instead)")
	}
	switch o.Over {
	case "", string(promql.AtEnd):
		o.Over = string(promql.AtEnd)
	case string(promql.OverRun):
	default:
		return ferr("over", "%q: want end (the value at the end of the run) or run (the worst value across it)", o.Over)
	}
	if _, err := promql.Parse(o.PromQL); err != nil {
		return ferr("promql", "%v", err)
	}
	if err := o.compileLimits(o.parsePromQLThreshold, `"< 0.1", "> 90%"`); err != nil {
		return err
	}
	if o.Name == "" {
		o.Name = strings.Join(strings.Fields(o.PromQL), " ")
	}
	return nil
}

func (o *Objective) parsePromQLThreshold() error {
	t := strings.TrimSpace(o.Threshold)
	if lo, hi, ok := strings.Cut(t, ".."); ok {
		a, err := parsePlain(lo)
		if err != nil {
			return err
		}
		b, err := parsePlain(hi)
		if err != nil {
			return err
		}
		if b < a {
			return fmt.Errorf("range %q runs backwards", t)
		}
		o.op, o.lo, o.hi = "range", a, b
		return nil
	}
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if rest, ok := strings.CutPrefix(t, op); ok {
			v, err := parsePlain(rest)
			if err != nil {
				return err
			}
			o.op, o.value = op, v
			return nil
		}
	}
	return fmt.Errorf("%q needs a comparison: <, <=, >, >= or a range a..b", t)
}

// parsePlain reads a finite number, or a percentage ("90%" is 0.9).
func parsePlain(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(p), 0.01
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number (or a percentage like 90%%)", s)
	}
	return f * scale, nil
}

func (o *Objective) promQLString() string {
	expr := strings.Join(strings.Fields(o.PromQL), " ")
	if o.Name != expr { // named: the name reads better; the result keeps the expression
		expr = o.Name
	}
	var parts []string
	if o.Threshold != "" {
		parts = append(parts, expr+" "+strings.TrimSpace(o.Threshold))
	}
	if o.Budget != "" {
		parts = append(parts, expr+" "+o.Budget+" vs baseline")
	}
	s := strings.Join(parts, ", ")
	if o.Over == string(promql.OverRun) {
		s += " (worst across the run)"
	}
	return s
}

// higherIsBetter: for "> x" and ">= x" the worst series is the lowest.
func (o *Objective) higherIsBetter() bool { return o.op == ">" || o.op == ">=" }

// promQLValue evaluates o over r (or over the configured Prometheus) and
// returns the worst sample and how many series there were.
func promQLValue(r *results.Result, o *Objective, src promql.Source) (promql.Sample, int, error) {
	if src == nil {
		src = promql.Scraped{Server: r.Server}
	}
	ctx, cancel := context.WithTimeout(context.Background(), promQLTimeout)
	defer cancel()
	samples, err := src.Query(ctx, o.PromQL, promql.Over(o.Over))
	if err != nil {
		return promql.Sample{}, 0, err
	}
	// A series whose value is NaN had no data in its window (a histogram
	// of an action that never happened: 0/0): it describes nothing and is
	// left out, unless every series is NaN.
	series, nan := map[string]bool{}, map[string]bool{}
	var valued []promql.Sample
	for _, s := range samples {
		if math.IsNaN(s.V) {
			nan[s.Labels] = true
			continue
		}
		series[s.Labels] = true
		valued = append(valued, s)
	}
	if len(valued) == 0 {
		return samples[0], len(nan), nil
	}
	samples = valued
	var worst promql.Sample
	if o.op == "range" {
		// the sample farthest outside the range (or the first, all inside)
		worst = samples[0]
		far := -1.0
		for _, s := range samples {
			d := math.Max(o.lo-s.V, s.V-o.hi)
			if math.IsNaN(s.V) {
				worst = s
				break
			}
			if d > far {
				far, worst = d, s
			}
		}
	} else {
		worst = promql.Worst(samples, o.higherIsBetter())
	}
	return worst, len(series), nil
}

func evaluatePromQL(r *results.Result, o *Objective, opts Options) results.ObjectiveResult {
	out := results.ObjectiveResult{Name: o.Name, Objective: o.String(), PromQL: o.PromQL, Scope: results.RunScope(), Unit: PromQLUnit,
		Key: o.Key, Weight: o.Weight, Bounds: o.promQLBounds()}
	worst, n, err := promQLValue(r, o, opts.Prometheus)
	if err != nil {
		out.Verdict = Inconclusive
		if errors.Is(err, promql.ErrNoData) {
			out.Detail = err.Error()
		} else {
			out.Detail = "the query failed: " + err.Error()
		}
		return out
	}
	if math.IsNaN(worst.V) {
		out.Verdict, out.Detail = Inconclusive, "the expression is NaN "+worst.Labels+" (no samples in its window, or 0/0)"
		return out
	}
	out.Value = round(worst.V)
	detail := ""
	if n > 1 {
		detail = fmt.Sprintf("worst of %d series: %s", n, worst.Labels)
	}
	verdict := Pass
	if o.op != "" && !holds(o, worst.V) {
		verdict = Fail
	}
	if o.budget != nil {
		bv, bdetail, bverdict := promQLBudget(o, worst.V, opts)
		verdict, detail = withBudget(&out, o, PromQLUnit, verdict, detail, bv, bdetail, bverdict)
	}
	out.Verdict, out.Detail = verdict, detail
	return out
}

func (o *Objective) promQLBounds() []results.Bound {
	switch o.op {
	case "":
		return nil
	case "range":
		return []results.Bound{{Metric: PromQLUnit, Op: ">=", Value: o.lo}, {Metric: PromQLUnit, Op: "<=", Value: o.hi}}
	}
	return []results.Bound{{Metric: PromQLUnit, Op: o.op, Value: o.value}}
}

// promQLBudget compares with the same expression over the baseline's own
// scraped samples (checkBudget). A server-side value is one number per run:
// there is no significance test for it, the change counts as it is.
func promQLBudget(o *Objective, v float64, opts Options) (*float64, string, string) {
	return checkBudget(o, v, opts, func(base *results.Result) (float64, error) {
		w, _, err := promQLValue(base, o, nil)
		if err == nil && math.IsNaN(w.V) {
			err = errors.New("the expression is NaN")
		}
		return w.V, err
	})
}

// PromQLFamilies lists the metric names the set's PromQL objectives select,
// so that a run keeps their series in its result.
func (s *Set) PromQLFamilies() []string {
	var names []string
	for i := range s.Objectives {
		if o := &s.Objectives[i]; o.PromQL != "" {
			n, _ := promql.Parse(o.PromQL)
			names = append(names, n...)
		}
	}
	return names
}

// HasPromQL reports whether any objective is server-side.
func (s *Set) HasPromQL() bool {
	for i := range s.Objectives {
		if s.Objectives[i].PromQL != "" {
			return true
		}
	}
	return false
}
