package capacity

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/slogate/slogate/results"
)

// Report is the capacity document (schema slogate.capacity/v1): the search
// (its fields at the top level), what was searched, the USL model of the
// steps, the plan and the seed's scaling rule checked against the steps.
type Report struct {
	Search
	Scenario  string    `json:"scenario"`
	Target    string    `json:"target,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// ElapsedS is how long the search took; BudgetS what it was allowed
	// (0: no bound).
	ElapsedS float64 `json:"elapsed_s"`
	BudgetS  float64 `json:"budget_s,omitempty"`
	// Objectives are the objectives every step was gated on, in words.
	Objectives []string `json:"objectives,omitempty"`
	// Thresholds are the latency objectives' limits in ms (the SLO lines
	// of the latency chart).
	Thresholds []results.Bound `json:"latency_thresholds_ms,omitempty"`
	// Model is the USL fitted to the passing and failing steps (nil when
	// there were too few: ModelNote says why).
	Model     *USL      `json:"model,omitempty"`
	ModelNote string    `json:"model_note,omitempty"`
	Plan      []PlanRow `json:"plan"`
	PlanNote  string    `json:"plan_note,omitempty"`
	SeedRule  *SeedRule `json:"seed_rule,omitempty"`
	// Cores is the per-core table (--cores), when asked for.
	Cores *CoreTable `json:"cores,omitempty"`
}

// NewReport wraps a finished search.
func NewReport(s *Search) *Report {
	return &Report{Search: *s, Plan: []PlanRow{}}
}

// Points are the steps as USL points: concurrency N = X·R (Little's law)
// from each judged step's throughput X and mean latency R (seconds). A
// step the generator could not hold, or that was not judged, says nothing
// about the target and is left out.
func Points(steps []Step) []Point {
	var pts []Point
	for _, st := range steps {
		if st.GeneratorSaturated && st.Verdict != results.VerdictFail {
			continue
		}
		if st.Verdict != results.VerdictPass && st.Verdict != results.VerdictFail {
			continue
		}
		x, r := st.Summary.ThroughputRPS, st.Summary.LatencyMs.Mean/1000
		if x > 0 && r > 0 {
			pts = append(pts, Point{N: x * r, X: x})
		}
	}
	return pts
}

// FitModel fits the USL to the steps; with too few steps Model stays nil
// and ModelNote says why.
func (r *Report) FitModel() {
	u, err := FitUSL(Points(r.Steps))
	switch {
	case errors.Is(err, ErrTooFewPoints):
		r.ModelNote = fmt.Sprintf("no model: %v (this search judged %d)", err, len(Points(r.Steps)))
	case err != nil:
		r.ModelNote = "no model: " + err.Error()
	default:
		r.Model = &u
	}
}

// MakePlan sizes each load at the headroom from the capacity found.
func (r *Report) MakePlan(headroom float64, loads []float64) {
	if len(loads) == 0 {
		return
	}
	if !r.Found() {
		r.PlanNote = "no plan: the search found no capacity figure"
		return
	}
	r.Plan = Plan(r.CapacityRPS, headroom, loads)
}

// SeedRule is the seed's scaling rule ("add an instance when P95 > 100 ms
// or CPU > 70 %") checked against the measured steps: the lowest stepped
// rate at which each half of it fired.
type SeedRule struct {
	P95ThresholdMs float64 `json:"p95_threshold_ms"`
	CPUThreshold   float64 `json:"cpu_threshold"` // fraction of the service's cores
	// ServiceCores are the cores the service could use (CPU % is of these).
	ServiceCores float64 `json:"service_cores,omitempty"`
	// P95AtRPS: the lowest step rate with p95 over the threshold (0: none).
	P95AtRPS float64 `json:"p95_over_at_rps"`
	// CPUScraped: some step had the server's CPU; CPUAtRPS the lowest step
	// rate over the CPU threshold (0: none).
	CPUScraped bool    `json:"cpu_scraped"`
	CPUAtRPS   float64 `json:"cpu_over_at_rps"`
	// CPUNote says why CPU was not judged, when the caller knows.
	CPUNote string `json:"cpu_note,omitempty"`
	// FiresAtRPS is where the rule first asks for another instance.
	FiresAtRPS float64 `json:"fires_at_rps"`
}

// CheckSeedRule applies the seed's rule to the steps; cores are the cores
// the service may use (≤ 0: CPU is not judged).
func CheckSeedRule(steps []Step, cores float64) *SeedRule {
	sr := &SeedRule{P95ThresholdMs: 100, CPUThreshold: 0.70}
	if cores > 0 {
		sr.ServiceCores = cores
	}
	lowest := func(cur, rate float64) float64 {
		if cur == 0 || rate < cur {
			return rate
		}
		return cur
	}
	for _, st := range steps {
		if st.Summary.Requests == 0 {
			continue
		}
		if st.Summary.LatencyMs.P95 > sr.P95ThresholdMs {
			sr.P95AtRPS = lowest(sr.P95AtRPS, st.RateRPS)
		}
		if c, ok := st.Server[ServerCPUCores]; ok && cores > 0 {
			sr.CPUScraped = true
			if c > sr.CPUThreshold*cores {
				sr.CPUAtRPS = lowest(sr.CPUAtRPS, st.RateRPS)
			}
		}
	}
	for _, r := range []float64{sr.P95AtRPS, sr.CPUAtRPS} {
		if r > 0 {
			sr.FiresAtRPS = lowest(sr.FiresAtRPS, r)
		}
	}
	return sr
}

// The keys of Step.Server.
const (
	ServerCPUCores = "cpu_cores"
	ServerRSSMB    = "rss_mb"
	ServerP95Ms    = "server_p95_ms"
)

// ServerFigures are the server-side figures of a run for Step.Server
// (nil when nothing was scraped).
func ServerFigures(s *results.Server) map[string]float64 {
	if s == nil || s.Summary == nil {
		return nil
	}
	m := map[string]float64{}
	if s.Summary.CPUCores > 0 {
		m[ServerCPUCores] = s.Summary.CPUCores
	}
	if s.Summary.MaxRSSMB > 0 {
		m[ServerRSSMB] = s.Summary.MaxRSSMB
	}
	if s.Summary.P95Ms > 0 {
		m[ServerP95Ms] = s.Summary.P95Ms
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// LatencyBounds are the limits in ms of a gated run's objectives.
func LatencyBounds(rep results.SLOReport) []results.Bound {
	var out []results.Bound
	for _, o := range rep.Objectives {
		if o.Unit == "ms" {
			out = append(out, o.Bounds...)
		}
	}
	return out
}

// LimitedByOf is the first failing objective of a gated run (nil: none).
func LimitedByOf(rep results.SLOReport, rate float64) *LimitedBy {
	for _, o := range rep.Objectives {
		if o.Verdict == results.VerdictFail {
			name := o.Name
			if name == "" {
				name = o.Objective
			}
			return &LimitedBy{Objective: name, RateRPS: rate, Value: o.Value, Unit: o.Unit}
		}
	}
	return nil
}

// CoreTable is the seed's capacity table measured: one search per core
// count with the service pinned to that many CPUs, and rows the model
// predicts for core counts not measured.
type CoreTable struct {
	Rows []CoreRow `json:"rows"`
	// Model is how the predicted rows were made.
	Model string `json:"model,omitempty"`
	// Shared says what the service shared with the generator.
	Shared string `json:"shared"`
}

// CoreRow is one line of the table.
type CoreRow struct {
	Cores int `json:"cores"`
	// Label: "measured" or "predicted".
	Label       string  `json:"label"`
	CapacityRPS float64 `json:"capacity_rps"`
	Confirmed   bool    `json:"confirmed,omitempty"`
	// GeneratorBound: the measured figure is the generator's limit, a
	// lower bound of the service's capacity.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// AtLeast: no objective failed in the search (it stopped at
	// --max-rate or its budget), so the figure is a lower bound.
	AtLeast bool `json:"at_least,omitempty"`
	// SeedLowRPS..SeedHighRPS is the seed's hand-written range, if it has one.
	SeedLowRPS  float64 `json:"seed_low_rps,omitempty"`
	SeedHighRPS float64 `json:"seed_high_rps,omitempty"`
	// ServiceCPUs are the CPUs the service was pinned to (measured rows);
	// GeneratorProcs the generator's GOMAXPROCS.
	ServiceCPUs    []int  `json:"service_cpus,omitempty"`
	GeneratorProcs int    `json:"generator_procs,omitempty"`
	Shared         bool   `json:"shared,omitempty"`
	Note           string `json:"note,omitempty"`
}

// SeedTable is the seed's hand-written capacity table: cores → req/s range.
var SeedTable = map[int][2]float64{2: {500, 800}, 4: {1500, 2000}, 8: {3000, 5000}}

// Predict completes the table with rows for the core counts in want that
// were not measured, from the USL over cores: X(c) = λ·c / (1 + σ(c−1) +
// κ·c(c−1)). Four or more measured rows give a full fit (FitUSL); two or
// three give Amdahl's law (κ taken as 0, σ by least squares on relative
// error), which is optimistic when coherency costs exist: the label says so.
// A generator-bound row, or one no objective bounded, is a lower bound and
// is not used.
func (t *CoreTable) Predict(want []int) {
	var pts []Point
	measured := map[int]bool{}
	for _, r := range t.Rows {
		if r.Label == "measured" {
			measured[r.Cores] = true
			if r.CapacityRPS > 0 && !r.GeneratorBound && !r.AtLeast {
				pts = append(pts, Point{N: float64(r.Cores), X: r.CapacityRPS})
			}
		}
	}
	var model USL
	switch {
	case len(pts) >= 4:
		u, err := FitUSL(pts)
		if err != nil {
			t.Model = "no prediction: " + err.Error()
			return
		}
		model = u
		t.Model = fmt.Sprintf("USL over cores: λ %.1f req/s per core, σ %.4f, κ %.6f (R² %.3f)", u.Lambda, u.Sigma, u.Kappa, u.R2)
	case len(pts) >= 2:
		model = amdahl(pts)
		t.Model = fmt.Sprintf("Amdahl over cores (USL with κ = 0: %d measured rows are too few for κ): λ %.1f req/s per core, σ %.4f; optimistic if coherency costs grow with cores", len(pts), model.Lambda, model.Sigma)
	default:
		t.Model = "no prediction: fewer than two core counts had their capacity bounded by an objective (not by the generator, --max-rate or the budget)"
		return
	}
	for _, c := range want {
		if measured[c] {
			continue
		}
		t.Rows = append(t.Rows, CoreRow{Cores: c, Label: "predicted", CapacityRPS: math.Round(model.Throughput(float64(c)))})
	}
	t.sortRows()
}

// SetSeed fills each row's seed range.
func (t *CoreTable) SetSeed() {
	for i := range t.Rows {
		if r, ok := SeedTable[t.Rows[i].Cores]; ok {
			t.Rows[i].SeedLowRPS, t.Rows[i].SeedHighRPS = r[0], r[1]
		}
	}
}

func (t *CoreTable) sortRows() {
	sort.SliceStable(t.Rows, func(i, j int) bool { return t.Rows[i].Cores < t.Rows[j].Cores })
}

// amdahl fits X(c) = λc / (1 + σ(c−1)) with λ the smallest measured core
// count's per-core rate and σ ≥ 0 minimising the squared relative error
// (a one-dimensional golden-section search on [0, 1]).
func amdahl(pts []Point) USL {
	sort.Slice(pts, func(i, j int) bool { return pts[i].N < pts[j].N })
	lambda := pts[0].X / pts[0].N
	cost := func(sigma float64) float64 {
		u := USL{Lambda: lambda, Sigma: sigma}
		var s float64
		for _, p := range pts {
			r := (u.Throughput(p.N) - p.X) / p.X
			s += r * r
		}
		return s
	}
	lo, hi := 0.0, 1.0
	g := (math.Sqrt(5) - 1) / 2
	for range 100 {
		a, b := hi-g*(hi-lo), lo+g*(hi-lo)
		if cost(a) < cost(b) {
			hi = b
		} else {
			lo = a
		}
	}
	return USL{Lambda: lambda, Sigma: (lo + hi) / 2}
}
