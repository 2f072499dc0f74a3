package k6

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/grafana/sobek"
	"go.k6.io/k6/js/modules"
	"go.k6.io/k6/lib"

	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/scenarios/corpus"
)

// ModuleName is the import path scripts use.
const ModuleName = "k6/x/slogate"

// k6's extension API (go.k6.io/k6/js/modules) has only a process-wide
// registry, filled at init as every xk6 extension does; k6 looks the module
// up there when a script imports it. This init is k6's contract, not
// slogate's way of wiring itself (engines and services are values built in
// cmd/slogate's main).
func init() {
	modules.Register(ModuleName, new(RootModule))
}

// RootModule is the JS module k6/x/slogate: slogate scenarios (weighted
// request mix, simulated client identities, IOC-corpus bodies) inside a k6
// script, so a hand-written script sends exactly a scenario's mix:
//
//	import http from 'k6/http';
//	import slogate from 'k6/x/slogate';
//	const s = slogate.scenario('echo-smoke', {target: __ENV.BASE_URL});
//	export default function () {
//	  const r = s.request();            // or s.request(n) for request n of the mix
//	  http.request(r.method, r.url, r.body, r.params);  // params carry headers and tags {endpoint}
//	}
//
// One RootModule per k6 process; scenarios are loaded once and shared by
// every VU (plan.Mix is a pure function of the sequence number).
type RootModule struct {
	mu     sync.Mutex
	loaded map[string]*loadedScenario
}

// loadedScenario is a scenario ready to build requests.
type loadedScenario struct {
	scenario *scenarios.Scenario
	schedule *plan.Schedule
	mix      *plan.Mix
	// firstSeq maps a k6 scenario name (ScenarioNames) to the first
	// sequence number of its phase.
	firstSeq  map[string]int64
	timeoutMs int64
}

// firstLoaded is the first scenario any script loaded in this process; the
// output extension uses its endpoints and outcomes when the run names no
// scenario in SLOGATE_SCENARIO.
var firstLoaded atomic.Pointer[loadedScenario]

var (
	_ modules.Module   = &RootModule{}
	_ modules.Instance = &moduleInstance{}
)

// NewModuleInstance implements modules.Module (once per VU).
func (m *RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &moduleInstance{root: m, vu: vu}
}

type moduleInstance struct {
	root *RootModule
	vu   modules.VU
}

// Exports implements modules.Instance.
func (mi *moduleInstance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{
		"scenario": mi.scenario,
		"corpus": map[string]any{
			"size":    corpus.Size,
			"hotSize": corpus.HotSize,
			// pick(seq, min, max): a deterministic list of min..max IOCs.
			"pick": func(seq int64, lo, hi int) []string { return corpus.Pick(uint64(seq), lo, hi) },
			// hot(seq, n): one IOC from the first n entries.
			"hot": func(seq int64, n int) string { return corpus.Hot(uint64(seq), n) },
		},
	}}
}

// scenario(nameOrPath, {target}) loads a scenario. The base URL of its
// requests is options.target, else $SLOGATE_TARGET, else the scenario's
// own target url.
func (mi *moduleInstance) scenario(name string, options sobek.Value) (*Scenario, error) {
	if name == "" {
		name = os.Getenv(EnvScenario)
	}
	if name == "" {
		return nil, errors.New("slogate.scenario: give a scenario file or built-in name (or set " + EnvScenario + ")")
	}
	target := ""
	if options != nil && !sobek.IsUndefined(options) && !sobek.IsNull(options) {
		if v := options.ToObject(mi.vu.Runtime()).Get("target"); v != nil && !sobek.IsUndefined(v) {
			target = v.String()
		}
	}
	if target == "" {
		target = os.Getenv(EnvTarget)
	}
	ls, err := mi.root.load(name, target)
	if err != nil {
		return nil, fmt.Errorf("slogate.scenario(%q): %w", name, err)
	}
	return &Scenario{vu: mi.vu, ls: ls}, nil
}

func (m *RootModule) load(name, target string) (*loadedScenario, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := name + "\x00" + target
	if ls, ok := m.loaded[key]; ok {
		return ls, nil
	}
	s, err := scenarios.Resolve(name)
	if err != nil {
		return nil, err
	}
	if target == "" {
		if s.Target.URL == "" {
			return nil, fmt.Errorf("it targets the bundled service %q, which only `slogate run --engine k6` starts: "+
				"run the script that way, or pass {target: 'http://host:port'}", s.Target.Service)
		}
		target = s.Target.URL
	}
	ls, err := newLoadedScenario(s, target)
	if err != nil {
		return nil, err
	}
	if m.loaded == nil {
		m.loaded = map[string]*loadedScenario{}
	}
	m.loaded[key] = ls
	firstLoaded.CompareAndSwap(nil, ls)
	return ls, nil
}

func newLoadedScenario(s *scenarios.Scenario, target string) (*loadedScenario, error) {
	mix, err := plan.NewMix(s, target)
	if err != nil {
		return nil, err
	}
	sc := plan.NewSchedule(s)
	ls := &loadedScenario{
		scenario: s, schedule: sc, mix: mix,
		firstSeq:  map[string]int64{},
		timeoutMs: s.Target.Timeout.D().Milliseconds(),
	}
	var seq int64
	for i, n := range ScenarioNames(s.Phases) {
		ls.firstSeq[n] = seq
		seq += sc.PhaseSpecs()[i].Planned
	}
	return ls, nil
}

// Scenario is what slogate.scenario() returns to a script.
type Scenario struct {
	vu modules.VU
	ls *loadedScenario
}

// Name is the scenario's name.
func (s *Scenario) Name() string { return s.ls.scenario.Name }

// Endpoints lists the request names of the mix, in scenario order.
func (s *Scenario) Endpoints() []string { return s.ls.mix.Endpoints() }

// Endpoint is the index of the request the mix sends as request seq.
func (s *Scenario) Endpoint(seq int64) int { return s.ls.mix.Endpoint(seq) }

// Identity is the simulated client of request seq: {header, value}, or
// null when the scenario simulates no clients.
func (s *Scenario) Identity(seq int64) map[string]string {
	h, v := s.ls.mix.Identity(seq, s.ls.mix.Endpoint(seq))
	if h == "" {
		return nil
	}
	return map[string]string{"header": h, "value": v}
}

// Seq is the sequence number the current iteration sends: the first
// sequence number of the phase run by the current k6 scenario (when its
// name is one of the scenario's phases) plus the scenario's
// iterationInTest, which k6 numbers uniquely across VUs and across the
// instances of a distributed run.
func (s *Scenario) Seq() (int64, error) {
	st := s.vu.State()
	if st == nil || st.GetScenarioGlobalVUIter == nil {
		return 0, errors.New("slogate: request() without a sequence number only works inside an iteration (call request(n) in the init context)")
	}
	seq := int64(st.GetScenarioGlobalVUIter())
	if ss := lib.GetScenarioState(s.vu.Context()); ss != nil {
		seq += s.ls.firstSeq[ss.Name]
	}
	return seq, nil
}

// Request builds request seq of the mix (the current iteration's when seq
// is omitted): {seq, name, endpoint, method, url, body, headers, params},
// where params = {headers, tags: {endpoint: name}, timeout, redirects: 0}
// is ready for http.request.
func (s *Scenario) Request(seqArg sobek.Value) (*sobek.Object, error) {
	var seq int64
	if seqArg == nil || sobek.IsUndefined(seqArg) || sobek.IsNull(seqArg) {
		var err error
		if seq, err = s.Seq(); err != nil {
			return nil, err
		}
	} else {
		seq = seqArg.ToInteger()
	}
	req, e, err := s.ls.mix.Request(context.Background(), seq)
	if err != nil {
		return nil, err
	}
	rt := s.vu.Runtime()
	headers := rt.NewObject()
	for k, v := range req.Header {
		if len(v) > 0 {
			_ = headers.Set(k, v[0])
		}
	}
	if host := s.ls.mix.Host(e); host != "" {
		_ = headers.Set("Host", host) // k6 sends a Host header as the request's host
	}
	var body any = sobek.Null()
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	name := s.ls.mix.Endpoints()[e]
	tags := rt.NewObject()
	_ = tags.Set("endpoint", name)
	params := rt.NewObject()
	_ = params.Set("headers", headers)
	_ = params.Set("tags", tags)
	_ = params.Set("timeout", s.ls.timeoutMs)
	_ = params.Set("redirects", 0)

	o := rt.NewObject()
	_ = o.Set("seq", seq)
	_ = o.Set("name", name)
	_ = o.Set("endpoint", e)
	_ = o.Set("method", req.Method)
	_ = o.Set("url", s.ls.mix.URL(e))
	_ = o.Set("body", body)
	_ = o.Set("headers", headers)
	_ = o.Set("params", params)
	return o, nil
}
