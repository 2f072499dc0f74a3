package k6

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.k6.io/k6/lib"
	"go.k6.io/k6/lib/executor"
	"go.k6.io/k6/metrics"
	"go.k6.io/k6/output"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// OutputName is the output extension's name: k6 run --out slogate=result.json.
const OutputName = "slogate"

// Like the JS module (module.go), the output registers itself at init
// because k6's extension API (go.k6.io/k6/output) offers only that: k6
// finds "--out slogate=FILE" in its process-wide registry.
func init() {
	output.RegisterExtension(OutputName, NewOutput)
}

// maxExtraEndpoints bounds the endpoints the output discovers from tags
// (beyond the scenario's own): past it, requests count as "(other)".
const maxExtraEndpoints = 16

// Output is the k6 output extension "slogate". It folds every
// http_req_duration sample into slogate's HDR recorder (per phase = k6
// scenario, endpoint = the request's "endpoint" tag, else its "name" tag,
// and one-second interval), classifies each request as success, blocked or
// error with the scenario's outcome rules (status tag; status 0 is a
// transport error), counts dropped_iterations, and writes a
// slogate.result/v1 file atomically when k6 stops it.
//
// Memory does not grow with the run: samples are folded into histograms as
// they are flushed and then dropped (unlike k6's Trend sink, k6 #763).
//
// Latency: k6 measures http_req_duration from the actual send and its
// arrival-rate executors drop an iteration rather than start it late, so
// the intended-time latency (service latency + lateness) of the vegeta
// engine is not available per request. The output records the service
// latency as both, lateness 0, and reports dropped iterations: any drop
// makes the run inconclusive.
type Output struct {
	output.SampleBuffer
	flusher *output.PeriodicFlusher

	path   string
	params output.Params

	mu        sync.Mutex
	plan      results.Plan
	phaseIdx  map[string]int // k6 scenario name → phase
	endpoints map[string]int
	extra     map[string]*results.Recorder
	outcomes  *scenarios.Outcomes
	name      string
	segment   *results.Segment // the execution segment this output's k6 runs
	rec       *results.Recorder
	start     time.Time // reference of due times, fixed by the first sample
	last      time.Time
	sent      int64
	dropped   int64
	stopped   bool

	// the script's thresholds (thresholds.go)
	thresholds       map[string]metrics.Thresholds
	builtin          *metrics.BuiltinMetrics
	thresholdParents map[string]bool
	thresholdMetrics map[string]*metrics.Metric

	// phaseEnd is when each phase's last request ended: the measured
	// duration of a closed-model phase, whose length k6 does not plan.
	phaseEnd []time.Time
	// origins are the scheme://host of the requests (at most maxOrigins).
	origins []string
	// cancelled holds the requests k6 cancelled ("context canceled"):
	// when the user interrupted the run they are not the target's errors
	// (Sample.Cancelled), otherwise (an iteration cut at gracefulStop) they
	// are. Only in-flight requests are cancelled, at most one per VU.
	cancelled []pendingSample
}

type pendingSample struct {
	x        results.Sample
	endpoint string // an extra endpoint's name, "" if none
}

// maxPendingCancelled bounds the cancelled requests held until the end;
// past it they are recorded as errors at once.
const maxPendingCancelled = 100_000

var (
	_ output.Output                = &Output{}
	_ output.WithStopWithTestError = &Output{}
	_ output.WithThresholds        = &Output{}
	_ output.WithBuiltinMetrics    = &Output{}
)

// NewOutput is the output.Constructor. The configuration argument is the
// result file path. SLOGATE_SCENARIO names the scenario whose phases,
// endpoints and outcomes the result uses; without it the output takes the
// phases from the script's k6 scenarios and the endpoints and outcomes from
// the first scenario the script loaded through k6/x/slogate (else the
// default outcomes: 2xx/3xx success, 429/403 blocked).
func NewOutput(p output.Params) (output.Output, error) {
	if p.ConfigArgument == "" {
		return nil, errors.New("slogate output: give the result file: --out slogate=result.json")
	}
	return &Output{path: p.ConfigArgument, params: p}, nil
}

// Description implements output.Output.
func (o *Output) Description() string { return "slogate (" + o.path + ")" }

// Start implements output.Output: it lays out the recorder's plan (the
// script's init code has run by now, so scenarios it loaded are known).
func (o *Output) Start() error {
	if err := o.setup(); err != nil {
		return err
	}
	o.prepareThresholds()
	o.trimSinks()
	f, err := output.NewPeriodicFlusher(100*time.Millisecond, o.flush)
	if err != nil {
		return err
	}
	o.flusher = f
	return nil
}

func (o *Output) setup() error {
	env := o.params.Environment
	var ls *loadedScenario
	if name := env[EnvScenario]; name != "" {
		s, err := scenarios.Resolve(name)
		if err != nil {
			return fmt.Errorf("slogate output: %s=%s: %w", EnvScenario, name, err)
		}
		target := env[EnvTarget]
		if target == "" {
			target = s.Target.URL
		}
		if ls, err = newLoadedScenario(s, target); err != nil {
			return fmt.Errorf("slogate output: %w", err)
		}
	} else {
		ls = firstLoaded.Load()
	}
	o.phaseIdx, o.endpoints, o.extra = map[string]int{}, map[string]int{}, map[string]*results.Recorder{}
	o.outcomes = &scenarios.Outcomes{}
	lag := 10 * time.Second
	if ls != nil {
		o.name = ls.scenario.Name
		o.outcomes = &ls.scenario.Outcomes
		o.plan.Endpoints = ls.mix.Endpoints()
		lag = ls.scenario.Target.Timeout.D() + 2*time.Second
	}
	if ls != nil && env[EnvPhases] != "script" {
		sc := ls.schedule
		// The segment comes from slogate's engine (env) or, for a runner
		// k6-operator starts, from k6's own --execution-segment flags.
		value, sequence := env[EnvSegment], env[EnvSegmentSequence]
		if opts := o.params.ScriptOptions; value == "" && opts.ExecutionSegment != nil {
			value = opts.ExecutionSegment.String()
			if opts.ExecutionSegmentSequence != nil {
				sequence = opts.ExecutionSegmentSequence.String()
			}
		}
		if value != "" {
			seg, err := plan.ParseSegment(value, sequence)
			if err != nil {
				return fmt.Errorf("slogate output: execution segment %s: %w", value, err)
			}
			sc = sc.Segmented(seg)
			o.segment = &results.Segment{Value: seg.Value, Sequence: seg.Sequence}
		}
		o.plan.Phases = sc.PhaseSpecs()
		o.plan.TargetRate = sc.RateAt
		for i, n := range ScenarioNames(ls.scenario.Phases) {
			o.phaseIdx[n] = i
		}
	} else {
		o.plan.Phases = scriptPhases(o.params.ScriptOptions.Scenarios)
		for i, p := range o.plan.Phases {
			o.phaseIdx[p.Name] = i
		}
	}
	if o.name == "" && o.params.ScriptPath != nil {
		o.name = o.params.ScriptPath.Path
	}
	for i, n := range o.plan.Endpoints {
		o.endpoints[n] = i
	}
	o.plan.IntervalLag = lag
	o.rec = results.NewRecorder(o.plan)
	o.phaseEnd = make([]time.Time, len(o.plan.Phases))
	return nil
}

// scriptPhases describes a script's own k6 scenarios as phases, ordered by
// start time. Planned requests and durations are known for the
// arrival-rate executors (rate × duration / timeUnit, stages integrated as
// trapezoids); for the others both are 0 (unknown) until the run ends.
func scriptPhases(cfgs lib.ScenarioConfigs) []results.PhaseSpec {
	var out []results.PhaseSpec
	for name, cfg := range cfgs {
		// A closed-model executor (iterations, VUs) plans no request
		// count and no duration (only a maxDuration): the output measures
		// how long it ran.
		spec := results.PhaseSpec{Name: name, Kind: cfg.GetType(), Start: cfg.GetStartTime()}
		switch c := cfg.(type) {
		case *executor.ConstantArrivalRateConfig:
			spec.Duration = c.Duration.TimeDuration()
			spec.Planned = int64(float64(c.Rate.Int64) * spec.Duration.Seconds() / c.TimeUnit.TimeDuration().Seconds())
		case *executor.RampingArrivalRateConfig:
			rate, hits, d := float64(c.StartRate.Int64), 0.0, time.Duration(0)
			for _, st := range c.Stages {
				to := float64(st.Target.Int64)
				hits += (rate + to) / 2 * st.Duration.TimeDuration().Seconds()
				rate = to
				d += st.Duration.TimeDuration()
			}
			spec.Duration = d
			spec.Planned = int64(hits / c.TimeUnit.TimeDuration().Seconds())
		}
		out = append(out, spec)
	}
	sortPhases(out)
	return out
}

func sortPhases(p []results.PhaseSpec) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && (p[j].Start < p[j-1].Start || (p[j].Start == p[j-1].Start && p[j].Name < p[j-1].Name)); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// flush folds the buffered samples into the recorder.
func (o *Output) flush() {
	containers := o.GetBufferedSamples()
	if len(containers) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.start.IsZero() {
		o.start = o.reference(containers)
	}
	for _, sc := range containers {
		for _, s := range sc.GetSamples() {
			if len(o.thresholdParents) > 0 {
				o.noteThresholdMetric(s.Metric)
			}
			switch s.Metric.Name {
			case "http_req_duration":
				o.record(s)
			case "dropped_iterations":
				o.dropped += int64(s.Value)
			}
		}
	}
}

// reference picks the run's time origin from the first batch: the
// earliest (send time − its phase's start offset). The first iteration of
// an arrival-rate executor starts at its scenario's start, so this is the
// test start to within a few milliseconds.
func (o *Output) reference(containers []metrics.SampleContainer) time.Time {
	var ref time.Time
	for _, sc := range containers {
		for _, s := range sc.GetSamples() {
			if s.Metric.Name != "http_req_duration" {
				continue
			}
			t := sentAt(s)
			if p := o.phaseOf(s); p >= 0 {
				t = t.Add(-o.plan.Phases[p].Start)
			}
			if ref.IsZero() || t.Before(ref) {
				ref = t
			}
		}
	}
	return ref
}

func sentAt(s metrics.Sample) time.Time {
	return s.Time.Add(-time.Duration(s.Value * float64(time.Millisecond)))
}

func (o *Output) phaseOf(s metrics.Sample) int {
	if name, ok := s.Tags.Get("scenario"); ok {
		if i, ok := o.phaseIdx[name]; ok {
			return i
		}
	}
	return -1
}

// record turns one http_req_duration sample into a results.Sample.
func (o *Output) record(s metrics.Sample) {
	if o.start.IsZero() {
		return // no reference yet: cannot happen once a batch had a request
	}
	latency := time.Duration(s.Value * float64(time.Millisecond))
	sent := sentAt(s)
	x := results.Sample{
		Phase:          o.phaseOf(s),
		Endpoint:       -1,
		Due:            max(sent.Sub(o.start), 0),
		Latency:        latency,
		ServiceLatency: latency,
	}
	if v, ok := s.Tags.Get("status"); ok {
		x.Status, _ = strconv.Atoi(v)
	}
	transportErr := x.Status == 0
	if transportErr {
		x.Error, _ = s.Tags.Get("error")
		if x.Error == "" {
			if code, ok := s.Tags.Get("error_code"); ok {
				x.Error = "k6 error code " + code
			} else {
				x.Error = "no response"
			}
		}
	}
	x.Outcome = o.outcomes.Classify(x.Status, transportErr)
	if !transportErr && x.Outcome == results.OutcomeError {
		x.Error = "unexpected status " + strconv.Itoa(x.Status)
	}
	endpoint, ok := s.Tags.Get("endpoint")
	if !ok {
		endpoint, _ = s.Tags.Get("name")
	}
	extra := ""
	if i, ok := o.endpoints[endpoint]; ok {
		x.Endpoint = i
	} else if endpoint != "" && (x.Phase < 0 || !o.plan.Phases[x.Phase].Warmup) {
		extra = endpoint
	}
	o.sent++
	if transportErr && strings.Contains(x.Error, "context canceled") && len(o.cancelled) < maxPendingCancelled {
		o.cancelled = append(o.cancelled, pendingSample{x, extra})
		return
	}
	o.recordSample(x, extra)
	if end := s.Time; end.After(o.last) {
		o.last = end
	}
	if x.Phase >= 0 && s.Time.After(o.phaseEnd[x.Phase]) {
		o.phaseEnd[x.Phase] = s.Time
	}
	if len(o.origins) < maxOrigins {
		o.noteOrigin(s)
	}
}

// recordSample records x in the run's recorder and, for an endpoint that
// is not in the scenario, in that endpoint's own recorder.
func (o *Output) recordSample(x results.Sample, extra string) {
	if extra != "" {
		o.extraRecorder(extra).Record(results.Sample{
			Phase: -1, Endpoint: 0, Due: x.Due, Latency: x.Latency, ServiceLatency: x.ServiceLatency,
			Status: x.Status, Error: x.Error, Outcome: x.Outcome, Cancelled: x.Cancelled,
		})
	}
	o.rec.Record(x)
}

// extraRecorder returns the recorder of an endpoint that is not in the
// scenario (a script's own requests), creating it while under the cap.
func (o *Output) extraRecorder(name string) *results.Recorder {
	if r, ok := o.extra[name]; ok {
		return r
	}
	if len(o.extra) >= maxExtraEndpoints {
		name = "(other)"
		if r, ok := o.extra[name]; ok {
			return r
		}
	}
	r := results.NewRecorder(results.Plan{Endpoints: []string{name}, IntervalLag: o.plan.IntervalLag})
	o.extra[name] = r
	return r
}

// StopWithTestError implements output.WithStopWithTestError: an aborted or
// interrupted test still writes its (partial) result. A run that k6's
// thresholds failed (at the end, or stopped by abortOnFail) is not partial:
// the failed thresholds in the result are its verdict.
func (o *Output) StopWithTestError(testRunErr error) error {
	return o.finish(testRunErr != nil && !stoppedByThresholds(testRunErr), stoppedByUser(testRunErr))
}

// Stop implements output.Output.
func (o *Output) Stop() error { return o.finish(false, false) }

func (o *Output) finish(partial, byUser bool) error {
	if o.flusher != nil {
		o.flusher.Stop() // flushes one last time
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return nil
	}
	o.stopped = true
	for _, p := range o.cancelled {
		p.x.Cancelled = byUser
		o.recordSample(p.x, p.endpoint)
	}
	o.cancelled = nil
	res := o.result(partial)
	if err := results.Write(o.path, res); err != nil {
		return fmt.Errorf("slogate output: %w", err)
	}
	return nil
}

func (o *Output) result(partial bool) *results.Result {
	start := o.start
	if start.IsZero() {
		start = time.Now()
	}
	elapsed := max(o.last.Sub(start), 0)
	for i, p := range o.plan.Phases {
		if p.Planned == 0 && !o.phaseEnd[i].IsZero() {
			// A closed-model phase (iterations or VUs, not a rate)
			// lasted until its last request ended.
			o.rec.SetPhaseDuration(i, max(o.phaseEnd[i].Sub(start)-p.Start, 0))
		}
	}
	if !partial {
		// A complete open-model run lasted its whole schedule, even if
		// the last requests finished early.
		for _, p := range o.plan.Phases {
			if p.Planned > 0 {
				elapsed = max(elapsed, p.Start+p.Duration)
			}
		}
	}
	gen := results.Generator{SentReqs: o.sent}
	gen.NoteDroppedIterations(o.dropped)
	var planned int64
	for _, p := range o.plan.Phases {
		planned += p.Planned
	}
	// planned counts iterations (one request each in a generated script;
	// a script's iteration may send several): the share started on
	// schedule is the share k6 did not drop. 0 planned = unknown (a
	// closed-model executor plans no count).
	gen.PlannedReqs = planned
	if planned > 0 {
		gen.AchievedRatio = max(float64(planned-o.dropped), 0) / float64(planned)
	}
	host, _ := os.Hostname()
	res := o.rec.Result(results.Finish{
		Scenario:  o.name,
		Engine:    "k6",
		StartedAt: start,
		Elapsed:   elapsed,
		Partial:   partial,
		Generator: gen,
		Environment: results.Environment{
			Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
			GoVersion: runtime.Version(), K6: K6Version(), Target: strings.Join(o.origins, " "),
		},
	})
	res.ScriptThresholds = o.scriptThresholds(elapsed)
	res.Segment = o.segment
	for name, r := range o.extra {
		er := r.Result(results.Finish{Elapsed: elapsed, Partial: partial})
		if len(er.Endpoints) == 1 {
			ep := er.Endpoints[0]
			ep.Summary = recomputeRates(ep.Summary, res.Summary)
			res.Endpoints = append(res.Endpoints, ep)
			res.Histograms.Endpoints[name] = er.Histograms.Endpoints[name]
		}
	}
	return res
}

// recomputeRates puts an extra endpoint's per-second figures on the run's
// measured time base (its own recorder had no phases to measure time by).
func recomputeRates(ep, run results.Summary) results.Summary {
	if run.Requests == 0 || run.RequestRateRPS == 0 {
		return ep
	}
	ep.SetRates(float64(run.Requests-run.Censored) / run.RequestRateRPS)
	return ep
}

// Stats turns a result the output wrote into what the engine reports to
// the runner.
func Stats(res *results.Result) plan.Stats {
	return plan.Stats{
		Start:             res.StartedAt,
		Elapsed:           time.Duration(res.DurationS * float64(time.Second)),
		Sent:              res.Generator.SentReqs,
		OnSchedule:        res.Generator.SentReqs,
		Interrupted:       res.Partial,
		DroppedIterations: res.Generator.DroppedIterations,
		Result:            res,
	}
}

// maxOrigins bounds the distinct scheme://host the output lists as the
// run's target.
const maxOrigins = 4

// noteOrigin adds the scheme://host of the sample's url tag to origins.
func (o *Output) noteOrigin(s metrics.Sample) {
	u, ok := s.Tags.Get("url")
	if !ok {
		return
	}
	for _, have := range o.origins {
		if strings.HasPrefix(u, have) && (len(u) == len(have) || strings.ContainsRune("/?#", rune(u[len(have)]))) {
			return
		}
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return
	}
	o.origins = append(o.origins, p.Scheme+"://"+p.Host)
}
