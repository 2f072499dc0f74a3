package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Schema is the result file format this build writes and reads.
const Schema = "slogate.result/v1"

// Result is one run: the contract of DESIGN.md ("Result file"). Field names
// are what users script against: extend, never rename.
type Result struct {
	Schema      string      `json:"schema"`
	Scenario    string      `json:"scenario"`
	Engine      string      `json:"engine"`
	StartedAt   time.Time   `json:"started_at"`
	DurationS   float64     `json:"duration_s"`
	Partial     bool        `json:"partial"`
	Environment Environment `json:"environment"`
	Generator   Generator   `json:"generator"`
	Summary     Summary     `json:"summary"`
	Phases      []Phase     `json:"phases"`
	Endpoints   []Endpoint  `json:"endpoints"`
	Intervals   []Interval  `json:"intervals"`
	Histograms  Histograms  `json:"histograms"`
	SLO         *SLOReport  `json:"slo,omitempty"`
	// ScriptThresholds are a k6 script's own thresholds with k6's verdict
	// (k6 engine and --out slogate only; see ScriptThreshold).
	ScriptThresholds []ScriptThreshold `json:"k6_thresholds,omitempty"`
	// Server is what was scraped from the target's /metrics endpoints
	// (PromQL objectives are evaluated over it; see Server).
	Server *Server `json:"server,omitempty"`
	// Segment is the share of a distributed run this result holds (one
	// process of several, or their merge); absent for a whole run.
	Segment *Segment `json:"segment,omitempty"`
}

// Segment names a shard of a run split across processes, in k6's
// execution-segment terms: Value is the part of the run this result holds
// ("1/4:1/2"), Sequence all the run's segments ("0,1/4,1/2,3/4,1"). A merge
// of shards holds their union; Missing lists the sequence's segments no
// shard brought (the merged run is then partial).
type Segment struct {
	Value    string   `json:"value"`
	Sequence string   `json:"sequence"`
	Missing  []string `json:"missing,omitempty"`
}

// Latency percentiles in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Summary is what is measured over a scope (the run, a phase, an endpoint).
// Rates are fractions 0..1; success_rate + error_rate + block_rate = 1.
type Summary struct {
	Requests       int64   `json:"requests"`
	TargetRateRPS  float64 `json:"target_rate_rps"`
	RequestRateRPS float64 `json:"request_rate_rps"`
	// ThroughputRPS counts answered requests (success + blocked) per second:
	// a guard that blocks is still answering.
	ThroughputRPS    float64          `json:"throughput_rps"`
	SuccessRPS       float64          `json:"success_rps"`
	LatencyMs        Latency          `json:"latency_ms"`
	ServiceLatencyMs Latency          `json:"service_latency_ms"`
	LatenessMs       Latency          `json:"lateness_ms"`
	SuccessCount     int64            `json:"success_count"`
	BlockedCount     int64            `json:"blocked_count"`
	ErrorCount       int64            `json:"error_count"`
	SuccessRate      float64          `json:"success_rate"`
	ErrorRate        float64          `json:"error_rate"`
	BlockRate        float64          `json:"block_rate"`
	StatusCodes      map[string]int64 `json:"status_codes"`
	Errors           map[string]int64 `json:"errors"`
	// Censored counts requests still unsent when the run's drain deadline
	// passed; each was recorded as an error with latency (cutoff − due).
	Censored int64 `json:"censored"`
	// Cancelled counts requests cut by the user's stop (Ctrl-C): not
	// requests of the target, so not in requests or any rate.
	Cancelled int64 `json:"cancelled,omitempty"`
	// GeneratorErrors counts requests the generator could not send for
	// lack of its own resources (file descriptors, ports): not in requests
	// or any rate; any makes the run inconclusive.
	GeneratorErrors int64 `json:"generator_errors,omitempty"`
	BytesIn         int64 `json:"bytes_in"`
	BytesOut        int64 `json:"bytes_out"`
}

// Phase is a Summary for one phase of the load profile.
type Phase struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Warmup    bool    `json:"warmup"`
	StartS    float64 `json:"start_s"`
	DurationS float64 `json:"duration_s"`
	Summary
}

// Endpoint is a Summary for one named request of the mix.
type Endpoint struct {
	Name string `json:"name"`
	Summary
}

// Interval is one second of the measured run, by intended send time.
type Interval struct {
	TS        int     `json:"t_s"` // seconds since the run started
	Requests  int64   `json:"requests"`
	Success   int64   `json:"success"`
	Blocked   int64   `json:"blocked"`
	Errors    int64   `json:"errors"`
	TargetRPS float64 `json:"target_rps"`
	// SpanS is the part of the second the schedule covered when less than
	// all of it (the last second of a run that ends mid-second); absent
	// for a whole second. Counts per second are counts / span.
	SpanS     float64 `json:"span_s,omitempty"`
	LatencyMs Latency `json:"latency_ms"`
	// Histogram is the interval's latency histogram (2 significant digits,
	// microseconds, HdrHistogram V2 compressed base64).
	Histogram string `json:"histogram,omitempty"`
}

// HistogramSet holds the encoded histograms of one scope, in microseconds.
type HistogramSet struct {
	Latency        string `json:"latency"`
	ServiceLatency string `json:"service_latency"`
	Lateness       string `json:"lateness"`
}

// Histograms keeps full-precision HDR histograms so results can be merged
// and re-percentiled exactly later.
type Histograms struct {
	Unit      string                  `json:"unit"` // always "us"
	Run       HistogramSet            `json:"run"`
	Phases    map[string]HistogramSet `json:"phases"`
	Endpoints map[string]HistogramSet `json:"endpoints"`
}

// Generator describes whether the load generator held the asked schedule.
type Generator struct {
	MaxWorkers     int     `json:"max_workers"`
	PlannedReqs    int64   `json:"planned_requests"`
	SentReqs       int64   `json:"sent_requests"`
	AchievedRatio  float64 `json:"achieved_ratio"`
	PinnedFraction float64 `json:"pinned_fraction"`
	// DroppedIterations is k6's dropped_iterations (0 for vegeta).
	DroppedIterations int64    `json:"dropped_iterations"`
	Saturated         bool     `json:"saturated"`
	Reasons           []string `json:"reasons,omitempty"`
	// Transport is the HTTP client the engine used ("fasthttp",
	// "net/http"); empty for engines that do not say.
	Transport string `json:"transport,omitempty"`
	// Protocols are the HTTP versions the target answered in ("HTTP/1.1",
	// "HTTP/2.0"); empty for engines that do not say.
	Protocols []string `json:"protocols,omitempty"`
	// Proxy is the HTTP proxy the requests went through (--proxy or
	// HTTP_PROXY/HTTPS_PROXY), credentials redacted: its latency is in
	// every figure. Empty: no proxy.
	Proxy string `json:"proxy,omitempty"`
}

// Environment fingerprints where a result was produced, so comparisons of
// results from different machines can be refused.
type Environment struct {
	Hostname      string `json:"hostname"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	CPUs          int    `json:"cpus"`
	CPUModel      string `json:"cpu_model"`
	GoVersion     string `json:"go_version"`
	Slogate       string `json:"slogate_version"`
	Vegeta        string `json:"vegeta_version"`
	K6            string `json:"k6_version,omitempty"`
	ScenarioHash  string `json:"scenario_hash"`
	Target        string `json:"target"`
	TargetService string `json:"target_service,omitempty"`
	// TargetEnv is the bundled service's configuration (its env knobs):
	// what a before/after comparison changed.
	TargetEnv map[string]string `json:"target_env,omitempty"`
}

// SLOReport is the verdict stored with a result. Package slo computes it;
// results only stores it.
type SLOReport struct {
	Verdict string `json:"verdict"` // pass | fail | inconclusive | warning
	// Score is the weighted score 0..100, floored to one decimal; absent
	// when no objective passed or failed. PassMark and WarningMark are the
	// marks it was judged against.
	Score       *float64          `json:"score,omitempty"`
	PassMark    float64           `json:"pass_mark,omitempty"`
	WarningMark float64           `json:"warning_mark,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	Objectives  []ObjectiveResult `json:"objectives"`
	// ErrorBudget translates the run into error-budget terms, one entry per
	// SLI derived from the objectives (availability, latency).
	ErrorBudget []ErrorBudget `json:"error_budget,omitempty"`
	// Definition is the objectives the run was judged by, as an SLO file
	// (YAML) that --slo reads; absent when they were the default
	// objectives. `slogate check` and `slogate merge` judge the result by
	// it again when no --slo is given.
	Definition string `json:"definition,omitempty"`
}

// ErrorBudget is one SLI's error budget over a run, with the definitions
// sloth and the SRE workbook use: budget = 1 − target; burn rate = bad
// ratio / budget (1 spends exactly the budget over the SLO window);
// budget spent by the run = burn rate × run duration / window.
type ErrorBudget struct {
	SLI         string  `json:"sli"`          // "availability" or "latency"
	Objective   string  `json:"objective"`    // the objective the SLI comes from
	Target      float64 `json:"target"`       // fraction of good events, e.g. 0.999
	Budget      float64 `json:"budget"`       // 1 − target
	BadEvents   int64   `json:"bad_events"`   // errors, or requests over the latency threshold
	TotalEvents int64   `json:"total_events"` // measured requests
	BadRatio    float64 `json:"bad_ratio"`
	BurnRate    float64 `json:"burn_rate"`
	WindowDays  float64 `json:"window_days"` // the SLO window assumed
	RunSeconds  float64 `json:"run_seconds"` // measured duration of the run
	// BudgetSpent is the fraction of the window's budget the run consumed
	// if its traffic were production traffic: burn_rate × run / window.
	BudgetSpent float64 `json:"budget_spent"`
	// ExhaustedInHours is window / burn_rate: how long the whole budget
	// would last at this run's burn rate (absent when nothing burned).
	ExhaustedInHours float64 `json:"exhausted_in_hours,omitempty"`
}

// ObjectiveResult is one objective's outcome.
type ObjectiveResult struct {
	Name      string `json:"name"`
	Objective string `json:"objective"`
	// PromQL is a server-side objective's expression (its Objective may
	// say its name instead).
	PromQL   string   `json:"promql,omitempty"`
	Scope    Scope    `json:"scope"` // also written as "phase"/"endpoint" (scope.go)
	Value    float64  `json:"value"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline,omitempty"`
	Verdict  string   `json:"verdict"`
	Key      bool     `json:"key,omitempty"`
	Weight   float64  `json:"weight,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	// Bounds are the objective's numeric limits in Unit, for reports and charts
	// (Objective is the same in words). Absent for a throughput given as a
	// percentage of the asked rate, and for a budget with no baseline.
	Bounds []Bound `json:"bounds,omitempty"`
}

// Bound is one limit of an objective: Metric Op Value, Value in the objective's
// Unit. A range ("p95 5ms..80ms") gives two bounds (>= and <=); a regression
// budget gives one at baseline × (1 + pct/100), with Budget holding its text
// ("<=+10%").
type Bound struct {
	Metric string  `json:"metric"`
	Op     string  `json:"op"` // < <= > >=
	Value  float64 `json:"value"`
	Budget string  `json:"budget,omitempty"`
}

// Phase returns the named phase, or nil.
func (r *Result) Phase(name string) *Phase {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

// Endpoint returns the named endpoint, or nil.
func (r *Result) Endpoint(name string) *Endpoint {
	for i := range r.Endpoints {
		if r.Endpoints[i].Name == name {
			return &r.Endpoints[i]
		}
	}
	return nil
}

// ErrSchema reports a result file of another schema version.
var ErrSchema = errors.New("unsupported result schema")

// Read loads a result file, checks its schema and validates it: errors name
// the file and the field.
func Read(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("reading result %s: %w", path, err)
	}
	return r, nil
}

// Decode parses a result document, checks its schema and validates it
// (see Result.Validate).
func Decode(data []byte) (*Result, error) {
	var probe struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON result file: %w", err)
	}
	if probe.Schema == nil {
		return nil, fmt.Errorf("%w: no \"schema\" field (want %q)", ErrSchema, Schema)
	}
	if *probe.Schema != Schema {
		return nil, fmt.Errorf("%w: file has %q, this slogate reads %q", ErrSchema, *probe.Schema, Schema)
	}
	var r Result
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("malformed result: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("invalid result: %w", err)
	}
	return &r, nil
}

// Write stores r as indented JSON atomically: a temporary file in the same
// directory, fsynced, then renamed over path. A crash never leaves a half
// file behind.
func Write(path string, r *Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic writes data to path via a temporary file and rename.
//
// The temporary file is named .NAME.slogate-tmp-PID-RANDOM, so a process
// killed mid-write (kill -9, power loss) leaves a file that says whose it
// was: each write removes such leftovers from its directory (see
// removeStaleTemps). No other file is ever touched.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	removeStaleTemps(dir)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMarker+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		cleanup()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		cleanup()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		cleanup()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		cleanup()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// tempMarker sits between the target's name and the writer's PID in the
// name of WriteFileAtomic's temporary files.
const tempMarker = ".slogate-tmp-"

// staleTempAge is the age past which a temporary file is a leftover whatever
// its PID says (PIDs are reused): no write takes a day.
const staleTempAge = 24 * time.Hour

var tempName = regexp.MustCompile(`^\..+\.slogate-tmp-([0-9]+)-[0-9]+$`)

// removeStaleTemps deletes WriteFileAtomic's temporary files in dir left by
// a process that no longer runs, or older than staleTempAge. It is best
// effort: a file it cannot judge or remove stays.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, e := range entries {
		m := tempName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		stale := pid != self && !processAlive(pid)
		if !stale {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTempAge {
				stale = true
			}
		}
		if stale {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
