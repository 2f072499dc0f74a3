package slo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/scenarios/yamlfile"
)

// Objective is one SLO: a metric over a scope compared with a threshold.
//
//   - {metric: p99, threshold: "< 200ms"}
//   - {metric: block_rate, threshold: "1%..10%", phase: attack}
//   - {metric: throughput, threshold: ">= 97%"}     # fraction of the asked rate
//   - {metric: error_rate, threshold: "< 0.1%", endpoint: login, key: true, weight: 2}
type Objective struct {
	Name      string  `yaml:"name"`
	Metric    string  `yaml:"metric"`
	Threshold string  `yaml:"threshold"`
	Phase     string  `yaml:"phase"`
	Endpoint  string  `yaml:"endpoint"`
	Key       bool    `yaml:"key"`
	Weight    float64 `yaml:"weight"`
	// Budget is a regression budget relative to a baseline, e.g. "<=+10%".
	Budget string `yaml:"budget"`
	// PromQL is a server-side objective: a PromQL expression over the
	// target's scraped metrics (instead of Metric), evaluated at the end of
	// the run or, with Over "run", at every step across it (promql.go).
	PromQL string `yaml:"promql"`
	Over   string `yaml:"over"`

	Line int `yaml:"-"`

	op       string  // < <= > >= range
	value    float64 // in the metric's unit (ms, fraction, req/s)
	lo, hi   float64 // range bounds
	relative bool    // throughput given as a fraction of the asked rate
	budget   *budget
}

type budget struct {
	op  string  // <= or >=
	pct float64 // signed percent change allowed
}

// Set is a list of objectives with the file they came from.
type Set struct {
	File       string
	Objectives []Objective
	Scoring    Scoring
}

// Scoring turns weighted objective results into pass / warning / fail
// (Keptn-style): score = 100 × Σ weight(passed) / Σ weight.
type Scoring struct {
	Pass    float64 `yaml:"pass"`    // score at or above: pass (default 100)
	Warning float64 `yaml:"warning"` // at or above: warning (default: same as pass)
}

// Metric units (results.Metric's table decides which metric has which).
const (
	unitMs       = results.UnitMs
	unitFraction = results.UnitFraction
	unitRPS      = results.UnitRPS
)

// MetricUnit returns the unit of a metric name, or "" if unknown.
func MetricUnit(m string) string {
	if row := results.LookupMetric(m); row != nil {
		return row.Unit
	}
	return ""
}

// LoadFile reads an SLO file: either a list of objectives or a mapping
// with `objectives:` (and optional `scoring:`), in one YAML document.
func LoadFile(path string) (*Set, error) {
	data, err := scenarios.ReadRegularFile(path, maxSLOFileBytes)
	var refused *scenarios.FileRefusal
	if errors.As(err, &refused) {
		return nil, &yamlfile.Error{File: path, Msg: refused.Msg}
	}
	if err != nil {
		return nil, fmt.Errorf("loading SLO file: %w", err)
	}
	root, err := yamlfile.Root(path, data, yamlfile.Kind{
		Empty: "empty SLO file",
		Holds: "an SLO file holds one (a list of objectives or a mapping with objectives:)",
	})
	if err != nil {
		return nil, err
	}
	return FromNode(path, root)
}

// maxSLOFileBytes bounds an SLO file: objectives fit in far less.
const maxSLOFileBytes = 1 << 20

// FromNode parses objectives from a YAML node (a scenario's `slo:` block or
// an SLO file's root). A zero node yields an empty set. Errors are
// *yamlfile.Error naming file, line and field.
func FromNode(file string, n *yaml.Node) (*Set, error) {
	set, err := fromNode(n)
	if err != nil {
		return nil, yamlfile.InFile(file, 0, err)
	}
	set.File = file
	return set, nil
}

func fromNode(n *yaml.Node) (*Set, error) {
	set := &Set{Scoring: Scoring{Pass: 100, Warning: 100}}
	if n == nil || n.Kind == 0 {
		return set, nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	list := n
	if n.Kind == yaml.MappingNode {
		var wrapper struct {
			Objectives yaml.Node `yaml:"objectives"`
			Scoring    yaml.Node `yaml:"scoring"`
		}
		if err := yamlfile.Decode(n, &wrapper, ""); err != nil {
			return nil, err
		}
		scoring, err := parseScoring(&wrapper.Scoring)
		if err != nil {
			return nil, err
		}
		set.Scoring = scoring
		list = &wrapper.Objectives
		if list.Kind == 0 {
			return nil, &yamlfile.Error{Line: n.Line, Field: "objectives", Msg: "missing (a list of {metric, threshold})"}
		}
	}
	if list.Kind == yaml.AliasNode && list.Alias != nil {
		list = list.Alias
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &yamlfile.Error{Line: list.Line, Field: "objectives", Msg: "must be a list of {metric, threshold}"}
	}
	for i, item := range list.Content {
		field := fmt.Sprintf("objectives[%d]", i)
		var o Objective
		if err := yamlfile.Decode(item, &o, field); err != nil {
			return nil, err
		}
		if item.Kind == yaml.AliasNode && item.Alias != nil {
			item = item.Alias
		}
		o.Line = item.Line
		if err := o.compile(); err != nil {
			var fe *yamlfile.Error
			if errors.As(err, &fe) {
				return nil, &yamlfile.Error{Line: yamlfile.At(item).Line(fe.Field), Field: field + "." + fe.Field, Msg: fe.Msg}
			}
			return nil, &yamlfile.Error{Line: item.Line, Field: field, Msg: err.Error()}
		}
		set.Objectives = append(set.Objectives, o)
	}
	return set, nil
}

// parseScoring reads `scoring: {pass, warning}`. Marks are scores 0..100:
// pass in (0, 100] (default 100: any failed objective fails the run),
// warning in [0, pass] (default: pass, no warning band).
func parseScoring(n *yaml.Node) (Scoring, error) {
	sc := Scoring{Pass: 100}
	if n.Kind == 0 {
		sc.Warning = sc.Pass
		return sc, nil
	}
	var marks struct {
		Pass    *float64 `yaml:"pass"`
		Warning *float64 `yaml:"warning"`
	}
	if err := yamlfile.Decode(n, &marks, "scoring"); err != nil {
		return sc, err
	}
	if marks.Pass != nil {
		if p := *marks.Pass; !(p > 0 && p <= 100) {
			return sc, &yamlfile.Error{Line: yamlfile.At(n).Line("pass"), Field: "scoring.pass", Msg: fmt.Sprintf("%g is not a score mark (want more than 0, at most 100)", p)}
		}
		sc.Pass = *marks.Pass
	}
	sc.Warning = sc.Pass
	if marks.Warning != nil {
		w := *marks.Warning
		if !(w >= 0 && w <= sc.Pass) {
			return sc, &yamlfile.Error{Line: yamlfile.At(n).Line("warning"), Field: "scoring.warning", Msg: fmt.Sprintf("%g is not a score mark between 0 and the pass mark %g", w, sc.Pass)}
		}
		sc.Warning = w
	}
	return sc, nil
}

// ferr is an error about one of the objective's fields; FromNode adds
// the file, the line and the objective's index.
func ferr(field, format string, args ...any) error { return yamlfile.Errorf(field, format, args...) }

// compile parses the threshold and budget.
func (o *Objective) compile() error {
	if o.PromQL != "" || o.Over != "" {
		return o.compilePromQL()
	}
	o.Metric = strings.ToLower(strings.TrimSpace(o.Metric))
	if o.Metric == "p99.9" {
		o.Metric = "p999"
	}
	unit := MetricUnit(o.Metric)
	if unit == "" {
		return ferr("metric", "unknown metric %q (want p50 p75 p90 p95 p99 p999 min mean max error_rate block_rate success_rate throughput request_rate, or server_p50 server_p95 server_p99 server_rss_mb server_cpu_cores)", o.Metric)
	}
	if o.Phase != "" && o.Endpoint != "" {
		return ferr("endpoint", "scope an objective to a phase or an endpoint, not both")
	}
	if results.LookupMetric(o.Metric).Server != nil && (o.Phase != "" || o.Endpoint != "") {
		return ferr("metric", "%s is the server's figure over the whole run: it has no phase or endpoint", o.Metric)
	}
	if err := o.compileLimits(func() error { return o.parseThreshold(unit) }, `"< 200ms", "<= 0.1%", "1%..10%"`); err != nil {
		return err
	}
	if o.Name == "" {
		o.Name = o.Metric
		if o.Phase != "" {
			o.Name += "@phase:" + o.Phase
		}
		if o.Endpoint != "" {
			o.Name += "@endpoint:" + o.Endpoint
		}
	}
	return nil
}

// compileLimits checks the weight (default 1) and parses the threshold
// (with parse) and the regression budget; one of the two is required.
func (o *Objective) compileLimits(parse func() error, examples string) error {
	if !(o.Weight >= 0) || math.IsInf(o.Weight, 0) {
		return ferr("weight", "%g: must be a finite number >= 0", o.Weight)
	}
	if o.Weight == 0 {
		o.Weight = 1
	}
	if o.Threshold == "" && o.Budget == "" {
		return ferr("threshold", "missing (e.g. %s)", examples)
	}
	if o.Threshold != "" {
		if err := parse(); err != nil {
			return ferr("threshold", "%v", err)
		}
	}
	if o.Budget != "" {
		b, err := parseBudget(o.Budget)
		if err != nil {
			return ferr("budget", "%v", err)
		}
		o.budget = b
	}
	return nil
}

func (o *Objective) parseThreshold(unit string) error {
	t := strings.TrimSpace(o.Threshold)
	if lo, hi, ok := strings.Cut(t, ".."); ok {
		a, relA, err := parseValue(lo, unit)
		if err != nil {
			return err
		}
		b, relB, err := parseValue(hi, unit)
		if err != nil {
			return err
		}
		if b < a {
			return fmt.Errorf("range %q runs backwards", t)
		}
		o.op, o.lo, o.hi, o.relative = "range", a, b, relA || relB
		return nil
	}
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(t, op) {
			v, rel, err := parseValue(t[len(op):], unit)
			if err != nil {
				return err
			}
			o.op, o.value, o.relative = op, v, rel
			return nil
		}
	}
	return fmt.Errorf("%q needs a comparison: <, <=, >, >= or a range a..b", t)
}

// parseValue reads a threshold value in the metric's unit. Latency: "200ms",
// "1.5s", "500us" (a bare number is ms). Fractions: "0.1%" or 0.001.
// Throughput: "500" req/s, or "97%" of the asked rate (relative=true).
func parseValue(s, unit string) (v float64, relative bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, errors.New("missing value")
	}
	switch unit {
	case unitMs:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d, derr := time.ParseDuration(s)
			if derr != nil {
				return 0, false, fmt.Errorf("%q is not a latency (write 200ms, 1.5s, 500us)", s)
			}
			f = float64(d) / float64(time.Millisecond)
		}
		if !finiteNonNegative(f) {
			return 0, false, fmt.Errorf("%q is not a latency: it must be a finite duration >= 0", s)
		}
		return f, false, nil
	case unitFraction:
		if strings.HasSuffix(s, "%") {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
			if err != nil || !(f >= 0 && f <= 100) {
				return 0, false, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
			}
			return f / 100, false, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return 0, false, fmt.Errorf("%q is not a fraction 0..1 or a percentage like 0.1%%", s)
		}
		return f, false, nil
	case results.UnitMiB, results.UnitCores:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, unit)), 64)
		if err != nil || !finiteNonNegative(f) {
			return 0, false, fmt.Errorf("%q is not a number >= 0 of %s", s, unit)
		}
		return f, false, nil
	default: // req/s
		if strings.HasSuffix(s, "%") {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
			if err != nil || !finiteNonNegative(f) {
				return 0, false, fmt.Errorf("%q is not a percentage of the asked rate", s)
			}
			return f / 100, true, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "rps"), 64)
		if err != nil || !finiteNonNegative(f) {
			return 0, false, fmt.Errorf("%q is not a rate in req/s (or a percentage of the asked rate)", s)
		}
		return f, false, nil
	}
}

// finiteNonNegative rejects NaN, ±Inf and negative numbers (strconv reads
// "NaN" and "-Inf" as numbers).
func finiteNonNegative(f float64) bool { return f >= 0 && !math.IsInf(f, 0) }

// parseBudget reads a relative budget like "<=+10%" or ">=-5%".
func parseBudget(s string) (*budget, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	var op string
	switch {
	case strings.HasPrefix(t, "<="):
		op = "<="
	case strings.HasPrefix(t, ">="):
		op = ">="
	default:
		return nil, fmt.Errorf("%q: write a relative budget like \"<=+10%%\" or \">=-5%%\"", s)
	}
	num := strings.TrimPrefix(t[2:], "+")
	if !strings.HasSuffix(num, "%") {
		return nil, fmt.Errorf("%q: the budget is a percentage of the baseline (e.g. <=+10%%)", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(num, "%"), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%q: the budget must be a finite percentage (e.g. <=+10%%)", s)
	}
	return &budget{op: op, pct: f}, nil
}

// String renders the objective as the user wrote it.
func (o *Objective) String() string {
	if o.PromQL != "" {
		return o.promQLString()
	}
	var parts []string
	if o.Threshold != "" {
		parts = append(parts, o.Metric+" "+strings.TrimSpace(o.Threshold))
	}
	if o.Budget != "" {
		parts = append(parts, o.Metric+" "+o.Budget+" vs baseline")
	}
	return strings.Join(parts, ", ")
}

// bounds are the objective's absolute limits, in the metric's unit. A
// throughput relative to the asked rate has none (its limit depends on the run).
func (o *Objective) bounds() []results.Bound {
	switch {
	case o.op == "" || o.relative:
		return nil
	case o.op == "range":
		return []results.Bound{{Metric: o.Metric, Op: ">=", Value: o.lo}, {Metric: o.Metric, Op: "<=", Value: o.hi}}
	}
	return []results.Bound{{Metric: o.Metric, Op: o.op, Value: o.value}}
}

// defaultFile names the default objectives in Set.File.
const defaultFile = "default objectives"

// Default returns the seed SLOs: P50 < 50 ms, P95 < 100 ms, P99 < 200 ms,
// max < 500 ms, error rate < 0.1 %.
func Default() *Set {
	set := &Set{File: defaultFile, Scoring: Scoring{Pass: 100, Warning: 100}}
	for _, o := range []Objective{
		{Metric: "p50", Threshold: "< 50ms"},
		{Metric: "p95", Threshold: "< 100ms"},
		{Metric: "p99", Threshold: "< 200ms"},
		{Metric: "max", Threshold: "< 500ms"},
		{Metric: "error_rate", Threshold: "< 0.1%"},
	} {
		if err := o.compile(); err != nil {
			panic(err)
		}
		set.Objectives = append(set.Objectives, o)
	}
	return set
}
