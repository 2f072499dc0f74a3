package slo

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/slogate/slogate/results"
)

// CompareMetrics are the metrics `slogate compare` reports, in order.
var CompareMetrics = []string{"p50", "p90", "p95", "p99", "p999", "max", "mean", "throughput", "error_rate", "block_rate"}

// Comparison verdicts of one metric.
const (
	Better    = results.ChangeBetter
	Worse     = results.ChangeWorse
	NoChange  = results.ChangeNoChange
	NotJudged = Inconclusive
)

// CompareOptions tune Compare. The zero value is usable.
type CompareOptions struct {
	// Alpha is the significance level (default 0.05): the bootstrap CI is a
	// 1−Alpha interval, the U test's p must be below Alpha.
	Alpha float64
	// Resamples is the number of bootstrap resamples (default 2000).
	Resamples int
	// Seed makes the bootstrap deterministic (default 1): the same inputs
	// always give the same intervals.
	Seed uint64
	// MinIntervals is the fewest per-second intervals a side needs for a
	// bootstrap (default 5).
	MinIntervals int
	// Force compares runs of different scenarios or environments (the
	// differences become warnings instead of an error).
	Force bool
	// ABRun says the sides are the two configurations of one A/B run
	// (slogate run --compare-with, --base-env): they differ on purpose, so
	// they are compared as with Force, and a difference is noted as what
	// the sides are ("A/B sides: ...") rather than as forced.
	ABRun bool
	// BaseFiles and NewFiles name the inputs in the output (optional).
	BaseFiles, NewFiles []string
}

func (o CompareOptions) withDefaults() CompareOptions {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = 0.05
	}
	if o.Resamples <= 0 {
		o.Resamples = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MinIntervals <= 0 {
		o.MinIntervals = 5
	}
	return o
}

// MismatchError refuses a comparison of runs that measured different
// things: another scenario or another machine. Callers map it to exit 3.
type MismatchError struct {
	Reasons []string
}

func (e *MismatchError) Error() string {
	return "refusing to compare: " + strings.Join(e.Reasons, "; ") + " (use --force to compare anyway)"
}

// Mismatches lists why the runs are not comparable: a different scenario
// (name or content hash), a different environment (OS, architecture, CPU
// model or count) or a different engine (engines do not measure latency
// alike: vegeta from the intended send, k6 from the actual send, so a
// vegeta-vs-k6 delta is the send lateness, not the service). Every run is
// checked against the first base run.
func Mismatches(base, cur []*results.Result) []string {
	if len(base) == 0 {
		return nil
	}
	ref := base[0]
	seen := map[string]bool{}
	var reasons []string
	engines := false
	add := func(field, a, b string) {
		if a == b {
			return
		}
		r := fmt.Sprintf("%s differs: %q vs %q", field, a, b)
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	for _, r := range append(append([]*results.Result{}, base[1:]...), cur...) {
		add("scenario", ref.Scenario, r.Scenario)
		add("scenario content (hash)", ref.Environment.ScenarioHash, r.Environment.ScenarioHash)
		add("OS", ref.Environment.OS, r.Environment.OS)
		add("architecture", ref.Environment.Arch, r.Environment.Arch)
		add("CPU model", ref.Environment.CPUModel, r.Environment.CPUModel)
		add("CPU count", fmt.Sprint(ref.Environment.CPUs), fmt.Sprint(r.Environment.CPUs))
		if ref.Engine != "" && r.Engine != "" && ref.Engine != r.Engine {
			add("engine", ref.Engine, r.Engine)
			engines = true
		}
	}
	if engines {
		reasons = append(reasons, engineWhy)
	}
	return reasons
}

// engineWhy explains an engine mismatch.
const engineWhy = "engines measure latency differently: vegeta from the intended send (service latency + send lateness), " +
	"k6 from the actual send (no send lateness); compare runs of one engine"

// Compare diffs NEW runs against BASE runs, per metric (CompareMetrics) and
// per scope (the run, every measured phase and every endpoint present in
// all runs).
//
// One run per side: a circular block bootstrap over the per-second
// intervals. Each resample draws n seconds of each run in blocks of
// ⌈n^(1/3)⌉ consecutive seconds, merges their histograms and counts, and
// computes the metric; the 1−α interval of the relative change (new/base
// − 1) is the expanded percentile interval (see expandedAlpha: the plain
// percentile interval gave 8–15 % false positives at α = 5 % on 10-second
// runs, the expanded one 3–7 %), and the change is significant when that
// interval excludes 0. The seed is fixed: the same files give the same
// intervals. max is one request, not a statistic a bootstrap can
// bound, so it is never judged from one run; endpoints keep no per-second
// intervals, so their rows are never judged from one run either.
//
// Several runs on a side (slogate run --repeat): each run gives one value
// per metric; the sides are summarised by their medians and compared with
// the Mann-Whitney U test, as benchstat's AssumeNothing does, with a
// Hodges-Lehmann interval. When so few runs are given that no p-value could
// fall below α, the row says how many runs are needed instead of judging.
//
// Base and new values are the result files' own figures (from the full HDR
// histograms), so they match what `slogate run` printed.
func Compare(base, cur []*results.Result, opts CompareOptions) (*results.Comparison, error) {
	if len(base) == 0 || len(cur) == 0 {
		return nil, errors.New("compare needs at least one result on each side")
	}
	opts = opts.withDefaults()
	cmp := &results.Comparison{
		Schema:  results.ComparisonSchema,
		Base:    runRef("base", base, opts.BaseFiles),
		New:     runRef("new", cur, opts.NewFiles),
		Alpha:   opts.Alpha,
		Metrics: []results.MetricDelta{},
	}
	if reasons := Mismatches(base, cur); len(reasons) > 0 {
		if !opts.Force && !opts.ABRun {
			return nil, &MismatchError{Reasons: reasons}
		}
		lead := "compared with --force although "
		if opts.ABRun {
			lead = "A/B sides: "
		}
		for _, r := range reasons {
			cmp.Warn(results.WarningMismatch, lead+r)
		}
	}
	reliabilityWarnings(cmp, "base", base)
	reliabilityWarnings(cmp, "new", cur)

	scopes := commonScopes(append(append([]*results.Result{}, base...), cur...))
	single := len(base) == 1 && len(cur) == 1
	if single {
		cmp.Method = fmt.Sprintf("circular block bootstrap over per-second intervals (%d resamples, fixed seed %d), "+
			"expanded percentile CI; significant when the CI excludes 0", opts.Resamples, opts.Seed)
		for _, sc := range scopes {
			cmp.Metrics = append(cmp.Metrics, compareSingle(base[0], cur[0], sc, CompareMetrics, opts)...)
		}
	} else {
		cmp.Method = fmt.Sprintf("Mann-Whitney U test across runs (medians; exact p up to %d runs in all), "+
			"Hodges-Lehmann CI; significant when p < %g", exactMWULimit, opts.Alpha)
		if MinMannWhitneyP(len(base), len(cur)) > opts.Alpha {
			cmp.Warn(results.WarningTooFewRuns, fmt.Sprintf(
				"need >= %d runs per side to detect a difference at alpha level %g (have %d and %d): no metric is judged",
				RunsNeeded(opts.Alpha), opts.Alpha, len(base), len(cur)))
		}
		for _, sc := range scopes {
			for _, m := range CompareMetrics {
				cmp.Metrics = append(cmp.Metrics, compareRuns(base, cur, sc, m, opts))
			}
		}
	}
	return cmp, nil
}

func runRef(label string, rs []*results.Result, files []string) results.RunRef {
	ref := results.RunRef{Label: label, Files: files, Scenario: rs[0].Scenario, Runs: len(rs), StartedAt: rs[0].StartedAt}
	for _, r := range rs[1:] {
		if r.StartedAt.Before(ref.StartedAt) {
			ref.StartedAt = r.StartedAt
		}
	}
	return ref
}

// reliabilityWarnings warns of each run of one side whose numbers describe
// more than the service (see Unreliable).
func reliabilityWarnings(cmp *results.Comparison, side string, rs []*results.Result) {
	for i, r := range rs {
		name := side
		if len(rs) > 1 {
			name = fmt.Sprintf("%s run %d", side, i+1)
		}
		if r.Generator.Saturated {
			cmp.Warn(results.WarningSaturated, fmt.Sprintf("%s: the load generator could not hold the asked rate (%s): its latency describes the generator too",
				name, strings.Join(r.Generator.Reasons, "; ")))
		}
		if r.Partial {
			cmp.Warn(results.WarningPartial, name+": the run was interrupted (partial result)")
		}
	}
}

// Unreliable reports whether a result's numbers describe something other
// than the service: a saturated generator or an interrupted run.
func Unreliable(r *results.Result) bool { return r.Generator.Saturated || r.Partial }

// scopeObjective is an objective on metric over scope s.
func scopeObjective(s results.Scope, metric string) *Objective {
	o := &Objective{Metric: metric}
	switch s.Kind {
	case results.ScopePhase:
		o.Phase = s.Name
	case results.ScopeEndpoint:
		o.Endpoint = s.Name
	}
	return o
}

// scopeMetric reads a metric of a scope, and whether the scope exists.
func scopeMetric(s results.Scope, r *results.Result, metric string) (v float64, requests int64, ok bool) {
	o := scopeObjective(s, metric)
	sum, _, err := scopeOf(r, o)
	if err != nil {
		return 0, 0, false
	}
	return scopeValue(r, o, sum), sum.Requests, true
}

// scopeIntervals returns the per-second intervals of a scope: all of them
// for the run, those whose middle falls in the phase for a phase, none for
// an endpoint (the recorder keeps intervals for the run only).
func scopeIntervals(s results.Scope, r *results.Result) []results.Interval {
	switch s.Kind {
	case results.ScopeRun:
		return r.Intervals
	case results.ScopePhase:
		p := r.Phase(s.Name)
		if p == nil {
			return nil
		}
		var out []results.Interval
		for _, iv := range r.Intervals {
			mid := float64(iv.TS) + 0.5
			if mid >= p.StartS && mid < p.StartS+p.DurationS {
				out = append(out, iv)
			}
		}
		return out
	}
	return nil
}

// commonScopes lists the run, the measured phases and the endpoints present
// in every result, in the first result's order.
func commonScopes(rs []*results.Result) []results.Scope {
	scopes := []results.Scope{results.RunScope()}
	for _, p := range rs[0].Phases {
		if p.Warmup {
			continue
		}
		all := true
		for _, r := range rs[1:] {
			if q := r.Phase(p.Name); q == nil || q.Warmup {
				all = false
			}
		}
		if all {
			scopes = append(scopes, results.PhaseScope(p.Name))
		}
	}
	for _, e := range rs[0].Endpoints {
		all := true
		for _, r := range rs[1:] {
			if r.Endpoint(e.Name) == nil {
				all = false
			}
		}
		if all {
			scopes = append(scopes, results.EndpointScope(e.Name))
		}
	}
	return scopes
}

// higherIsBetter tells the direction of a metric (results.Metric): under
// an attack scenario read block_rate's direction the other way.
func higherIsBetter(metric string) bool {
	row := results.LookupMetric(metric)
	return row != nil && row.HigherIsBetter
}

// bootstrappable tells whether the single-run bootstrap can bound a metric.
func bootstrappable(metric string) bool {
	row := results.LookupMetric(metric)
	return row != nil && row.Bootstrappable
}

func pctChange(base, cur float64) float64 {
	if base == 0 {
		return 0
	}
	return (cur - base) / math.Abs(base) * 100
}

func round2(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*100) / 100
}

// newDelta fills the point figures of a row.
func newDelta(sc results.Scope, metric string, b, n float64) results.MetricDelta {
	d := results.MetricDelta{
		Metric: metric, Scope: sc, Unit: MetricUnit(metric),
		Base: round(b), New: round(n), DeltaPct: round2(pctChange(b, n)),
	}
	d.ImprovementPct = improvement(metric, d.DeltaPct)
	return d
}

func improvement(metric string, deltaPct float64) float64 {
	if deltaPct == 0 {
		return 0
	}
	if higherIsBetter(metric) {
		return deltaPct
	}
	return -deltaPct
}

// judge sets significant and the verdict from the CI (single run) or p.
func judge(d *results.MetricDelta, significant bool, direction float64) {
	d.Significant = significant
	switch {
	case !significant:
		d.Verdict = NoChange
	case (direction > 0) == higherIsBetter(d.Metric):
		d.Verdict = Better
	default:
		d.Verdict = Worse
	}
}

// ---- one run per side: block bootstrap over per-second intervals ----

// binCount is one non-empty bucket of an interval histogram.
type binCount struct {
	bin   int32
	count int64
}

// intervalSample is one side of a scope, ready for resampling: per
// interval, its sparse histogram over shared bins and its counters.
type intervalSample struct {
	hists                              [][]binCount
	requests, success, blocked, errors []float64
	meanMs                             []float64
	noHist                             bool
}

// buildSamples decodes both sides' interval histograms onto one shared,
// ascending list of bin values (ms, each bin's highest equivalent value,
// as HdrHistogram reports percentiles).
func buildSamples(base, cur []results.Interval) (b, n *intervalSample, bins []float64, err error) {
	type bars struct{ to, count []int64 }
	decode := func(ivs []results.Interval) ([]bars, bool, error) {
		out := make([]bars, len(ivs))
		missing := false
		for i, iv := range ivs {
			if iv.Histogram == "" {
				if iv.Requests > 0 {
					missing = true
				}
				continue
			}
			h, err := results.DecodeHistogram(iv.Histogram)
			if err != nil {
				return nil, false, fmt.Errorf("interval t=%ds: %w", iv.TS, err)
			}
			for _, bar := range h.Distribution() {
				if bar.Count > 0 {
					out[i].to = append(out[i].to, bar.To)
					out[i].count = append(out[i].count, bar.Count)
				}
			}
		}
		return out, missing, nil
	}
	bb, bMissing, err := decode(base)
	if err != nil {
		return nil, nil, nil, err
	}
	nb, nMissing, err := decode(cur)
	if err != nil {
		return nil, nil, nil, err
	}
	index := map[int64]int32{}
	for _, side := range [][]bars{bb, nb} {
		for _, iv := range side {
			for _, to := range iv.to {
				index[to] = 0
			}
		}
	}
	values := make([]int64, 0, len(index))
	for v := range index {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	bins = make([]float64, len(values))
	for i, v := range values {
		index[v] = int32(i)
		bins[i] = float64(v) / 1000
	}
	mk := func(ivs []results.Interval, side []bars, missing bool) *intervalSample {
		s := &intervalSample{noHist: missing}
		for i, iv := range ivs {
			var hc []binCount
			for j, to := range side[i].to {
				hc = append(hc, binCount{bin: index[to], count: side[i].count[j]})
			}
			s.hists = append(s.hists, hc)
			s.requests = append(s.requests, float64(iv.Requests))
			s.success = append(s.success, float64(iv.Success))
			s.blocked = append(s.blocked, float64(iv.Blocked))
			s.errors = append(s.errors, float64(iv.Errors))
			s.meanMs = append(s.meanMs, iv.LatencyMs.Mean)
		}
		return s
	}
	return mk(base, bb, bMissing), mk(cur, nb, nMissing), bins, nil
}

// eval computes each metric over the intervals idx (a resample): quantiles
// from the merged histogram (HdrHistogram's rank rule), the mean weighted
// by requests, rates from summed counts, throughputs per second. q[k] is
// the percentile of metrics[k], 0 for the others.
func (s *intervalSample) eval(idx []int, metrics []string, q []float64, bins []float64, dense []int64, out []float64) {
	var req, succ, blk, errs, meanSum, total float64
	needHist := false
	for _, qk := range q {
		if qk > 0 {
			needHist = true
		}
	}
	for _, i := range idx {
		req += s.requests[i]
		succ += s.success[i]
		blk += s.blocked[i]
		errs += s.errors[i]
		meanSum += s.meanMs[i] * s.requests[i]
		if needHist {
			for _, bc := range s.hists[i] {
				dense[bc.bin] += bc.count
				total += float64(bc.count)
			}
		}
	}
	secs := float64(len(idx))
	frac := func(c float64) float64 {
		if req == 0 {
			return 0
		}
		return c / req
	}
	for k, m := range metrics {
		var v float64
		switch m {
		case "mean":
			v = frac(meanSum)
		case "throughput":
			v = (succ + blk) / secs
		case "request_rate":
			v = req / secs
		case "success_throughput":
			v = succ / secs
		case "error_rate":
			v = frac(errs)
		case "block_rate":
			v = frac(blk)
		case "success_rate":
			v = frac(succ)
		default:
			v = quantileFromDense(dense, bins, total, q[k])
		}
		out[k] = v
	}
	if needHist {
		clear(dense)
	}
}

// quantileFromDense returns the value at percentile q of merged bin
// counts, with HdrHistogram's rule: the first bin whose cumulative count
// reaches rank = ⌊q/100·total + 0.5⌋ (at least 1).
func quantileFromDense(dense []int64, bins []float64, total, q float64) float64 {
	if total == 0 {
		return 0
	}
	rank := q/100*total + 0.5
	if rank < 1 {
		rank = 1
	}
	if rank > total {
		rank = total
	}
	target := int64(rank)
	var cum int64
	for i, c := range dense {
		cum += c
		if cum >= target {
			return bins[i]
		}
	}
	return bins[len(bins)-1]
}

// bootResult is the bootstrap's answer for one metric.
type bootResult struct {
	ok       bool
	reason   string  // why not ok
	lo, hi   float64 // CI of the relative change, percent (when relative)
	relative bool    // false: base is 0, CI is absolute (absLo, absHi)
	absLo    float64
	absHi    float64
}

// bootstrapScope runs the block bootstrap for one scope and the given
// metrics (all must be bootstrappable).
func bootstrapScope(base, cur *results.Result, sc results.Scope, metrics []string, opts CompareOptions) map[string]bootResult {
	out := map[string]bootResult{}
	fail := func(reason string) map[string]bootResult {
		for _, m := range metrics {
			out[m] = bootResult{reason: reason}
		}
		return out
	}
	if sc.Kind == results.ScopeEndpoint {
		return fail("no per-endpoint intervals: one run per side gives no CI (compare --repeat runs)")
	}
	bi, ni := scopeIntervals(sc, base), scopeIntervals(sc, cur)
	if len(bi) < opts.MinIntervals || len(ni) < opts.MinIntervals {
		return fail(fmt.Sprintf("need >= %d one-second intervals per side for a bootstrap CI, have %d and %d", opts.MinIntervals, len(bi), len(ni)))
	}
	bs, ns, bins, err := buildSamples(bi, ni)
	if err != nil {
		return fail("cannot read interval histograms: " + err.Error())
	}
	if bs.noHist || ns.noHist {
		var qs, rest []string
		for _, m := range metrics {
			if quantileOf(m) > 0 {
				qs = append(qs, m)
			} else {
				rest = append(rest, m)
			}
		}
		for _, m := range qs {
			out[m] = bootResult{reason: "the result's intervals carry no histograms: no CI for percentiles"}
		}
		metrics = rest
		if len(metrics) == 0 {
			return out
		}
	}

	h := fnv.New64a()
	h.Write([]byte(sc.String()))
	rng := rand.New(rand.NewPCG(opts.Seed, h.Sum64()))
	lb, ln := blockLength(len(bi)), blockLength(len(ni))
	idxB, idxN := make([]int, len(bi)), make([]int, len(ni))
	dense := make([]int64, len(bins))
	vb, vn := make([]float64, len(metrics)), make([]float64, len(metrics))
	q := make([]float64, len(metrics))
	for k, m := range metrics {
		q[k] = quantileOf(m)
	}
	ratio := make([][]float64, len(metrics))
	diff := make([][]float64, len(metrics))
	baseZero := make([]bool, len(metrics))
	for k := range metrics {
		ratio[k] = make([]float64, 0, opts.Resamples)
		diff[k] = make([]float64, 0, opts.Resamples)
	}
	for range opts.Resamples {
		blockResample(rng, idxB, len(bi), lb)
		blockResample(rng, idxN, len(ni), ln)
		bs.eval(idxB, metrics, q, bins, dense, vb)
		ns.eval(idxN, metrics, q, bins, dense, vn)
		for k := range metrics {
			diff[k] = append(diff[k], vn[k]-vb[k])
			if vb[k] == 0 {
				baseZero[k] = true
				continue
			}
			ratio[k] = append(ratio[k], (vn[k]/vb[k]-1)*100)
		}
	}
	alpha := expandedAlpha(opts.Alpha, min(len(bi), len(ni)))
	for k, m := range metrics {
		if !baseZero[k] {
			lo, hi := percentileCI(ratio[k], alpha)
			out[m] = bootResult{ok: true, relative: true, lo: lo, hi: hi}
			continue
		}
		lo, hi := percentileCI(diff[k], alpha)
		out[m] = bootResult{ok: true, absLo: lo, absHi: hi}
	}
	return out
}

// compareSingle builds the rows of one scope for one run per side.
func compareSingle(base, cur *results.Result, sc results.Scope, metrics []string, opts CompareOptions) []results.MetricDelta {
	var boot []string
	for _, m := range metrics {
		if bootstrappable(m) {
			boot = append(boot, m)
		}
	}
	cis := bootstrapScope(base, cur, sc, boot, opts)
	var rows []results.MetricDelta
	for _, m := range metrics {
		b, bReq, _ := scopeMetric(sc, base, m)
		n, nReq, _ := scopeMetric(sc, cur, m)
		d := newDelta(sc, m, b, n)
		switch {
		case m == "max" || m == "min":
			d.Verdict = NotJudged
			d.Note = m + " is a single request: one run per side cannot bound it (compare --repeat runs)"
		case bReq < minSamples(m) || nReq < minSamples(m):
			d.Verdict = NotJudged
			d.Note = fmt.Sprintf("need >= %d requests per side to judge %s, have %d and %d", minSamples(m), m, bReq, nReq)
		default:
			applyBoot(&d, cis[m], b, n)
		}
		rows = append(rows, d)
	}
	return rows
}

// applyBoot turns a bootstrap interval into CI fields and a verdict.
func applyBoot(d *results.MetricDelta, br bootResult, b, n float64) {
	if !br.ok {
		d.Verdict, d.Note = NotJudged, br.reason
		return
	}
	if b == 0 && n == 0 && br.absLo == 0 && br.absHi == 0 {
		judge(d, false, 0)
		return
	}
	var lo, hi float64
	switch {
	case br.relative:
		lo, hi = br.lo, br.hi
	case b != 0:
		lo, hi = br.absLo/math.Abs(b)*100, br.absHi/math.Abs(b)*100
	default:
		// Base is 0: no relative change exists; judge the absolute one.
		d.Note = fmt.Sprintf("base is 0: absolute change %s, CI [%s, %s]", signedValue(n-b, d.Unit), signedValue(br.absLo, d.Unit), signedValue(br.absHi, d.Unit))
		sig := br.absLo > 0 || br.absHi < 0
		judge(d, sig, n-b)
		return
	}
	d.CILowPct, d.CIHighPct = round2(lo), round2(hi)
	judge(d, lo > 0 || hi < 0, (lo+hi)/2)
}

func signedValue(v float64, unit string) string {
	if unit == unitFraction {
		return fmt.Sprintf("%+.3f pp", 100*v)
	}
	return fmt.Sprintf("%+.3g %s", v, unit)
}

// ---- several runs per side: Mann-Whitney U across runs ----

func compareRuns(base, cur []*results.Result, sc results.Scope, metric string, opts CompareOptions) results.MetricDelta {
	var x, y []float64
	minReq := int64(math.MaxInt64)
	for _, r := range base {
		v, req, _ := scopeMetric(sc, r, metric)
		x = append(x, v)
		minReq = min(minReq, req)
	}
	for _, r := range cur {
		v, req, _ := scopeMetric(sc, r, metric)
		y = append(y, v)
		minReq = min(minReq, req)
	}
	b, n := median(x), median(y)
	d := newDelta(sc, metric, b, n)
	if need := minSamples(metric); minReq < need {
		d.Verdict = NotJudged
		d.Note = fmt.Sprintf("need >= %d requests in every run to judge %s, the smallest run has %d", need, metric, minReq)
		return d
	}
	p := MannWhitneyP(x, y)
	pr := math.Round(p*10000) / 10000
	d.PValue = &pr
	if MinMannWhitneyP(len(x), len(y)) > opts.Alpha {
		d.Verdict = NotJudged
		d.Note = fmt.Sprintf("need >= %d runs per side to detect a difference at alpha level %g", RunsNeeded(opts.Alpha), opts.Alpha)
		return d
	}
	// Hodges-Lehmann on log values gives a ratio (a relative change) when
	// every value is positive; otherwise on the values, relative to base.
	positive := true
	for _, v := range append(append([]float64{}, x...), y...) {
		if v <= 0 {
			positive = false
		}
	}
	if positive {
		lx, ly := logs(x), logs(y)
		if _, lo, hi, ok := HodgesLehmann(lx, ly, opts.Alpha); ok {
			d.CILowPct, d.CIHighPct = round2((math.Exp(lo)-1)*100), round2((math.Exp(hi)-1)*100)
		}
	} else if b != 0 {
		if _, lo, hi, ok := HodgesLehmann(x, y, opts.Alpha); ok {
			d.CILowPct, d.CIHighPct = round2(lo/math.Abs(b)*100), round2(hi/math.Abs(b)*100)
		}
	} else if n != b {
		d.Note = fmt.Sprintf("base median is 0: absolute change %s", signedValue(n-b, d.Unit))
	}
	judge(&d, p < opts.Alpha, n-b)
	return d
}

func logs(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Log(v)
	}
	return out
}

// ---- significance for regression budgets ----

// Significance returns an Options.Significant for budgets of cur against
// base: the single-run block bootstrap of Compare at level alpha, per
// metric and scope, computed once per scope and cached. known is false
// where the bootstrap cannot judge (max, min, endpoints, too few intervals
// or requests): then a broken budget counts, as the evaluation's default.
func Significance(base, cur *results.Result, alpha float64) func(metric, phase, endpoint string) (significant, known bool) {
	opts := CompareOptions{Alpha: alpha}.withDefaults()
	var mu sync.Mutex
	cache := map[string]map[string]bootResult{}
	return func(metric, phase, endpoint string) (bool, bool) {
		if base == nil || cur == nil || !bootstrappable(metric) {
			return false, false
		}
		sc := results.RunScope()
		switch {
		case phase != "":
			sc = results.PhaseScope(phase)
		case endpoint != "":
			sc = results.EndpointScope(endpoint)
		}
		b, bReq, okB := scopeMetric(sc, base, metric)
		n, nReq, okN := scopeMetric(sc, cur, metric)
		if !okB || !okN || bReq < minSamples(metric) || nReq < minSamples(metric) {
			return false, false
		}
		mu.Lock()
		defer mu.Unlock()
		byMetric, ok := cache[sc.String()]
		if !ok {
			var all []string
			for _, m := range append(append([]string{}, CompareMetrics...), "p75", "success_rate", "request_rate", "success_throughput") {
				if bootstrappable(m) {
					all = append(all, m)
				}
			}
			byMetric = bootstrapScope(base, cur, sc, all, opts)
			cache[sc.String()] = byMetric
		}
		br, ok := byMetric[metric]
		if !ok || !br.ok {
			return false, false
		}
		d := results.MetricDelta{Metric: metric, Unit: MetricUnit(metric)}
		applyBoot(&d, br, b, n)
		return d.Significant, true
	}
}
