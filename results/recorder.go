package results

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Outcome classifies a response: exactly one of success, blocked, error.
type Outcome uint8

const (
	OutcomeSuccess Outcome = iota
	OutcomeBlocked
	OutcomeError
)

// String returns "success", "blocked" or "error".
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeBlocked:
		return "blocked"
	default:
		return "error"
	}
}

// PhaseSpec describes one phase of the load profile to the recorder.
type PhaseSpec struct {
	Name     string
	Kind     string
	Warmup   bool
	Start    time.Duration // offset from the run start
	Duration time.Duration
	Planned  int64 // requests the schedule asks for in this phase
}

// Plan is what the recorder needs to know before the first sample.
type Plan struct {
	Phases    []PhaseSpec
	Endpoints []string
	// TargetRate gives the asked rate at an offset from the run start; used
	// for per-interval targets. Optional.
	TargetRate func(t time.Duration) float64
	// IntervalLag is how long after an interval ends (by due time) it is
	// closed and encoded. Samples for a closed interval still count in every
	// other scope and in the interval's counters. Default 10 s.
	IntervalLag time.Duration
	// OnInterval, when set, is given each per-second interval as it is
	// closed (in no particular order when several close at once), e.g. to
	// push it to a live dashboard. It is called with the recorder locked:
	// it must not block.
	OnInterval func(Interval)
}

// Sample is one request's outcome, as an engine saw it.
type Sample struct {
	Phase    int
	Endpoint int
	// Due is the intended send time, as an offset from the run start.
	Due time.Duration
	// Latency is measured from the intended send time (done − due);
	// ServiceLatency from the actual send (done − sent); Lateness = sent − due.
	Latency        time.Duration
	ServiceLatency time.Duration
	Lateness       time.Duration
	Status         int
	Error          string
	Outcome        Outcome
	BytesIn        int64
	BytesOut       int64
	Censored       bool
	// Cancelled: the user stopped the run (Ctrl-C, SIGTERM) while this
	// request was in flight or about to be sent. Not the target's doing: it
	// is counted apart and left out of every rate and histogram.
	Cancelled bool
	// GeneratorFault: the generator itself could not send the request (out
	// of file descriptors, ephemeral ports or socket buffers). Not the
	// target's doing: counted apart, and it makes the run inconclusive.
	GeneratorFault bool
}

const maxDistinctErrors = 50

type scope struct {
	latency, service, lateness latencyCounts
	success, blocked, errors   int64
	bytesIn, bytesOut          int64
	censored                   int64
	cancelled, generatorFaults int64
	generatorErr               string // the first generator fault's message
	status                     map[int]int64
	errs                       map[string]int64
}

func newScope() *scope {
	return &scope{status: map[int]int64{}, errs: map[string]int64{}}
}

func (s *scope) add(x *Sample) {
	if x.Cancelled {
		s.cancelled++
		return
	}
	if x.GeneratorFault {
		s.generatorFaults++
		if s.generatorErr == "" {
			s.generatorErr = x.Error
		}
		return
	}
	s.latency.record(x.Latency)
	if !x.Censored {
		s.service.record(x.ServiceLatency)
		s.lateness.record(x.Lateness)
	}
	switch x.Outcome {
	case OutcomeSuccess:
		s.success++
	case OutcomeBlocked:
		s.blocked++
	default:
		s.errors++
	}
	if x.Censored {
		s.censored++
	}
	s.bytesIn += x.BytesIn
	s.bytesOut += x.BytesOut
	if x.Status != 0 {
		s.status[x.Status]++
	}
	if x.Error != "" {
		if _, ok := s.errs[x.Error]; ok || len(s.errs) < maxDistinctErrors {
			s.errs[x.Error]++
		} else {
			s.errs["(other errors)"]++
		}
	}
}

func (s *scope) requests() int64 { return s.success + s.blocked + s.errors }

func (s *scope) summary(seconds, targetRate float64) Summary {
	n := s.requests()
	sum := Summary{
		Requests:         n,
		TargetRateRPS:    round3(targetRate),
		LatencyMs:        LatencyFrom(s.latency.histogram()),
		ServiceLatencyMs: LatencyFrom(s.service.histogram()),
		LatenessMs:       LatencyFrom(s.lateness.histogram()),
		SuccessCount:     s.success,
		BlockedCount:     s.blocked,
		ErrorCount:       s.errors,
		StatusCodes:      map[string]int64{},
		Errors:           map[string]int64{},
		Censored:         s.censored,
		Cancelled:        s.cancelled,
		GeneratorErrors:  s.generatorFaults,
		BytesIn:          s.bytesIn,
		BytesOut:         s.bytesOut,
	}
	for code, c := range s.status {
		sum.StatusCodes[strconv.Itoa(code)] = c
	}
	for msg, c := range s.errs {
		sum.Errors[msg] = c
	}
	sum.SetRates(seconds)
	return sum
}

func (s *scope) histograms() HistogramSet {
	var set HistogramSet
	set.Latency, _ = EncodeHistogram(s.latency.histogram())
	set.ServiceLatency, _ = EncodeHistogram(s.service.histogram())
	set.Lateness, _ = EncodeHistogram(s.lateness.histogram())
	return set
}

type intervalAcc struct {
	requests, success, blocked, errors int64
	hist                               *hdrhistogram.Histogram // nil once closed
	closed                             Interval
}

// Recorder folds samples into HDR histograms per run, phase, endpoint and
// one-second interval. Memory does not grow with the number of requests:
// only closed intervals (a few hundred bytes each) accumulate. It is safe
// for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	plan      Plan
	run       *scope
	phases    []*scope
	endpoints []*scope
	intervals map[int]*intervalAcc
	maxDueSec int
	lagSec    int
}

// NewRecorder prepares a recorder for plan.
func NewRecorder(plan Plan) *Recorder {
	r := &Recorder{plan: plan, run: newScope(), intervals: map[int]*intervalAcc{}}
	for range plan.Phases {
		r.phases = append(r.phases, newScope())
	}
	for range plan.Endpoints {
		r.endpoints = append(r.endpoints, newScope())
	}
	lag := plan.IntervalLag
	if lag <= 0 {
		lag = 10 * time.Second
	}
	r.lagSec = int(math.Ceil(lag.Seconds()))
	return r
}

// Record adds one sample. Samples of warm-up phases count only in their
// phase; they are not measured in the run, endpoint or interval figures.
func (r *Recorder) Record(x Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(&x)
}

// RecordAll records samples under one lock: an engine's per-worker buffer
// flushed in batches takes the shared lock once per batch.
func (r *Recorder) RecordAll(xs []Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range xs {
		r.record(&xs[i])
	}
}

func (r *Recorder) record(x *Sample) {
	if x.Phase >= 0 && x.Phase < len(r.phases) {
		r.phases[x.Phase].add(x)
		if r.plan.Phases[x.Phase].Warmup {
			return
		}
	}
	r.run.add(x)
	if x.Endpoint >= 0 && x.Endpoint < len(r.endpoints) {
		r.endpoints[x.Endpoint].add(x)
	}
	if x.Cancelled {
		return
	}
	r.addInterval(x)
}

func (r *Recorder) addInterval(x *Sample) {
	if x.Cancelled || x.GeneratorFault {
		return
	}
	sec := int(x.Due / time.Second)
	acc := r.intervals[sec]
	if acc == nil {
		acc = &intervalAcc{hist: newIntervalHistogram()}
		r.intervals[sec] = acc
	}
	acc.requests++
	switch x.Outcome {
	case OutcomeSuccess:
		acc.success++
	case OutcomeBlocked:
		acc.blocked++
	default:
		acc.errors++
	}
	if acc.hist != nil {
		recordDuration(acc.hist, x.Latency)
	}
	if sec > r.maxDueSec {
		r.maxDueSec = sec
		// Closed in order of time, so OnInterval sees seconds ascending
		// (a remote-write receiver refuses a point older than one it has).
		var closing []int
		for s, a := range r.intervals {
			if a.hist != nil && s+r.lagSec < sec {
				closing = append(closing, s)
			}
		}
		sort.Ints(closing)
		for _, s := range closing {
			r.closeInterval(s, r.intervals[s])
		}
	}
}

func (r *Recorder) closeInterval(sec int, a *intervalAcc) {
	a.closed = Interval{TS: sec, LatencyMs: LatencyFrom(a.hist)}
	if r.plan.TargetRate != nil {
		a.closed.TargetRPS = round3(r.plan.TargetRate(time.Duration(sec)*time.Second + time.Second/2))
	}
	a.closed.Histogram, _ = EncodeHistogram(a.hist)
	a.hist = nil
	if r.plan.OnInterval != nil {
		iv := a.closed
		iv.Requests, iv.Success, iv.Blocked, iv.Errors = a.requests, a.success, a.blocked, a.errors
		iv.Histogram = ""
		r.plan.OnInterval(iv)
	}
}

// Requests returns how many samples have been recorded in measured phases.
func (r *Recorder) Requests() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.run.requests()
}

// Snapshot returns live figures for a progress line: measured requests,
// p99 in ms, error and block fractions.
func (r *Recorder) Snapshot() (requests int64, p99Ms, errorRate, blockRate float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.run.requests()
	if n == 0 {
		return 0, 0, 0, 0
	}
	return n, r.run.latency.quantileMs(99), float64(r.run.errors) / float64(n), float64(r.run.blocked) / float64(n)
}

// GeneratorFaults returns how many requests of measured phases the
// generator could not send for lack of its own resources, and the first
// such error.
func (r *Recorder) GeneratorFaults() (int64, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, msg := r.run.generatorFaults, r.run.generatorErr
	for i, p := range r.phases {
		if r.plan.Phases[i].Warmup {
			n += p.generatorFaults
			if msg == "" {
				msg = p.generatorErr
			}
		}
	}
	return n, msg
}

// SetPhaseDuration sets how long phase i lasted when that is known only at
// the end (a k6 closed-model executor runs until its iterations are done).
func (r *Recorder) SetPhaseDuration(i int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i >= 0 && i < len(r.plan.Phases) {
		phases := append([]PhaseSpec(nil), r.plan.Phases...) // the caller's plan stays as it was
		phases[i].Duration = d
		r.plan.Phases = phases
	}
}

// Finish describes the run's end to the recorder.
type Finish struct {
	Scenario    string
	Engine      string
	StartedAt   time.Time
	Elapsed     time.Duration // wall time from run start to the end of load
	Partial     bool
	Environment Environment
	Generator   Generator
}

// Result builds the result document. The recorder may not be used after.
func (r *Recorder) Result(f Finish) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{
		Schema:      Schema,
		Scenario:    f.Scenario,
		Engine:      f.Engine,
		StartedAt:   f.StartedAt.UTC().Truncate(time.Millisecond),
		DurationS:   round3(f.Elapsed.Seconds()),
		Partial:     f.Partial,
		Environment: f.Environment,
		Generator:   f.Generator,
		Histograms: Histograms{
			Unit:      "us",
			Phases:    map[string]HistogramSet{},
			Endpoints: map[string]HistogramSet{},
		},
		Phases:    []Phase{},
		Endpoints: []Endpoint{},
		Intervals: []Interval{},
	}

	var measuredSec, measuredPlanned float64
	for i, p := range r.plan.Phases {
		secs := p.Duration.Seconds()
		planned := float64(p.Planned)
		if f.Partial { // only the part of the phase that ran counts
			ran := f.Elapsed - p.Start
			switch {
			case ran <= 0:
				secs, planned = 0, 0
			case ran < p.Duration:
				frac := ran.Seconds() / p.Duration.Seconds()
				secs, planned = ran.Seconds(), planned*frac
			}
		}
		rate := 0.0
		if secs > 0 {
			rate = planned / secs
		}
		if !p.Warmup {
			measuredSec += secs
			measuredPlanned += planned
		}
		res.Phases = append(res.Phases, Phase{
			Name: p.Name, Kind: p.Kind, Warmup: p.Warmup,
			StartS: round3(p.Start.Seconds()), DurationS: round3(p.Duration.Seconds()),
			Summary: r.phases[i].summary(secs, rate),
		})
		res.Histograms.Phases[p.Name] = r.phases[i].histograms()
	}
	runRate := 0.0
	if measuredSec > 0 {
		runRate = measuredPlanned / measuredSec
	}
	res.Summary = r.run.summary(measuredSec, runRate)
	res.Histograms.Run = r.run.histograms()
	for i, name := range r.plan.Endpoints {
		res.Endpoints = append(res.Endpoints, Endpoint{Name: name, Summary: r.endpoints[i].summary(measuredSec, 0)})
		res.Histograms.Endpoints[name] = r.endpoints[i].histograms()
	}
	secs := make([]int, 0, len(r.intervals))
	for s := range r.intervals {
		secs = append(secs, s)
	}
	sort.Ints(secs)
	// The schedule ends with its last phase, or where an interrupted run
	// stopped; a second it covers only in part gets SpanS.
	var scheduleEnd time.Duration
	for _, p := range r.plan.Phases {
		scheduleEnd = max(scheduleEnd, p.Start+p.Duration)
	}
	if f.Partial && f.Elapsed < scheduleEnd {
		scheduleEnd = f.Elapsed
	}
	for _, s := range secs {
		a := r.intervals[s]
		if a.hist != nil {
			r.closeInterval(s, a)
		}
		iv := a.closed
		iv.Requests, iv.Success, iv.Blocked, iv.Errors = a.requests, a.success, a.blocked, a.errors
		if span := (scheduleEnd - time.Duration(s)*time.Second).Seconds(); span > 0 && span < 1 {
			iv.SpanS = round3(span)
		}
		res.Intervals = append(res.Intervals, iv)
	}
	return res
}
