package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/gate"
)

type runFlags struct {
	target     string
	rate       float64
	duration   time.Duration
	engine     string
	sloFile    string
	baseline   string
	out        string
	quiet      bool
	maxWorkers int
	format     string
	script     string
	env        []string
	// history, repeats and A/B runs (history.go, repeat.go)
	history     string
	noHistory   bool
	repeat      int
	compareWith string
	baseEnv     []string
	reports     []string
	// --out values: the result file, prometheus-rw=URL
	outs        []string
	remoteWrite string
	// the server side (issue: scrape, PromQL)
	metricsURLs []string
	prometheus  string
	// HTTPS targets
	insecure bool
	caFile   string
	proxy    string
	// a shard of a distributed run (segment.go)
	segment         string
	segmentSequence string
	startAt         string
}

func newRunCmd(w wiring) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [SCENARIO.yaml | builtin-name]",
		Short: "Run a load test and gate it on its SLOs (exit 0 pass, 1 fail, 2 bad input, 3 inconclusive)",
		Long: `Run a scenario file, a built-in scenario (see 'slogate scenarios'), or an ad-hoc
constant-rate GET with --target/--rate/--duration. The result is evaluated against
--slo, else the scenario's slo block, else the default objectives (P50 < 50 ms,
P95 < 100 ms, P99 < 200 ms, max < 500 ms, error rate < 0.1 %).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, args, f, w)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "target URL (alone: an ad-hoc GET test; with a scenario: replaces its target)")
	fl.Float64Var(&f.rate, "rate", 0, "constant request rate per second (replaces the scenario's phases)")
	fl.DurationVar(&f.duration, "duration", 0, "test duration with --rate (e.g. 30s)")
	fl.StringVar(&f.engine, "engine", "vegeta", "load engine: vegeta, k6 or fast")
	fl.StringArrayVar(&f.env, "env", nil, "KEY=VALUE knob for the bundled target service (repeatable), e.g. ENABLE_MODEL_CACHE=false")
	fl.StringVar(&f.script, "script", "", "your own k6 script (with --engine k6)")
	fl.StringVar(&f.sloFile, "slo", "", "SLO file (objectives) to gate on")
	fl.StringVar(&f.baseline, "baseline", "", "baseline for the objectives' regression budgets: a result file, last-pass or median-of:N (from the history)")
	fl.StringVar(&f.history, "history", "", historyFlagHelp)
	fl.BoolVar(&f.noHistory, "no-history", false, "do not store this run in the results history")
	fl.IntVar(&f.repeat, "repeat", 1, "run N times: writes every run (--out r.json → r-1.json ...) and gates on their merged histograms")
	fl.StringVar(&f.compareWith, "compare-with", "", "A/B: also run this baseline scenario, interleaved (base, new, base, new ...), --repeat times each, and compare")
	fl.StringArrayVar(&f.baseEnv, "base-env", nil, "A/B: KEY=VALUE knob for the baseline side's bundled target (repeatable; the baseline scenario defaults to this one)")
	fl.StringArrayVarP(&f.outs, "out", "o", nil, "write the result JSON here (atomically); prometheus-rw=URL also pushes the run's per-second figures to a Prometheus remote-write endpoint (repeatable)")
	fl.StringArrayVar(&f.metricsURLs, "metrics-url", nil, "also scrape this Prometheus /metrics endpoint during the run (repeatable; bundled services are scraped anyway)")
	fl.StringVar(&f.prometheus, "prometheus", "", "evaluate PromQL objectives with this running Prometheus over the run's window (instead of slogate's own scrapes)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress line")
	fl.IntVar(&f.maxWorkers, "max-workers", 0, "cap on concurrent requests (default: from the peak rate)")
	fl.StringVar(&f.format, "format", "text", "what to print: text or json")
	fl.BoolVar(&f.insecure, "insecure", false, "HTTPS: do not verify the target's certificate (a self-signed test target)")
	fl.StringVar(&f.caFile, "ca", "", "HTTPS: trust the CA certificates in this PEM file (beside the system roots)")
	fl.StringVar(&f.proxy, "proxy", "", proxyFlagHelp)
	fl.StringVar(&f.segment, "segment", "", "run only this execution segment of the scenario, k6's syntax (0:1/4, 1/4:1/2 ...): shards merged with 'slogate merge'")
	fl.StringVar(&f.segmentSequence, "segment-sequence", "", "all the run's segments, k6's syntax (0,1/4,1/2,3/4,1): every shard of one run names the same")
	fl.StringVar(&f.startAt, "start-at", "", "start the load at this RFC 3339 instant (the shards of one run start together)")
	fl.StringArrayVar(&f.reports, "report", nil, "also write a report, FORMAT=FILE (text, markdown, json, junit, html; repeatable; Markdown is appended to $GITHUB_STEP_SUMMARY when set)")
	return cmd
}

// loadRunScenario resolves the scenario from arguments and flags.
func loadRunScenario(args []string, f *runFlags) (*scenarios.Scenario, error) {
	if (f.rate > 0) != (f.duration > 0) {
		return nil, errors.New("--rate and --duration go together")
	}
	if f.rate < 0 || f.duration < 0 {
		return nil, errors.New("--rate and --duration must be > 0")
	}
	if len(args) == 0 {
		if f.script != "" {
			return scriptScenario(f.script, f.target, f.rate)
		}
		if f.target == "" {
			return nil, errors.New("give a scenario (file or built-in name) or --target URL --rate N --duration D")
		}
		if f.rate == 0 {
			return nil, errors.New("--target without a scenario needs --rate and --duration")
		}
		return scenarios.Adhoc(f.target, f.rate, f.duration)
	}
	if err := k6ScriptHint(args[0]); err != nil {
		return nil, err
	}
	s, err := scenarios.Resolve(args[0])
	if err != nil {
		return nil, err
	}
	if f.target != "" {
		if err := s.OverrideTarget(f.target); err != nil {
			return nil, err
		}
	}
	if f.rate > 0 {
		if err := s.OverrideLoad(f.rate, f.duration); err != nil {
			return nil, err
		}
	}
	if len(f.env) > 0 {
		if s.Target.Service == "" {
			return nil, errors.New("--env sets knobs of a bundled target service; this scenario targets a URL")
		}
		if s.Target.Env == nil {
			s.Target.Env = map[string]string{}
		}
		for _, kv := range f.env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--env %q: want KEY=VALUE", kv)
			}
			s.Target.Env[k] = v
		}
	}
	return s, nil
}

// objectivesFor picks --slo, else the scenario's slo block, else defaults.
func objectivesFor(sloFile string, s *scenarios.Scenario) (*slo.Set, error) {
	if sloFile != "" {
		return slo.LoadFile(sloFile)
	}
	if s != nil && s.SLO.Kind != 0 {
		set, err := slo.FromNode(s.File, &s.SLO)
		if err != nil {
			return nil, err
		}
		if len(set.Objectives) > 0 {
			return set, nil
		}
	}
	return slo.Default(), nil
}

func runRun(cmd *cobra.Command, args []string, f *runFlags, w wiring) error {
	if !w.engines.Has(f.engine) {
		return badInput(fmt.Errorf("--engine %q: want one of %s", f.engine, strings.Join(w.engines.Names(), ", ")))
	}
	if f.script != "" && f.engine != "k6" {
		return badInput(errors.New("--script needs --engine k6"))
	}
	if f.format != "text" && f.format != "json" {
		return badInput(fmt.Errorf("--format %q: want text or json", f.format))
	}
	if _, err := parseReportSpecs(f.reports, false); err != nil {
		return badInput(fmt.Errorf("--report: %w", err))
	}
	if err := f.parseOuts(); err != nil {
		return badInput(err)
	}
	if f.remoteWrite != "" && f.engine == "k6" {
		// The k6 engine records in its own process; k6 itself pushes.
		return badInput(errors.New("--out prometheus-rw is for the vegeta engine; with k6 use its own output: slogate k6 run -o experimental-prometheus-rw SCRIPT (K6_PROMETHEUS_RW_SERVER_URL=URL)"))
	}
	s, err := loadRunScenario(args, f)
	if err != nil {
		return badInput(err)
	}
	segment, err := f.parseSegment()
	if err != nil {
		return badInput(err)
	}
	startAt, err := parseStartAt(f.startAt, time.Now())
	if err != nil {
		return badInput(err)
	}
	set, err := objectivesFor(f.sloFile, s)
	if err != nil {
		return badInput(err)
	}
	baseline, err := resolveBaseline(f.baseline, f.history, s.Name, runner.Environment(s.Hash, "", s.Target.Service), time.Time{}, cmd.ErrOrStderr())
	if err != nil {
		return badInput(err)
	}
	if f.out != "" {
		if err := gate.CheckWritable(f.out); err != nil {
			return badInput(fmt.Errorf("--out: %w", err))
		}
	}

	tlsConfig, err := f.tlsConfig()
	if err != nil {
		return badInput(err)
	}
	if f.caFile != "" && f.engine == "k6" {
		return badInput(errors.New("--ca is not supported with --engine k6: k6 trusts the system roots; give it SSL_CERT_FILE=FILE in the environment, or use --insecure"))
	}
	proxy, err := proxyFunc(f.proxy, f.engine)
	if err != nil {
		return badInput(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := runner.Options{
		MaxWorkers: f.maxWorkers, Engine: f.engine, Engines: w.engines, Services: w.services,
		IsolatedServices: w.isolated, Script: f.script, TLS: tlsConfig, Proxy: proxy,
		MetricsURLs: f.metricsURLs, KeepFamilies: set.PromQLFamilies(), RemoteWrite: f.remoteWrite,
		Segment: segment,
		Notice:  func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "slogate:", msg) },
	}
	if f.prometheus == "" {
		f.prometheus = s.Target.Prometheus
	}
	stderr := cmd.ErrOrStderr()
	live := !f.quiet && isTerminal(stderr)
	if live {
		opts.Progress = func(p runner.Progress) {
			fmt.Fprintf(stderr, "\r\033[K%5.0fs/%-4.0fs  %7.0f req/s  p99 %7.2f ms  errors %5.2f%%  blocked %5.2f%%",
				p.Elapsed.Seconds(), p.Total.Seconds(), p.Rate, p.P99Ms, 100*p.ErrorRate, 100*p.BlockRate)
		}
	}
	stage, err := f.stage(cmd, set, baseline)
	if err != nil {
		return badInput(err)
	}
	if f.repeat != 1 || f.compareWith != "" || len(f.baseEnv) > 0 {
		if segment != nil || !startAt.IsZero() {
			return badInput(errors.New("--segment and --start-at are for one shard of one run, not with --repeat or A/B runs"))
		}
		return runRepeated(ctx, cmd, args, f, s, stage, opts)
	}
	if segment != nil {
		stage.History = nil // a shard is not a run of the scenario: its merge is
		if s.Target.Service != "" {
			fmt.Fprintf(stderr, "slogate: --segment with the bundled service %q: this shard starts its own copy; to load one target, start it once (slogate serve %s) and give every shard --target URL\n", s.Target.Service, s.Target.Service)
		}
	}
	if err := waitUntil(ctx, startAt, stderr); err != nil {
		return withCode(ExitInconclusive, err)
	}
	res, err := runner.Run(ctx, s, opts)
	if live {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return withCode(ExitBadInput, err)
	}
	code, err := stage.Finish(res)
	if hint := fastEngineHint(f.engine, res, s.PeakRate()*segment.Fraction()); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	return exitWith(code, err)
}

// fastEngineHint is the line printed after the verdict of a vegeta-engine
// run that the generator could not keep up with (too few requests sent on
// schedule, or every worker busy): the fast engine holds higher rates. A
// run short of its own resources (file descriptors, ports) gets no hint:
// another engine would not have them either.
func fastEngineHint(engine string, res *results.Result, peakRate float64) string {
	if engine != "vegeta" || res == nil || res.Partial {
		return ""
	}
	g := res.Generator
	if !g.Saturated || (g.AchievedRatio >= runner.MinAchievedRatio && g.PinnedFraction <= runner.MaxPinnedFraction) {
		return ""
	}
	return fmt.Sprintf("slogate: the vegeta engine could not hold %.0f req/s; --engine fast holds higher rates", peakRate)
}

// stage is the gate's last stage of a run as the flags ask for it: the
// history store, --out, --report and $GITHUB_STEP_SUMMARY, and what is
// printed (--format).
func (f *runFlags) stage(cmd *cobra.Command, set *slo.Set, baseline *results.Result) (*gate.Stage, error) {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	reports, err := parseReportSpecs(f.reports, false)
	if err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	st := &gate.Stage{
		Criteria:    gate.Criteria{Objectives: set, Baseline: baseline, Prometheus: f.prometheus},
		Out:         f.out,
		Reports:     reports,
		StepSummary: os.Getenv(gate.StepSummaryEnv),
		Warn:        func(err error) { fmt.Fprintf(stderr, "slogate: %v\n", err) },
	}
	if !f.noHistory {
		st.History = results.History{Dir: results.HistoryDir(f.history)}
	}
	// The verdict is printed first, so that a file that cannot be written
	// (a full disk, a directory gone read-only during the run) never hides it.
	st.Show = func(res *results.Result, stored string) error {
		if f.format == "json" {
			return writeJSON(stdout, res)
		}
		if err := results.WriteText(stdout, res); err != nil {
			return err
		}
		if stored != "" {
			fmt.Fprintf(stdout, "stored in history: %s\n", stored)
		}
		return nil
	}
	if f.format != "json" {
		st.Wrote = func(path string) { fmt.Fprintf(stdout, "result written to %s\n", path) }
	}
	return st, nil
}

const proxyFlagHelp = "send every request through this HTTP proxy (HOST:PORT, http://, https:// or socks5://HOST:PORT; default: HTTP_PROXY, HTTPS_PROXY and NO_PROXY from the environment, which never proxy loopback targets)"

// proxyFunc is the proxy of --proxy, or the environment's (HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY, as curl, vegeta and k6 read them). k6 reads the
// environment itself, so --proxy is refused with it.
func proxyFunc(flag, engine string) (func(*http.Request) (*url.URL, error), error) {
	if flag == "" {
		return http.ProxyFromEnvironment, nil
	}
	if engine == "k6" {
		return nil, errors.New("--proxy is not supported with --engine k6: k6 reads HTTP_PROXY and HTTPS_PROXY from the environment; set them instead")
	}
	raw := flag
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // HOST:PORT, as the environment's variables take it
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--proxy: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("--proxy %q: want http://, https:// or socks5://HOST:PORT", u.Redacted())
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("--proxy %q: want a proxy address, SCHEME://HOST:PORT", u.Redacted())
	}
	return http.ProxyURL(u), nil
}

// tlsConfig builds the HTTPS client settings of --insecure and --ca, or
// nil for Go's defaults (system roots, full verification).
func (f *runFlags) tlsConfig() (*tls.Config, error) {
	if !f.insecure && f.caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: f.insecure} //nolint:gosec // asked for by --insecure
	if f.caFile != "" {
		pem, err := scenarios.ReadRegularFile(f.caFile, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("--ca %s: %w", f.caFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate found in the file", f.caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseOuts splits the --out values into the result file (at most one) and
// a prometheus-rw=URL endpoint (at most one), and checks the URLs of
// --metrics-url and --prometheus, before anything runs.
func (f *runFlags) parseOuts() error {
	for _, o := range f.outs {
		if u, ok := strings.CutPrefix(o, "prometheus-rw="); ok {
			if f.remoteWrite != "" {
				return errors.New("--out prometheus-rw= given twice")
			}
			if err := checkHTTPURL(u); err != nil {
				return fmt.Errorf("--out prometheus-rw=%s: %w", u, err)
			}
			f.remoteWrite = u
			continue
		}
		if f.out != "" {
			return fmt.Errorf("--out: two result files (%s and %s)", f.out, o)
		}
		f.out = o
	}
	for _, u := range f.metricsURLs {
		if err := checkHTTPURL(u); err != nil {
			return fmt.Errorf("--metrics-url %s: %w", u, err)
		}
	}
	if f.prometheus != "" {
		if err := checkHTTPURL(f.prometheus); err != nil {
			return fmt.Errorf("--prometheus %s: %w", f.prometheus, err)
		}
	}
	return nil
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http(s)://host:port URL")
	}
	return nil
}
