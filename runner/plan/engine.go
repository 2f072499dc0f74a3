package plan

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/scenarios"
)

// Engine is the one contract between package runner and a load engine
// (runner/vegeta in-process, runner/k6 re-executed): run job until its
// schedule completes, its drain deadline passes or ctx is cancelled (then
// Stats.Interrupted is set and the result is partial), folding every
// response into job.Recorder — or, for an engine that builds the whole
// result itself, returning it in Stats.Result.
//
// Which engines a build offers is the value runner.Options.Engines, built
// by the program (cmd/slogate), not a registry filled at init.
type Engine func(ctx context.Context, job Job) (Stats, error)

// Job is what an engine gets to run: the schedule, the mix, and the
// recorder to fold every response into.
type Job struct {
	Scenario   *scenarios.Scenario
	Schedule   *Schedule
	Mix        *Mix
	Recorder   *results.Recorder
	BaseURL    string
	MaxWorkers int
	// WorkersDefaulted: MaxWorkers is runner's default from the peak rate
	// (neither the scenario nor --max-workers set it); an engine with a
	// default of its own may replace it and say so in Stats.MaxWorkers.
	WorkersDefaulted bool
	// PeakRate is the schedule's highest rate (req/s) in this segment.
	PeakRate float64
	Timeout  time.Duration // per request
	Drain    time.Duration // how long past the schedule's end the backlog may be sent
	// Sessions adds per-client session headers (MCP), or is nil.
	Sessions SessionProvider
	// Script is a user's own k6 script (k6 engine only).
	Script string
	// Transport, when set, replaces the engine's HTTP transport (tests).
	Transport http.RoundTripper
	// TLS configures HTTPS targets (--insecure, --ca); nil: system roots.
	TLS *tls.Config
	// Proxy picks the HTTP proxy of a request (--proxy, or HTTP_PROXY,
	// HTTPS_PROXY and NO_PROXY as http.ProxyFromEnvironment reads them);
	// nil: no proxy.
	Proxy func(*http.Request) (*url.URL, error)
}

// Proxies returns the proxy each request of the mix goes through, by
// endpoint (nil where none): a proxy is chosen by the request's URL, so
// this is known before the load and not asked again per request.
func (j Job) Proxies() ([]*url.URL, error) {
	out := make([]*url.URL, len(j.Mix.Endpoints()))
	if j.Proxy == nil {
		return out, nil
	}
	for e := range out {
		u, err := url.Parse(j.Mix.URL(e))
		if err != nil {
			return nil, fmt.Errorf("request url %q: %w", j.Mix.URL(e), err)
		}
		out[e], err = j.Proxy(&http.Request{Method: j.Mix.Method(e), URL: u, Header: http.Header{}})
		if err != nil {
			return nil, fmt.Errorf("the proxy for %s: %w", u.Redacted(), err)
		}
	}
	return out, nil
}

// ProxyNames is the proxies' addresses for a result (credentials
// redacted), each once, in endpoint order; "" when none is used.
func ProxyNames(proxies []*url.URL) string {
	var names []string
	for _, p := range proxies {
		if p != nil && !slices.Contains(names, p.Redacted()) {
			names = append(names, p.Redacted())
		}
	}
	return strings.Join(names, ", ")
}

// HasKind reports whether the job's mix has a request of this kind ("mcp").
func (j Job) HasKind(kind string) bool {
	for i := range j.Scenario.Requests {
		if j.Scenario.Requests[i].Kind == kind {
			return true
		}
	}
	return false
}

// SessionProvider adds per-request session headers (e.g. Mcp-Session-Id).
type SessionProvider interface {
	Decorate(req *http.Request, seq int64, endpoint int)
}

// Stats is what an engine saw of itself.
type Stats struct {
	Start       time.Time
	Elapsed     time.Duration
	Sent        int64 // requests handed to the transport
	OnSchedule  int64 // sent no later than the schedule's end
	Censored    int64 // never sent before the drain deadline
	PinnedFrac  float64
	Interrupted bool
	// DroppedIterations is k6's dropped_iterations.
	DroppedIterations int64
	// Transport names the HTTP client the engine used ("fasthttp",
	// "net/http"), or is empty.
	Transport string
	// Protocols are the HTTP versions the target answered in ("HTTP/1.1",
	// "HTTP/2.0"), or empty when the engine does not say.
	Protocols []string
	// Proxy names the HTTP proxies the requests went through (ProxyNames).
	Proxy string
	// MaxWorkers is the concurrency cap the engine used when it replaced
	// a defaulted Job.MaxWorkers with its own; 0: Job.MaxWorkers.
	MaxWorkers int
	// Result, when an engine builds the whole result itself (k6 writes it
	// from its output extension in a child process), replaces the recorder's.
	Result *results.Result
}

// Protocols records which HTTP versions a run's responses came in, for
// the result: one atomic load per response once a version was seen.
type Protocols struct{ seen [3]atomic.Bool }

// protocolNames are Protocols' versions, in its order.
var protocolNames = [3]string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"}

// Saw records a response of HTTP version major.minor.
func (p *Protocols) Saw(major, minor int) {
	i := 1
	switch {
	case major >= 2:
		i = 2
	case major == 1 && minor == 0:
		i = 0
	}
	if !p.seen[i].Load() {
		p.seen[i].Store(true)
	}
}

// List is the versions seen, oldest first.
func (p *Protocols) List() []string {
	var out []string
	for i := range p.seen {
		if p.seen[i].Load() {
			out = append(out, protocolNames[i])
		}
	}
	return out
}
