package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/runner/promrw"
	"github.com/slogate/slogate/runner/scrape"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/slo/promql"
)

// Saturation thresholds (DESIGN.md "Measuring honestly").
const (
	// MinAchievedRatio: below this share of the asked requests sent on
	// schedule, the generator did not hold the rate.
	MinAchievedRatio = 0.97
	// MaxPinnedFraction: above this share of requests started with every
	// worker busy, the generator was pinned at its cap.
	MaxPinnedFraction = 0.02
)

// Options tune a run.
type Options struct {
	// Engine names the engine in Engines (default DefaultEngine).
	Engine string
	// Engines are the engines this build offers (the program builds them).
	Engines Engines
	// Services are the bundled services a scenario's target.service names.
	Services Services
	// Script is a user's own k6 script (k6 engine), run with the scenario;
	// a scenario that only stands in for a script (scenarios.ForScript)
	// names it itself.
	Script string
	// MaxWorkers overrides the scenario's generator.max_workers (0: keep).
	MaxWorkers int
	// Progress, when set, is called about once a second during the run.
	Progress func(Progress)
	// TLS configures HTTPS targets (--insecure, --ca); nil: system roots.
	TLS *tls.Config
	// Proxy picks each request's HTTP proxy (the CLI: --proxy, else
	// http.ProxyFromEnvironment); nil: no proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// IsolatedServices are the bundled services as their own processes,
	// used when the scenario says target.isolate (their /metrics then
	// describe the service alone, not the generator beside it).
	IsolatedServices Services
	// MetricsURLs are more /metrics endpoints to scrape (--metrics-url),
	// beside target.metrics and the bundled services'.
	MetricsURLs []string
	// KeepFamilies are the metric families the objectives name: their
	// series are kept in the result beside results.DefaultServerFamilies.
	KeepFamilies []string
	// RemoteWrite, when set, pushes the run's per-second figures to this
	// Prometheus remote-write URL (--out prometheus-rw=URL).
	RemoteWrite string
	// Segment, when set, runs only this process's share of the scenario
	// (--segment, --segment-sequence): the vegeta engine sends the
	// segment's requests of every phase, the k6 engine passes it to k6.
	Segment *plan.Segment
	// Notice, when set, is told what went wrong beside the load that does
	// not change the result (a remote-write receiver that was down).
	Notice func(string)
}

// Progress is a live view of a running test.
type Progress struct {
	Elapsed   time.Duration
	Total     time.Duration
	Requests  int64
	Rate      float64 // measured requests/s since the last call
	P99Ms     float64
	ErrorRate float64
	BlockRate float64
}

// DefaultMaxWorkers picks the concurrency cap from the peak rate: a
// quarter of a second's worth of requests (so a target answering within
// 250 ms never pins the generator), at least 32 and at most 512. Above
// 12k req/s the cap drops to 64: unbounded or very wide worker pools
// collapse there on a small machine (generator.md).
func DefaultMaxWorkers(peakRate float64) int {
	if peakRate > 12000 {
		return 64
	}
	return int(math.Min(512, math.Max(32, math.Ceil(peakRate/4))))
}

// ErrInterrupted marks a result cut short by the caller (Ctrl-C).
var ErrInterrupted = errors.New("run interrupted")

// Run executes s and returns its result (without an SLO verdict). When ctx
// is cancelled the load stops, and the partial result is returned with
// Partial set.
func Run(ctx context.Context, s *scenarios.Scenario, opts Options) (*results.Result, error) {
	engine := opts.Engine
	if engine == "" {
		engine = DefaultEngine
	}
	run, ok := opts.Engines[engine]
	if !ok {
		return nil, fmt.Errorf("unknown engine %q (this build has %v)", engine, opts.Engines.Names())
	}
	baseURL := s.Target.URL
	var metrics []scrape.Target
	if s.Target.Service != "" {
		services := opts.Services
		if s.Target.Isolate {
			services = opts.IsolatedServices
		}
		svc, err := services.Start(ctx, s.Target.Service, s.Target.Env)
		if err != nil {
			return nil, err
		}
		defer svc.Stop()
		baseURL = svc.URL
		metrics = svc.Metrics
	}
	for _, u := range s.Target.Metrics.URLs {
		metrics = append(metrics, scrape.Target{URL: u, Job: "target"})
	}
	for _, u := range opts.MetricsURLs {
		metrics = append(metrics, scrape.Target{URL: u, Job: "target"})
	}
	script := opts.Script
	if script == "" {
		script = s.Script // a stand-in scenario runs its script
	}
	schedule := plan.NewSchedule(s).Segmented(opts.Segment)
	mix, err := plan.NewMix(s, baseURL)
	if err != nil {
		return nil, err
	}
	var pusher *promrw.Writer
	if opts.RemoteWrite != "" {
		if pusher, err = promrw.Start(opts.RemoteWrite, time.Now(), s.Name, engine); err != nil {
			return nil, err
		}
	}
	recPlan := results.Plan{
		Phases:      schedule.PhaseSpecs(),
		Endpoints:   mix.Endpoints(),
		TargetRate:  schedule.RateAt,
		IntervalLag: s.Target.Timeout.D() + 2*time.Second,
	}
	if pusher != nil {
		recPlan.OnInterval = pusher.Push
	}
	rec := results.NewRecorder(recPlan)
	maxWorkers := s.Generator.MaxWorkers
	if opts.MaxWorkers > 0 {
		maxWorkers = opts.MaxWorkers
	}
	peakRate := s.PeakRate() * opts.Segment.Fraction()
	defaulted := maxWorkers == 0
	if defaulted {
		maxWorkers = DefaultMaxWorkers(peakRate)
	}

	var sessions plan.SessionProvider
	if hasMCP(s) {
		mcp, err := plan.OpenMCPSessions(ctx, s, mix, opts.TLS, opts.Proxy)
		if err != nil {
			return nil, err
		}
		defer mcp.Close()
		sessions = mcp
	}

	// The server side: scraped before the load, beside it, and after the
	// drain (scrape.Stop); it never delays or breaks the load.
	var scraper *scrape.Scraper
	if len(metrics) > 0 {
		scraper, err = scrape.Start(ctx, scrapeConfig(s, metrics, opts))
		if err != nil {
			return nil, err
		}
	}
	finishServer := func(res *results.Result) {
		if pusher != nil {
			if st := pusher.Close(); (st.Failed > 0 || st.Dropped > 0) && opts.Notice != nil {
				opts.Notice(fmt.Sprintf("--out prometheus-rw: %d seconds pushed, %d failed, %d dropped (last error: %s)", st.Sent, st.Failed, st.Dropped, st.LastError))
			}
			pusher = nil
		}
		if scraper != nil {
			srv := scraper.Stop()
			scraper = nil
			srv.Summary = promql.Summarize(context.Background(), srv)
			if res != nil {
				res.Server = srv
			}
		}
	}
	defer finishServer(nil)

	stopProgress := func() {}
	if opts.Progress != nil {
		stopProgress = startProgress(rec, schedule, opts.Progress)
	}
	stats, err := run(ctx, plan.Job{
		Scenario:         s,
		Schedule:         schedule,
		Mix:              mix,
		Recorder:         rec,
		BaseURL:          baseURL,
		MaxWorkers:       maxWorkers,
		WorkersDefaulted: defaulted,
		PeakRate:         peakRate,
		Timeout:          s.Target.Timeout.D(),
		Drain:            s.Generator.Drain.D(),
		Sessions:         sessions,
		Script:           script,
		TLS:              opts.TLS,
		Proxy:            opts.Proxy,
	})
	stopProgress()
	if err != nil {
		return nil, err
	}
	if stats.MaxWorkers > 0 {
		maxWorkers = stats.MaxWorkers
	}

	gen := results.Generator{
		MaxWorkers:     maxWorkers,
		PlannedReqs:    schedule.Total(),
		SentReqs:       stats.Sent,
		PinnedFraction: round4(stats.PinnedFrac),
		Transport:      stats.Transport,
		Protocols:      stats.Protocols,
		Proxy:          stats.Proxy,
	}
	planned := schedule.Total()
	if stats.Interrupted {
		// Only what was due before the interruption was asked for.
		planned = dueBy(schedule, stats.Elapsed)
	}
	if planned > 0 {
		gen.AchievedRatio = round4(float64(stats.OnSchedule) / float64(planned))
	}
	if gen.AchievedRatio < MinAchievedRatio && planned > 0 {
		gen.Saturated = true
		gen.Reasons = append(gen.Reasons, fmt.Sprintf(
			"sent %.1f%% of the asked requests on schedule (need >= %.0f%%)", 100*gen.AchievedRatio, 100*MinAchievedRatio))
	}
	if gen.PinnedFraction > MaxPinnedFraction {
		gen.Saturated = true
		gen.Reasons = append(gen.Reasons, fmt.Sprintf(
			"all %d workers were busy for %.1f%% of requests: raise generator.max_workers (--max-workers) or lower the rate",
			maxWorkers, 100*gen.PinnedFraction))
	}
	if n, first := rec.GeneratorFaults(); n > 0 {
		// Out of file descriptors, ports or buffers is the generator's
		// limit, never the target's error.
		gen.Saturated = true
		// The fault's text says the way out (plan.ResourceFault, or an
		// engine's own limit naming another engine).
		gen.Reasons = append(gen.Reasons, fmt.Sprintf(
			"the generator ran out of its own resources for %d requests (%s)", n, first))
	}
	if stats.Censored > 0 {
		gen.Reasons = append(gen.Reasons, fmt.Sprintf("%d requests were never sent before the drain deadline (recorded as censored errors)", stats.Censored))
	}
	gen.NoteDroppedIterations(stats.DroppedIterations)
	if stats.Result != nil {
		res := stats.Result
		if script != "" {
			// A user's own script: its executors decide the load, not the
			// placeholder's schedule or worker cap. The output planned what
			// k6 plans (arrival-rate executors; 0 = unknown for a closed
			// model) and made the run saturated if k6 dropped iterations.
			gen = res.Generator
		}
		res.Generator = gen
		k6Version, scriptTarget := res.Environment.K6, res.Environment.Target
		res.Environment = Environment(s.Hash, targetName(s, baseURL), s.Target.Service)
		res.Environment.K6 = k6Version
		if s.Script != "" && baseURL == "" {
			// A script run without a scenario or --target: the script's own
			// URLs are the target.
			res.Environment.Target = scriptTarget
		}
		res.Environment.TargetEnv = s.Target.Env
		res.Segment = segmentOf(opts.Segment)
		finishServer(res)
		return res, nil
	}
	res := rec.Result(results.Finish{
		Scenario:    s.Name,
		Engine:      engine,
		StartedAt:   stats.Start,
		Elapsed:     stats.Elapsed,
		Partial:     stats.Interrupted,
		Environment: Environment(s.Hash, targetName(s, baseURL), s.Target.Service),
		Generator:   gen,
	})
	res.Environment.TargetEnv = s.Target.Env
	res.Segment = segmentOf(opts.Segment)
	finishServer(res)
	return res, nil
}

// segmentOf records the run's segment in its result, or nothing.
func segmentOf(seg *plan.Segment) *results.Segment {
	if seg == nil {
		return nil
	}
	return &results.Segment{Value: seg.Value, Sequence: seg.Sequence}
}

// scrapeConfig says what to scrape and keep: the families the objectives
// name and the default set, or every series with target.metrics.keep: all.
func scrapeConfig(s *scenarios.Scenario, targets []scrape.Target, opts Options) scrape.Config {
	cfg := scrape.Config{Targets: targets, Interval: s.Target.Metrics.Interval.D(), KeepName: "all"}
	if opts.TLS != nil {
		cfg.Client = &http.Client{Transport: &http.Transport{TLSClientConfig: opts.TLS, MaxIdleConnsPerHost: 1}}
	}
	if s.Target.Metrics.Keep != "all" {
		families := append(append([]string{}, results.DefaultServerFamilies...), opts.KeepFamilies...)
		cfg.Keep = func(f string) bool { return results.KeepFamily(families, f) }
		cfg.KeepName = "default+objectives"
	}
	return cfg
}

func targetName(s *scenarios.Scenario, baseURL string) string {
	if s.Target.Service != "" {
		return "bundled:" + s.Target.Service
	}
	return scenarios.Redacted(baseURL)
}

func hasMCP(s *scenarios.Scenario) bool {
	for i := range s.Requests {
		if s.Requests[i].Kind == "mcp" {
			return true
		}
	}
	return false
}

// dueBy counts the requests due before t.
func dueBy(sc *plan.Schedule, t time.Duration) int64 {
	lo, hi := int64(0), sc.Total()
	for lo < hi {
		mid := (lo + hi) / 2
		if d, _ := sc.Due(mid); d < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// startProgress reports progress every second until the returned function
// is called; that function returns once the reporter has stopped.
func startProgress(rec *results.Recorder, sc *plan.Schedule, fn func(Progress)) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		lastAt := start
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				n, p99, errRate, blockRate := rec.Snapshot()
				fn(Progress{
					Elapsed: now.Sub(start), Total: sc.End(), Requests: n,
					Rate: float64(n-last) / now.Sub(lastAt).Seconds(), P99Ms: p99,
					ErrorRate: errRate, BlockRate: blockRate,
				})
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(stop); <-done }
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
