package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner"
	"github.com/slogate/slogate/runner/scrape"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/capacity"
	"github.com/slogate/slogate/slo/gate"
)

type capacityFlags struct {
	target     string
	maxRate    float64
	startRate  float64
	budget     time.Duration
	step       time.Duration
	confirm    time.Duration
	plan       string
	headroom   string
	out        string
	reports    []string
	sloFile    string
	cores      string
	engine     string
	maxWorkers int
	env        []string
	quiet      bool
	proxy      string
}

func newCapacityCmd(w wiring) *cobra.Command {
	f := &capacityFlags{}
	cmd := &cobra.Command{
		Use:   "capacity [SCENARIO.yaml | builtin-name]",
		Short: "Search the highest rate that meets every SLO, model it and plan instances (exit 0 found, 2 bad input, 3 generator-bound or budget out)",
		Long: `Search the highest constant rate of the scenario's request mix (or a GET of
--target) at which every objective passes: rising steps, bisection between the
last passing and the first failing rate, then the answer held for a longer step.
Each step is gated on --slo, else the scenario's slo block, else the default
objectives. A step the generator could not hold is not the target's failure: if
the generator saturates first, the answer is "generator-bound", never a capacity.
The steps are modelled with the Universal Scalability Law; --plan sizes loads
with --headroom; --cores measures a bundled service pinned to 1, 2 ... CPUs.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapacity(cmd, args, f, w)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "target URL (alone: a GET of it; with a scenario: replaces its target)")
	fl.Float64Var(&f.maxRate, "max-rate", 10000, "never ask more than this rate (req/s)")
	fl.Float64Var(&f.startRate, "start-rate", 0, "the first step's rate (default: --max-rate / 32, at least enough requests in a step to judge a p99)")
	fl.DurationVar(&f.budget, "budget", 10*time.Minute, "the whole search stops within this time, with the best bound known (0: no bound)")
	fl.DurationVar(&f.step, "step", 10*time.Second, "how long each step runs")
	fl.DurationVar(&f.confirm, "confirm", 0, "how long the answer is held to confirm it (default 3 × --step)")
	fl.StringVar(&f.plan, "plan", "", "loads to size, req/s, comma-separated (e.g. 3000,10000)")
	fl.StringVar(&f.headroom, "headroom", "30%", "share of each instance's capacity kept free in the plan")
	fl.StringVarP(&f.out, "out", "o", "", "write the capacity document (JSON, schema slogate.capacity/v1) here, atomically")
	fl.StringArrayVar(&f.reports, "report", nil, "also write a report, FORMAT=FILE (text, markdown, json, html; repeatable)")
	fl.StringVar(&f.sloFile, "slo", "", "SLO file (objectives) to gate each step on")
	fl.StringVar(&f.cores, "cores", "", "per-core scaling of the bundled service: search with it pinned to each count of CPUs (e.g. 1,2)")
	fl.StringVar(&f.engine, "engine", "vegeta", "load engine: vegeta, k6 or fast")
	fl.StringVar(&f.proxy, "proxy", "", proxyFlagHelp)
	fl.IntVar(&f.maxWorkers, "max-workers", 0, "cap on concurrent requests (default: from each step's rate)")
	fl.StringArrayVar(&f.env, "env", nil, "KEY=VALUE knob for the bundled target service (repeatable)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line per step")
	return cmd
}

// capacityInput is the command line, checked.
type capacityInput struct {
	scenario *scenarios.Scenario
	set      *slo.Set
	loads    []float64
	headroom float64
	cores    []int
	reports  []gate.Report
	proxy    func(*http.Request) (*url.URL, error)
}

func parseCapacity(args []string, f *capacityFlags, w wiring) (*capacityInput, error) {
	in := &capacityInput{}
	if !w.engines.Has(f.engine) {
		return nil, fmt.Errorf("--engine %q: want one of %s", f.engine, strings.Join(w.engines.Names(), ", "))
	}
	if f.maxRate <= 0 || math.IsInf(f.maxRate, 0) || math.IsNaN(f.maxRate) {
		return nil, errors.New("--max-rate must be > 0")
	}
	if f.startRate < 0 || f.startRate > f.maxRate {
		return nil, errors.New("--start-rate must be between 0 and --max-rate")
	}
	if f.step < time.Second {
		return nil, errors.New("--step must be at least 1s")
	}
	if f.budget < 0 || f.confirm < 0 {
		return nil, errors.New("--budget and --confirm must be >= 0")
	}
	var err error
	if in.proxy, err = proxyFunc(f.proxy, f.engine); err != nil {
		return nil, err
	}
	if in.loads, err = parseLoads(f.plan); err != nil {
		return nil, err
	}
	if in.headroom, err = parseHeadroom(f.headroom); err != nil {
		return nil, err
	}
	if in.cores, err = parseCores(f.cores); err != nil {
		return nil, err
	}
	if in.reports, err = parseCapacityReports(f.reports); err != nil {
		return nil, err
	}
	if f.out != "" {
		if err := gate.CheckWritable(f.out); err != nil {
			return nil, fmt.Errorf("--out: %w", err)
		}
	}
	rf := &runFlags{target: f.target, env: f.env}
	if len(args) == 0 {
		if f.target == "" {
			return nil, errors.New("give a scenario (file or built-in name) or --target URL")
		}
		if len(f.env) > 0 {
			return nil, errors.New("--env sets knobs of a bundled target service; --target is a URL")
		}
		in.scenario, err = scenarios.Adhoc(f.target, 1, f.step)
	} else {
		in.scenario, err = loadRunScenario(args, rf)
	}
	if err != nil {
		return nil, err
	}
	if len(in.cores) > 0 {
		if in.scenario.Target.Service == "" {
			return nil, errors.New("--cores pins a bundled service (target.service); this scenario targets a URL")
		}
		if _, ok := w.services[in.scenario.Target.Service]; !ok {
			return nil, fmt.Errorf("--cores: bundled service %q cannot run as its own process", in.scenario.Target.Service)
		}
		for _, c := range in.cores {
			if c > runtime.NumCPU() {
				return nil, fmt.Errorf("--cores %d: this machine has %d CPUs", c, runtime.NumCPU())
			}
		}
	}
	if in.set, err = objectivesFor(f.sloFile, in.scenario); err != nil {
		return nil, err
	}
	return in, nil
}

// parseLoads reads --plan: positive rates, comma-separated.
func parseLoads(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var loads []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--plan %q: want positive rates in req/s, comma-separated, e.g. 3000,10000", s)
		}
		loads = append(loads, v)
	}
	return loads, nil
}

// parseHeadroom reads --headroom: "30%" or 0.3, in [0, 1).
func parseHeadroom(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err == nil && pct {
		v /= 100
	}
	if err != nil || v < 0 || v >= 1 || math.IsNaN(v) {
		return 0, fmt.Errorf("--headroom %q: want a share of capacity kept free, 0%% to 99%% (e.g. 30%% or 0.3)", s)
	}
	return v, nil
}

// parseCores reads --cores: distinct positive CPU counts, ascending.
func parseCores(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var cores []int
	seen := map[int]bool{}
	for _, p := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || c <= 0 || seen[c] {
			return nil, fmt.Errorf("--cores %q: want distinct CPU counts > 0, comma-separated, e.g. 1,2", s)
		}
		seen[c] = true
		cores = append(cores, c)
	}
	for i := 1; i < len(cores); i++ {
		for j := i; j > 0 && cores[j] < cores[j-1]; j-- {
			cores[j], cores[j-1] = cores[j-1], cores[j]
		}
	}
	return cores, nil
}

// capacityFormats are the formats of a capacity report.
var capacityFormats = []string{"text", "markdown", "json", "html"}

func parseCapacityReports(specs []string) ([]gate.Report, error) {
	var out []gate.Report
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(path) == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, e.g. --report markdown=cap.md", s)
		}
		if format == "md" {
			format = "markdown"
		}
		known := false
		for _, f := range capacityFormats {
			known = known || f == format
		}
		if !known {
			return nil, fmt.Errorf("--report %q: format %q: want one of %s", s, format, strings.Join(capacityFormats, ", "))
		}
		if err := gate.CheckWritable(path); err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		out = append(out, gate.Report{Format: format, Path: path})
	}
	return out, nil
}

func runCapacity(cmd *cobra.Command, args []string, f *capacityFlags, w wiring) error {
	in, err := parseCapacity(args, f, w)
	if err != nil {
		return badInput(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := cmd.ErrOrStderr()
	started := time.Now()

	var rep *capacity.Report
	if len(in.cores) > 0 {
		rep, err = capacityByCores(ctx, in, f, w, stderr)
	} else {
		rep, err = capacitySearch(ctx, in.scenario, in, f, w.engines, w.services, w.isolated, nil, f.budget, stderr)
	}
	if err != nil {
		return withCode(ExitBadInput, err)
	}
	rep.StartedAt = started.UTC()
	rep.ElapsedS = math.Round(time.Since(started).Seconds()*10) / 10
	rep.BudgetS = f.budget.Seconds()
	rep.MakePlan(in.headroom, in.loads)

	if err := capacity.WriteText(cmd.OutOrStdout(), rep); err != nil {
		return err
	}
	if f.out != "" {
		data, err := capacity.JSON(rep)
		if err != nil {
			return err
		}
		if err := results.WriteFileAtomic(f.out, data); err != nil {
			return withCode(ExitBadInput, fmt.Errorf("--out: %w", err))
		}
		fmt.Fprintf(cmd.OutOrStdout(), "capacity written to %s\n", f.out)
	}
	for _, r := range in.reports {
		var buf bytes.Buffer
		if err := capacity.Render(&buf, r.Format, rep); err != nil {
			return withCode(ExitBadInput, fmt.Errorf("--report %s: %w", r.Format, err))
		}
		if err := results.WriteFileAtomic(r.Path, buf.Bytes()); err != nil {
			return withCode(ExitBadInput, fmt.Errorf("--report %s: %w", r.Path, err))
		}
	}
	if rep.Found() {
		return nil
	}
	return withCode(ExitInconclusive, errors.New("no capacity figure: "+rep.Stopped))
}

// capacitySearch runs one search of s: each step is the scenario's request
// mix at one constant rate, run and gated like `slogate run`. metrics, when
// set, are /metrics endpoints of a service started outside the steps.
func capacitySearch(ctx context.Context, s *scenarios.Scenario, in *capacityInput, f *capacityFlags,
	engines runner.Engines, services, isolated runner.Services, metrics []scrape.Target, budget time.Duration, stderr io.Writer) (*capacity.Report, error) {
	opts := runner.Options{
		MaxWorkers: f.maxWorkers, Engine: f.engine, Engines: engines, Services: services,
		IsolatedServices: isolated, KeepFamilies: in.set.PromQLFamilies(), Proxy: in.proxy,
		Notice: func(msg string) { fmt.Fprintln(stderr, "slogate:", msg) },
	}
	for _, m := range metrics {
		opts.MetricsURLs = append(opts.MetricsURLs, m.URL)
	}
	criteria := gate.Criteria{Objectives: in.set}
	inProcess := s.Target.Service != "" && !s.Target.Isolate
	var thresholds []results.Bound
	measure := func(ctx context.Context, rate float64, d time.Duration) (capacity.Step, error) {
		step := *s
		if err := step.OverrideLoad(rate, d); err != nil {
			return capacity.Step{}, err
		}
		res, err := runner.Run(ctx, &step, opts)
		if err != nil {
			return capacity.Step{}, err
		}
		verdict := criteria.Evaluate(res)
		if thresholds == nil {
			thresholds = capacity.LatencyBounds(verdict)
		}
		st := capacity.Step{
			Verdict:            verdict.Verdict,
			GeneratorSaturated: res.Generator.Saturated,
			LimitedBy:          capacity.LimitedByOf(verdict, rate),
			Summary:            res.Summary,
			Server:             capacity.ServerFigures(res.Server),
		}
		if inProcess {
			// The service's process is this one: its CPU and memory are the
			// generator's too, so they say nothing about the service.
			delete(st.Server, capacity.ServerCPUCores)
			delete(st.Server, capacity.ServerRSSMB)
		}
		if !f.quiet {
			sat := ""
			if st.GeneratorSaturated {
				sat = "  generator saturated"
			}
			lim := ""
			if st.LimitedBy != nil {
				lim = fmt.Sprintf("  limited by %s = %.4g %s", st.LimitedBy.Objective, st.LimitedBy.Value, st.LimitedBy.Unit)
			}
			fmt.Fprintf(stderr, "capacity: %8.0f req/s %5.0fs  %-12s p95 %8.2f ms  errors %5.2f%%  blocked %5.2f%%%s%s\n",
				rate, d.Seconds(), verdict.Verdict, res.Summary.LatencyMs.P95, 100*res.Summary.ErrorRate, 100*res.Summary.BlockRate, lim, sat)
		}
		return st, nil
	}
	start := f.startRate
	if start == 0 {
		// A p99 needs 500 requests to be judged (slo's minimum samples):
		// below that a step is inconclusive and only costs time.
		start = math.Min(f.maxRate, math.Max(f.maxRate/32, math.Ceil(500/f.step.Seconds())))
	}
	search, err := capacity.Run(ctx, capacity.Config{
		StartRate: start, MaxRate: f.maxRate, StepDuration: f.step,
		ConfirmDuration: f.confirm, Budget: budget,
	}, measure)
	if err != nil {
		return nil, err
	}
	rep := capacity.NewReport(search)
	rep.Scenario = s.Name
	rep.Target = scenarios.Redacted(s.Target.URL)
	if s.Target.Service != "" {
		rep.Target = "service " + s.Target.Service
	}
	for _, o := range in.set.Objectives {
		rep.Objectives = append(rep.Objectives, o.String())
	}
	rep.Thresholds = thresholds
	rep.FitModel()
	cores := 0.0
	if (s.Target.Service != "" && !inProcess) || len(metrics) > 0 {
		cores = float64(runtime.NumCPU())
	}
	rep.SeedRule = capacity.CheckSeedRule(rep.Steps, cores)
	if inProcess {
		rep.SeedRule.CPUNote = "the bundled service ran inside slogate (no target.isolate): its CPU is the generator's too, so CPU is not judged"
	}
	return rep, nil
}

// capacityByCores runs one search per --cores count with the bundled
// service as its own process pinned to that many CPUs (the highest-numbered
// ones), and the generator (this process) pinned to the others when any are
// left, its GOMAXPROCS set to match; else both share every CPU. The service
// is started once per row (its state persists across that row's steps) and
// scraped through its /metrics. The rows become the seed's table, with the
// USL predicting 4 and 8 cores.
func capacityByCores(ctx context.Context, in *capacityInput, f *capacityFlags, w wiring, stderr io.Writer) (*capacity.Report, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := in.scenario
	ncpu := runtime.NumCPU()
	budget := f.budget
	if budget > 0 {
		budget /= time.Duration(len(in.cores))
	}
	table := &capacity.CoreTable{}
	var last *capacity.Report
	var shared []string
	for _, c := range in.cores {
		cpus := make([]int, 0, c)
		for i := ncpu - c; i < ncpu; i++ {
			cpus = append(cpus, i)
		}
		var genCPUs []int
		for i := 0; i < ncpu-c; i++ {
			genCPUs = append(genCPUs, i)
		}
		row := capacity.CoreRow{Cores: c, Label: "measured", ServiceCPUs: cpus}
		rep, err := func() (*capacity.Report, error) {
			start := runner.ChildService(exe, []string{"serve", s.Target.Service, "--addr", "127.0.0.1:0"}, serviceDefaults(s.Target.Service), cpus)
			svc, err := runner.Services{s.Target.Service: start}.Start(ctx, s.Target.Service, s.Target.Env)
			if err != nil {
				return nil, err
			}
			defer svc.Stop()
			procs := runtime.GOMAXPROCS(0)
			defer runtime.GOMAXPROCS(procs)
			if len(genCPUs) > 0 {
				restore, perr := runner.PinProcess(genCPUs)
				if perr == nil {
					defer restore()
				} else {
					fmt.Fprintf(stderr, "slogate: pinning the generator to CPU %v: %v (it shares the service's CPUs)\n", genCPUs, perr)
					row.Shared = true
				}
				runtime.GOMAXPROCS(len(genCPUs))
				row.GeneratorProcs = len(genCPUs)
			} else {
				row.Shared = true
				row.GeneratorProcs = procs
			}
			fmt.Fprintf(stderr, "capacity: %d core(s): service on CPU %v, generator GOMAXPROCS %d\n", c, cpus, row.GeneratorProcs)
			step := *s
			step.Target.Isolate = false // the service runs already, pinned
			if err := step.OverrideTarget(svc.URL); err != nil {
				return nil, err
			}
			step.Name = s.Name
			rep, err := capacitySearch(ctx, &step, in, f, w.engines, w.services, w.isolated, svc.Metrics, budget, stderr)
			if err != nil {
				return nil, err
			}
			rep.SeedRule = capacity.CheckSeedRule(rep.Steps, float64(c))
			return rep, nil
		}()
		if err != nil {
			return nil, fmt.Errorf("--cores %d: %w", c, err)
		}
		row.CapacityRPS, row.Confirmed, row.GeneratorBound = rep.CapacityRPS, rep.Confirmed, rep.GeneratorBound
		row.AtLeast = rep.LimitedBy == nil && !rep.GeneratorBound
		if rep.GeneratorBound {
			row.CapacityRPS = rep.GeneratorLimitRPS
		}
		if row.Shared {
			shared = append(shared, fmt.Sprintf("%d core(s): the service and the generator shared CPU %s", c, joinCPUs(cpus)))
		} else {
			shared = append(shared, fmt.Sprintf("%d core(s): nothing (service on CPU %s, generator on CPU %s)", c, joinCPUs(cpus), joinCPUs(genCPUs)))
		}
		table.Rows = append(table.Rows, row)
		last = rep
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		return nil, errors.New("interrupted before any core count was measured")
	}
	table.Predict([]int{2, 4, 8})
	table.SetSeed()
	table.Shared = strings.Join(shared, "; ") +
		" (the generator's CPU time is its own process's; memory bandwidth, caches and the loopback network are always shared)"
	// The document's search, model and plan are those of the largest core
	// count measured; the table holds every row.
	last.Cores = table
	return last, nil
}

func joinCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// serviceDefaults are the environment a bundled service gets as its own
// process beside the scenario's (as isolatedServices gives it).
func serviceDefaults(name string) map[string]string {
	if name == "guard" {
		return map[string]string{"TRUSTED_PROXIES": guard.LocalTrustedProxies}
	}
	return nil
}
