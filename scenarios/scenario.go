package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/scenarios/yamlfile"
)

// Scenario is a load test: what to hit, how hard, and what counts as good.
type Scenario struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Target      Target    `yaml:"target"`
	Clients     Clients   `yaml:"clients"`
	Requests    []Request `yaml:"requests"`
	Outcomes    Outcomes  `yaml:"outcomes"`
	Phases      []Phase   `yaml:"phases"`
	Generator   Generator `yaml:"generator"`
	// SLO is the scenario's objectives, kept as YAML for package slo.
	SLO yaml.Node `yaml:"slo"`

	// File is where the scenario came from ("builtin:NAME" for built-ins).
	File string `yaml:"-"`
	// Hash fingerprints the scenario's content (sha256 of its source).
	Hash string `yaml:"-"`
	dir  string

	// Script, when set, is the user's k6 script this scenario only stands
	// in for (ForScript): the script decides the load, and its own URLs are
	// the target unless Target.URL is set.
	Script string `yaml:"-"`
}

// Target is the service under test: a URL, or a bundled service started
// in-process.
type Target struct {
	URL     string            `yaml:"url"`
	Service string            `yaml:"service"` // guard | ioc | guard+ioc | echo
	Env     map[string]string `yaml:"env"`
	Timeout Duration          `yaml:"timeout"`
	// Metrics names the target's Prometheus /metrics endpoints, scraped
	// before, during and after the load (a bundled service is scraped
	// without it).
	Metrics Metrics `yaml:"metrics"`
	// Isolate runs a bundled service as its own process, so that its
	// /metrics (RSS, CPU, goroutines) describe the service alone and not
	// slogate's generator beside it.
	Isolate bool `yaml:"isolate"`
	// Prometheus is a running Prometheus that already scrapes the target:
	// PromQL objectives are then evaluated by it over the run's window.
	Prometheus string `yaml:"prometheus"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// Metrics is target.metrics: {urls: [...], interval: 1s, keep: default|all}.
type Metrics struct {
	URLs     []string `yaml:"urls"`
	Interval Duration `yaml:"interval"` // default 1 s
	// Keep: "default" (the families the objectives name, the process and
	// runtime figures, the bundled services' families) or "all" (every
	// series, up to the result's bound).
	Keep string `yaml:"keep"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// Bounds on target.metrics.
const (
	MaxMetricsURLs      = 16
	MinScrapeInterval   = 100 * time.Millisecond
	MaxScrapeInterval   = time.Minute
	DefaultScrapeEveryS = 1
)

// Clients simulates many client identities by sending an address in a
// header (X-Forwarded-For by default).
type Clients struct {
	Count  int    `yaml:"count"`
	Header string `yaml:"header"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// Request is one entry of the weighted request mix.
type Request struct {
	Name      string            `yaml:"name"`
	Kind      string            `yaml:"kind"` // http (default) | mcp
	Method    string            `yaml:"method"`
	Path      string            `yaml:"path"`
	URL       string            `yaml:"url"`
	Weight    int               `yaml:"weight"`
	Headers   map[string]string `yaml:"headers"`
	Body      string            `yaml:"body"`
	BodyFile  string            `yaml:"body_file"`
	BodySize  int               `yaml:"body_size"`
	Generate  *Generate         `yaml:"generate"`
	Clients   *Clients          `yaml:"clients"`
	Tool      string            `yaml:"tool"`      // mcp: tool name
	Arguments string            `yaml:"arguments"` // mcp: JSON template of the arguments
	// BodyBytes is the loaded body (Body, BodyFile or BodySize).
	BodyBytes []byte `yaml:"-"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
	// headerLines is the line of each key under headers:.
	headerLines map[string]int
}

// Generate makes a request body per request from a corpus.
type Generate struct {
	Corpus   string `yaml:"corpus"`
	Min      int    `yaml:"min"`
	Max      int    `yaml:"max"`
	Hot      int    `yaml:"hot"`
	Template string `yaml:"template"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// Outcomes says which statuses are success and which mean blocked.
// Everything else, and every transport error, is an error.
type Outcomes struct {
	Success []string `yaml:"success"`
	Blocked []string `yaml:"blocked"`
	success []statusRange
	blocked []statusRange

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

// Generator tunes the load generator.
type Generator struct {
	// MaxWorkers caps concurrent in-flight requests (vegeta MaxWorkers).
	// 0 picks a default from the peak rate.
	MaxWorkers int `yaml:"max_workers"`
	// Drain is how long past the schedule's end the backlog may still be
	// sent before what is left is censored. Default: the request timeout.
	Drain Duration `yaml:"drain"`

	// Pos is where each field was written (yamlfile.Decode sets it).
	Pos yamlfile.Positions `yaml:"-"`
}

type statusRange struct{ lo, hi int }

// Default classification (DESIGN.md): 2xx/3xx success, 429 and 403 blocked.
var (
	defaultSuccess = []statusRange{{200, 399}}
	defaultBlocked = []statusRange{{429, 429}, {403, 403}}
)

// headerLine is the line of header name k, or of headers: itself.
func (r *Request) headerLine(k string) int { return r.Pos.Line("headers." + k) }

// Load reads and validates a scenario file (a regular file of at most
// MaxFileBytes).
func Load(path string) (*Scenario, error) {
	data, err := readRegularFile(path, MaxFileBytes)
	var refused *refusal
	if errors.As(err, &refused) {
		return nil, &Error{File: path, Msg: refused.Msg}
	}
	if err != nil {
		return nil, fmt.Errorf("loading scenario: %w", err)
	}
	return Parse(path, filepath.Dir(path), data)
}

// Parse decodes and validates a scenario document. file names it in errors;
// dir resolves body_file paths ("" for built-ins). The data holds one YAML
// document: a second one (after ---) is an error, not silently ignored.
func Parse(file, dir string, data []byte) (*Scenario, error) {
	if len(data) > MaxFileBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("%d bytes, above the %s limit", len(data), mib(MaxFileBytes))}
	}
	root, err := yamlfile.Root(file, data, yamlfile.Kind{Empty: "empty scenario document", Holds: "a scenario file holds exactly one"})
	if err != nil {
		return nil, err
	}
	if err := checkCounts(file, root); err != nil {
		return nil, err
	}
	var s Scenario
	if err := yamlfile.Decode(root, &s, ""); err != nil {
		return nil, yamlfile.InFile(file, 0, err)
	}
	s.File = file
	s.dir = dir
	sum := sha256.Sum256(data)
	s.Hash = hex.EncodeToString(sum[:8])
	if s.Name == "" {
		base := filepath.Base(file)
		s.Name = strings.TrimSuffix(strings.TrimPrefix(base, "builtin:"), filepath.Ext(base))
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkCounts refuses too many request entries or phases before they are
// decoded, so an oversized list costs only its YAML nodes.
func checkCounts(file string, root *yaml.Node) error {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	limits := map[string]int{"requests": MaxRequests, "phases": MaxPhases}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		limit, ok := limits[key.Value]
		if !ok {
			continue
		}
		if val.Kind == yaml.AliasNode && val.Alias != nil {
			val = val.Alias
		}
		if val.Kind == yaml.SequenceNode && len(val.Content) > limit {
			return &Error{File: file, Line: key.Line, Field: key.Value, Msg: fmt.Sprintf("%d entries, above the limit of %d", len(val.Content), limit)}
		}
	}
	return nil
}

func (s *Scenario) errf(line int, field, format string, args ...any) error {
	return &Error{File: s.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (s *Scenario) validate() error {
	t := &s.Target
	switch {
	case t.URL == "" && t.Service == "":
		return s.errf(t.Pos.Line("url"), "target", "needs url: (http://host:port) or service: (guard, ioc, guard+ioc, echo)")
	case t.URL != "" && t.Service != "":
		return s.errf(t.Pos.Line("service"), "target", "give url or service, not both")
	case t.URL != "":
		if err := checkURL(t.URL); err != nil {
			return s.errf(t.Pos.Line("url"), "target.url", "%v", err)
		}
	default:
		if !KnownService(t.Service) {
			return s.errf(t.Pos.Line("service"), "target.service", "unknown bundled service %q (want one of %s)", t.Service, strings.Join(Services, ", "))
		}
	}
	if t.Timeout < 0 || t.Timeout.D() > MaxTimeout {
		return s.errf(t.Pos.Line("timeout"), "target.timeout", "must be > 0 and at most %s (got %s)", durText(MaxTimeout), t.Timeout.D())
	}
	if err := s.validateMetrics(); err != nil {
		return err
	}
	if len(t.Env) > MaxHeaders {
		return s.errf(t.Pos.Line("env"), "target.env", "%d entries, at most %d", len(t.Env), MaxHeaders)
	}
	for k, v := range t.Env {
		if len(k) > MaxNameBytes || len(v) > MaxHeaderValueBytes {
			return s.errf(t.Pos.Line("env"), "target.env", "%.40q: names are at most %d bytes, values at most %d", k, MaxNameBytes, MaxHeaderValueBytes)
		}
	}
	if len(s.Name) > MaxNameBytes {
		return s.errf(0, "name", "%d bytes, at most %d", len(s.Name), MaxNameBytes)
	}
	if t.Timeout == 0 {
		t.Timeout = Duration(defaultTimeout)
	}
	if err := s.validateClients(&s.Clients, "clients"); err != nil {
		return err
	}
	if len(s.Requests) == 0 {
		return s.errf(0, "requests", "at least one request is needed")
	}
	if len(s.Requests) > MaxRequests {
		return s.errf(0, "requests", "%d entries, above the limit of %d", len(s.Requests), MaxRequests)
	}
	seen := map[string]bool{}
	bodyBytes := 0
	for i := range s.Requests {
		r := &s.Requests[i]
		if err := s.validateRequest(i, r); err != nil {
			return err
		}
		if bodyBytes += len(r.BodyBytes); bodyBytes > MaxTotalBodyBytes {
			field := map[bool]string{true: "body_file", false: "body_size"}[r.BodyFile != ""]
			if r.Body != "" {
				field = "body"
			}
			return s.errf(r.Pos.Line(field), fmt.Sprintf("requests[%d].%s", i, field), "the bodies of the mix add up to more than %s (use fewer or smaller bodies)", mib(MaxTotalBodyBytes))
		}
		if seen[s.Requests[i].Name] {
			return s.errf(s.Requests[i].Pos.Line("name"), fmt.Sprintf("requests[%d].name", i), "duplicate request name %q", s.Requests[i].Name)
		}
		seen[s.Requests[i].Name] = true
	}
	if err := s.checkIdentityBlocks(); err != nil {
		return err
	}
	if err := s.validateOutcomes(); err != nil {
		return err
	}
	if len(s.Phases) == 0 {
		return s.errf(0, "phases", "at least one phase is needed")
	}
	if len(s.Phases) > MaxPhases {
		return s.errf(0, "phases", "%d entries, above the limit of %d", len(s.Phases), MaxPhases)
	}
	measured := 0
	var total time.Duration
	var planned int64
	phaseNames := map[string]bool{}
	for i := range s.Phases {
		p := &s.Phases[i]
		if p.Name == "" {
			p.Name = fmt.Sprintf("phase%d", i+1)
		}
		if err := p.validate(); err != nil {
			var fe *Error
			if errors.As(err, &fe) {
				return s.errf(p.Pos.Line(fe.Field), fmt.Sprintf("phases[%d].%s", i, fe.Field), "%s", fe.Msg)
			}
			return err
		}
		if phaseNames[p.Name] {
			return s.errf(p.Pos.Line("name"), fmt.Sprintf("phases[%d].name", i), "duplicate phase name %q", p.Name)
		}
		phaseNames[p.Name] = true
		if !p.Warmup {
			measured++
		}
		// Each phase is at most MaxDuration and MaxPlanned is far below
		// int64's range, so neither sum overflows before it is checked.
		if total += p.Duration.D(); total > MaxDuration {
			return s.errf(p.Pos.Line("duration"), fmt.Sprintf("phases[%d].duration", i), "the phases last %s in all, above the %s limit", total, durText(MaxDuration))
		}
		if planned += p.Planned(); planned > MaxPlanned {
			return s.errf(p.Pos.Line("duration"), fmt.Sprintf("phases[%d]", i), "the schedule plans %d requests by this phase, above the %d limit (lower rate or duration)", planned, MaxPlanned)
		}
	}
	if measured == 0 {
		return s.errf(0, "phases", "every phase is a warm-up: at least one must be measured")
	}
	g := &s.Generator
	if g.MaxWorkers < 0 || g.MaxWorkers > MaxWorkers {
		return s.errf(g.Pos.Line("max_workers"), "generator.max_workers", "must be >= 0 and at most %d (got %d)", MaxWorkers, g.MaxWorkers)
	}
	if g.Drain < 0 || g.Drain.D() > MaxTimeout {
		return s.errf(g.Pos.Line("drain"), "generator.drain", "must be >= 0 and at most %s (got %s)", durText(MaxTimeout), g.Drain.D())
	}
	if g.Drain == 0 {
		g.Drain = t.Timeout
	}
	return nil
}

func (s *Scenario) validateMetrics() error {
	t := &s.Target
	m := &t.Metrics
	if len(m.URLs) > MaxMetricsURLs {
		return s.errf(m.Pos.Line("urls"), "target.metrics.urls", "%d URLs, at most %d", len(m.URLs), MaxMetricsURLs)
	}
	for i, u := range m.URLs {
		if err := checkURL(u); err != nil {
			return s.errf(m.Pos.Line("urls"), fmt.Sprintf("target.metrics.urls[%d]", i), "%v", err)
		}
	}
	if m.Interval == 0 {
		m.Interval = Duration(DefaultScrapeEveryS * time.Second)
	}
	if d := m.Interval.D(); d < MinScrapeInterval || d > MaxScrapeInterval {
		return s.errf(m.Pos.Line("interval"), "target.metrics.interval", "%s: want %s .. %s", d, MinScrapeInterval, MaxScrapeInterval)
	}
	switch m.Keep {
	case "":
		m.Keep = "default"
	case "default", "all":
	default:
		return s.errf(m.Pos.Line("keep"), "target.metrics.keep", "%q: want default or all", m.Keep)
	}
	if t.Isolate && t.Service == "" {
		return s.errf(t.Pos.Line("isolate"), "target.isolate", "runs a bundled service as its own process: it needs target.service")
	}
	if t.Prometheus != "" {
		if err := checkURL(t.Prometheus); err != nil {
			return s.errf(t.Pos.Line("prometheus"), "target.prometheus", "%v", err)
		}
	}
	return nil
}

func (s *Scenario) validateClients(c *Clients, field string) error {
	if c.Count < 0 {
		return s.errf(c.Pos.Line("count"), field+".count", "must be >= 0")
	}
	if c.Header == "" {
		c.Header = "X-Forwarded-For"
	}
	if c.Count > MaxClients {
		return s.errf(c.Pos.Line("count"), field+".count", "at most %d identities", MaxClients)
	}
	if err := checkHeaderName(c.Header); err != nil {
		return s.errf(c.Pos.Line("header"), field+".header", "%v", err)
	}
	return nil
}

// MaxBlockClients is how many identities a clients block holds when the
// scenario has several blocks: block B's addresses are 10.B.x.y, so a
// larger block would spill into the next block's addresses and two blocks
// (attackers and legitimate users) would share identities. A scenario with
// one block (no request has its own clients) may use up to MaxClients.
const MaxBlockClients = 1 << 16

func (s *Scenario) checkIdentityBlocks() error {
	own := -1
	for i := range s.Requests {
		if s.Requests[i].Clients != nil {
			own = i
			break
		}
	}
	if own < 0 {
		return nil
	}
	if s.Clients.Count > MaxBlockClients {
		return s.errf(s.Clients.Pos.Line("count"), "clients.count", "at most %d identities when a request has its own clients block (requests[%d].clients): blocks are 10.B.x.y", MaxBlockClients, own)
	}
	for i := range s.Requests {
		if c := s.Requests[i].Clients; c != nil && c.Count > MaxBlockClients {
			return s.errf(c.Pos.Line("count"), fmt.Sprintf("requests[%d].clients.count", i), "at most %d identities per block (10.B.x.y) when the scenario has several clients blocks", MaxBlockClients)
		}
	}
	return nil
}

func (s *Scenario) validateRequest(i int, r *Request) error {
	field := func(f string) string { return fmt.Sprintf("requests[%d].%s", i, f) }
	if r.Name == "" {
		r.Name = fmt.Sprintf("request%d", i+1)
	}
	if len(r.Name) > MaxNameBytes {
		return s.errf(r.Pos.Line("name"), field("name"), "%d bytes, at most %d", len(r.Name), MaxNameBytes)
	}
	if r.Kind == "" {
		r.Kind = "http"
	}
	if r.Kind != "http" && r.Kind != "mcp" {
		return s.errf(r.Pos.Line("kind"), field("kind"), "unknown kind %q (want http or mcp)", r.Kind)
	}
	if r.Method == "" {
		r.Method = http.MethodGet
		if r.Kind == "mcp" || r.Body != "" || r.BodyFile != "" || r.BodySize > 0 || r.Generate != nil {
			r.Method = http.MethodPost
		}
	}
	r.Method = strings.ToUpper(r.Method)
	switch r.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
	default:
		return s.errf(r.Pos.Line("method"), field("method"), "unknown HTTP method %q", r.Method)
	}
	if r.Path != "" && r.URL != "" {
		return s.errf(r.Pos.Line("url"), field("url"), "give path or url, not both")
	}
	if r.Path == "" && r.URL == "" {
		r.Path = "/"
	}
	if r.Path != "" {
		if err := checkPath(r.Path); err != nil {
			return s.errf(r.Pos.Line("path"), field("path"), "%v", err)
		}
	}
	if r.URL != "" {
		if err := checkURL(r.URL); err != nil {
			return s.errf(r.Pos.Line("url"), field("url"), "%v", err)
		}
	}
	if r.Weight < 0 {
		return s.errf(r.Pos.Line("weight"), field("weight"), "must be > 0")
	}
	if r.Weight == 0 {
		r.Weight = 1
	}
	bodies := 0
	for _, set := range []bool{r.Body != "", r.BodyFile != "", r.BodySize != 0, r.Generate != nil} {
		if set {
			bodies++
		}
	}
	if bodies > 1 {
		return s.errf(r.Pos.Line(""), field("body"), "give only one of body, body_file, body_size, generate")
	}
	switch {
	case r.Body != "":
		r.BodyBytes = []byte(r.Body)
	case r.BodyFile != "":
		p := r.BodyFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.dir, p)
		}
		data, err := readRegularFile(p, MaxBodyBytes)
		var refused *refusal
		if errors.As(err, &refused) {
			return s.errf(r.Pos.Line("body_file"), field("body_file"), "%s %s", p, refused.Msg)
		}
		if err != nil {
			return s.errf(r.Pos.Line("body_file"), field("body_file"), "cannot read body file: %v", err)
		}
		r.BodyBytes = data
	case r.BodySize < 0:
		return s.errf(r.Pos.Line("body_size"), field("body_size"), "must be > 0")
	case r.BodySize > 0:
		if r.BodySize > MaxBodyBytes {
			return s.errf(r.Pos.Line("body_size"), field("body_size"), "at most %s (got %d bytes)", mib(MaxBodyBytes), r.BodySize)
		}
		r.BodyBytes = FillerBody(r.BodySize)
	}
	if g := r.Generate; g != nil {
		if g.Corpus == "" {
			g.Corpus = "ioc"
		}
		if !KnownCorpus(g.Corpus) {
			return s.errf(g.Pos.Line("corpus"), field("generate.corpus"), "unknown corpus %q (want ioc)", g.Corpus)
		}
		if g.Min <= 0 {
			g.Min = 1
		}
		if g.Min > MaxGenerated {
			return s.errf(g.Pos.Line("min"), field("generate.min"), "at most %d (the corpus size)", MaxGenerated)
		}
		if g.Max == 0 {
			g.Max = g.Min
		}
		if g.Max < g.Min {
			return s.errf(g.Pos.Line("max"), field("generate.max"), "must be >= min (%d)", g.Min)
		}
		if g.Max > MaxGenerated {
			return s.errf(g.Pos.Line("max"), field("generate.max"), "at most %d (the corpus size)", MaxGenerated)
		}
		if g.Hot < 0 || g.Hot > MaxGenerated {
			return s.errf(g.Pos.Line("hot"), field("generate.hot"), "must be >= 0 and at most %d (the corpus size)", MaxGenerated)
		}
		if len(g.Template) > MaxTemplateBytes {
			return s.errf(g.Pos.Line("template"), field("generate.template"), "%d bytes, at most %d", len(g.Template), MaxTemplateBytes)
		}
		if g.Template == "" && r.Kind == "http" {
			g.Template = `{"iocs": {{iocs}}}`
		}
	}
	if r.Kind == "mcp" {
		if r.Tool == "" {
			return s.errf(r.Pos.Line("tool"), field("tool"), "an mcp request needs tool: (the MCP tool to call)")
		}
		if r.Arguments == "" {
			r.Arguments = "{}"
		}
		if len(r.Tool) > MaxNameBytes {
			return s.errf(r.Pos.Line("tool"), field("tool"), "%d bytes, at most %d", len(r.Tool), MaxNameBytes)
		}
		if len(r.Arguments) > MaxTemplateBytes {
			return s.errf(r.Pos.Line("arguments"), field("arguments"), "%d bytes, at most %d", len(r.Arguments), MaxTemplateBytes)
		}
	} else if r.Tool != "" || r.Arguments != "" {
		return s.errf(r.Pos.Line("tool"), field("tool"), "tool and arguments are for kind: mcp")
	}
	if r.Clients != nil {
		if err := s.validateClients(r.Clients, field("clients")); err != nil {
			return err
		}
	}
	if len(r.Headers) > MaxHeaders {
		return s.errf(r.Pos.Line("headers"), field("headers"), "%d headers, at most %d", len(r.Headers), MaxHeaders)
	}
	for _, k := range sortedKeys(r.Headers) {
		if err := checkHeaderName(k); err != nil {
			return s.errf(r.headerLine(k), field("headers"), "%v", err)
		}
		if err := checkHeaderValue(r.Headers[k]); err != nil {
			return s.errf(r.headerLine(k), field("headers"), "%s: %v", k, err)
		}
	}
	return nil
}

func (s *Scenario) validateOutcomes() error {
	o := &s.Outcomes
	parse := func(field string, in []string, def []statusRange) ([]statusRange, error) {
		if len(in) == 0 {
			return def, nil
		}
		var out []statusRange
		if len(in) > MaxStatusEntries {
			return nil, s.errf(o.Pos.Line(field), "outcomes."+field, "%d entries, at most %d", len(in), MaxStatusEntries)
		}
		for _, v := range in {
			r, err := parseStatusRange(v)
			if err != nil {
				return nil, s.errf(o.Pos.Line(field), "outcomes."+field, "%v", err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	var err error
	if o.success, err = parse("success", o.Success, defaultSuccess); err != nil {
		return err
	}
	o.blocked, err = parse("blocked", o.Blocked, defaultBlocked)
	return err
}

func parseStatusRange(v string) (statusRange, error) {
	v = strings.TrimSpace(v)
	lo, hi, isRange := strings.Cut(v, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(strings.TrimSpace(hi))
	}
	if err1 != nil || err2 != nil || a < 100 || b > 599 || b < a {
		return statusRange{}, fmt.Errorf("%q is not a status or range (write 429 or \"200-399\")", v)
	}
	return statusRange{a, b}, nil
}

func in(rs []statusRange, code int) bool {
	for _, r := range rs {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// Classify maps a response to exactly one outcome: blocked statuses first
// (so a 403 stays "blocked" even inside a success range), then success,
// and everything else — transport errors included — is an error.
func (o *Outcomes) Classify(status int, transportErr bool) results.Outcome {
	if transportErr || status == 0 {
		return results.OutcomeError
	}
	succ, blk := o.success, o.blocked
	if succ == nil {
		succ = defaultSuccess
	}
	if blk == nil {
		blk = defaultBlocked
	}
	if in(blk, status) {
		return results.OutcomeBlocked
	}
	if in(succ, status) {
		return results.OutcomeSuccess
	}
	return results.OutcomeError
}

// checkPath accepts what can follow the target URL as a request target:
// an absolute path with an optional query, percent-escapes well formed,
// no spaces, control bytes or fragment.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("must start with / (got %.80q)", p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '#' {
			return fmt.Errorf("%.80q: byte %d is %q; write spaces and control bytes percent-escaped (%%20), and no #fragment", p, i, c)
		}
	}
	if _, err := url.ParseRequestURI(p); err != nil {
		return fmt.Errorf("%.80q is not a valid URL path: %v", p, errors.Unwrap(err))
	}
	return nil
}

// checkHeaderName accepts an HTTP field name: a token (RFC 9110 §5.1).
func checkHeaderName(k string) error {
	if len(k) > MaxNameBytes {
		return fmt.Errorf("header name of %d bytes, at most %d", len(k), MaxNameBytes)
	}
	if !httpguts.ValidHeaderFieldName(k) {
		return fmt.Errorf("invalid header name %.80q (letters, digits and !#$%%&'*+-.^_`|~ only)", k)
	}
	return nil
}

// checkHeaderValue accepts an HTTP field value: no CR, LF, NUL or other
// control byte but tab (RFC 9110 §5.5), which net/http would refuse to
// send — so every request would fail.
func checkHeaderValue(v string) error {
	if len(v) > MaxHeaderValueBytes {
		return fmt.Errorf("value of %d bytes, at most %d", len(v), MaxHeaderValueBytes)
	}
	if !httpguts.ValidHeaderFieldValue(v) {
		return fmt.Errorf("value %.80q holds a control character (CR, LF, NUL, ...)", v)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// FillerBody returns a deterministic printable body of n bytes.
func FillerBody(n int) []byte {
	const pattern = "slogate-load-body-0123456789abcdefghijklmnopqrstuvwxyz\n"
	b := make([]byte, n)
	for i := range b {
		b[i] = pattern[i%len(pattern)]
	}
	return b
}

// PeakRate is the highest rate any phase asks for.
func (s *Scenario) PeakRate() float64 {
	peak := 0.0
	for i := range s.Phases {
		if r := s.Phases[i].PeakRate(); r > peak {
			peak = r
		}
	}
	return peak
}

// Redacted is a URL as results, reports and names may show it: a password
// in it replaced by "xxxxx" (url.URL.Redacted); anything else unchanged.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}
