package plan

import (
	"context"
	"crypto/tls"
	"net/http"
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
	// MaxWorkers is the concurrency cap the engine used when it replaced
	// a defaulted Job.MaxWorkers with its own; 0: Job.MaxWorkers.
	MaxWorkers int
	// Result, when an engine builds the whole result itself (k6 writes it
	// from its output extension in a child process), replaces the recorder's.
	Result *results.Result
}
