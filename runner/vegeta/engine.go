// Package vegeta is slogate's in-process load engine built on the vegeta
// library: all phases run as one attack through a pacer with a hard request
// count, latency is measured from each request's intended send time, and
// every response is recorded into the shared HDR recorder.
//
// How it is configured (shared/reference/generator.md): MaxWorkers is always
// set; a new Attacker per attack; no per-request http.Client.Timeout (a
// goroutine and timer each) but a run-wide context plus one
// context.WithTimeout per request inside our RoundTripper; the due time of
// result k is computed from Result.Seq against a start taken just before
// Attack().
package vegeta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/netprobe"
	"github.com/slogate/slogate/runner/plan"
)

// Version is the vegeta library version linked in.
const Version = "v12.13.0"

// Run is the vegeta engine (a plan.Engine): it executes the attack until
// the schedule completes, the drain deadline passes, or ctx is cancelled
// (then the result is partial).
func Run(ctx context.Context, cfg plan.Job) (plan.Stats, error) {
	if cfg.MaxWorkers <= 0 {
		return plan.Stats{}, errors.New("vegeta engine: MaxWorkers must be set")
	}
	if cfg.Script != "" {
		return plan.Stats{}, errors.New("vegeta engine: a k6 script runs on the k6 engine")
	}
	if len(cfg.Mix.Endpoints()) == 0 {
		return plan.Stats{}, errors.New("vegeta engine: the scenario has no request to send")
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()

	rt := &seqTransport{
		base:       cfg.Transport,
		ctx:        runCtx,
		mix:        cfg.Mix,
		schedule:   cfg.Schedule,
		timeout:    cfg.Timeout,
		maxWorkers: int64(cfg.MaxWorkers),
		sessions:   cfg.Sessions,
		keepBodies: cfg.HasKind("mcp"),
	}
	proxies, err := cfg.Proxies()
	if err != nil {
		return plan.Stats{}, fmt.Errorf("vegeta engine: %w", err)
	}
	if rt.base == nil {
		tr := NewTransport(cfg.MaxWorkers)
		tr.TLSClientConfig = cfg.TLS
		tr.Proxy = cfg.Proxy
		// Idle keep-alive connections hold file descriptors: release them
		// when the run ends, before the result file is written.
		defer tr.CloseIdleConnections()
		rt.base = tr
	}
	client := &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	initial := uint64(min(cfg.MaxWorkers, 10))
	// The transport reads (and counts) every body itself, bounded by the
	// request timeout; vegeta sees only what the mix must inspect (MCP).
	attacker := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(initial),
		vegeta.MaxWorkers(uint64(cfg.MaxWorkers)),
		vegeta.MaxBody(-1),
	)
	total := cfg.Schedule.Total()
	placeholder := vegeta.Target{Method: http.MethodGet, URL: cfg.Mix.URL(0)}
	targeter := func(t *vegeta.Target) error { *t = placeholder; return nil }

	stats := plan.Stats{Transport: "net/http", Proxy: plan.ProxyNames(proxies)}
	dues := newDueBook(cfg.Schedule, max(dueBookSize, 4*cfg.MaxWorkers))
	pacer := newDuePacer(dues, cfg.Schedule, uint64(total))
	stats.Start = time.Now()
	rt.start = stats.Start
	rt.dues = dues
	resultsCh := attacker.Attack(targeter, pacer, 0, "slogate")

	cutoff := cfg.Schedule.End() + cfg.Drain
	deadline := time.NewTimer(cutoff)
	defer deadline.Stop()
	var stopOnce sync.Once
	// stop ends the load: the pacer sends nothing more (its wait is
	// interruptible), the transport refuses requests not yet on the wire,
	// and in-flight requests end now. byUser marks them cancelled (not the
	// target's errors); at the drain deadline they are the target's errors.
	stop := func(byUser bool) {
		stopOnce.Do(func() {
			if byUser {
				rt.interrupted.Store(true)
			}
			rt.stopped.Store(true)
			pacer.stop()
			attacker.Stop()
			cancelRun()
		})
	}
	scheduleEnd := cfg.Schedule.End()
	received := int64(0)
	maxSeq := int64(-1)
	for {
		select {
		case res, ok := <-resultsCh:
			if !ok {
				goto done
			}
			received++
			seq := int64(res.Seq)
			if seq > maxSeq {
				maxSeq = seq
			}
			s := sample(cfg, dues, stats.Start, res)
			if s.Cancelled || s.GeneratorFault {
				received-- // never reached the target
			} else if s.Due+s.Lateness <= scheduleEnd {
				stats.OnSchedule++
			}
			cfg.Recorder.Record(s)
		case <-deadline.C:
			stop(false)
		case <-ctx.Done():
			stats.Interrupted = true
			stop(true)
			ctx = context.Background() // fire once
		}
	}
done:
	stats.Elapsed = time.Since(stats.Start)
	stats.Sent = received
	stats.Protocols = rt.protocols.List()
	if n := rt.started.Load(); n > 0 {
		stats.PinnedFrac = float64(rt.pinned.Load()) / float64(n)
	}
	// Requests the schedule asked for but the generator never sent before
	// the drain deadline: record each as an error with latency (cutoff − due),
	// a lower bound of what a user would have waited.
	if !stats.Interrupted {
		for seq := maxSeq + 1; seq < total; seq++ {
			due, phase := cfg.Schedule.Due(seq)
			cfg.Recorder.Record(results.Sample{
				Phase: phase, Endpoint: cfg.Mix.Endpoint(cfg.Schedule.Global(seq)), Due: due,
				Latency: max(cutoff-due, 0), Error: "not sent: generator backlog at the drain deadline",
				Outcome: results.OutcomeError, Censored: true,
			})
			stats.Censored++
		}
	}
	return stats, nil
}

func sample(cfg plan.Job, dues *dueBook, start time.Time, res *vegeta.Result) results.Sample {
	seq := int64(res.Seq)
	due, phase := dues.due(seq), cfg.Schedule.PhaseOf(seq)
	sent := res.Timestamp.Sub(start)
	done := sent + res.Latency
	s := results.Sample{
		Phase:          phase,
		Endpoint:       cfg.Mix.Endpoint(cfg.Schedule.Global(seq)),
		Due:            due,
		Latency:        max(done-due, 0),
		ServiceLatency: res.Latency,
		Lateness:       max(sent-due, 0),
		Status:         int(res.Code),
		BytesIn:        int64(res.BytesIn),
		BytesOut:       int64(res.BytesOut),
	}
	transportErr := res.Code == 0
	if transportErr {
		s.Error = res.Error
		if s.Error == "" {
			s.Error = "no response"
		}
		switch {
		case strings.Contains(s.Error, errCancelled.Error()):
			s.Cancelled = true
			return s
		case strings.Contains(s.Error, plan.GeneratorFaultMark):
			s.GeneratorFault = true
			return s
		}
	}
	if n, ok := res.Headers[bytesInHeader]; ok && len(n) == 1 {
		s.BytesIn, _ = strconv.ParseInt(n[0], 10, 64)
	}
	if n, ok := res.Headers[bytesOutHeader]; ok && len(n) == 1 {
		s.BytesOut, _ = strconv.ParseInt(n[0], 10, 64)
	}
	s.Outcome = cfg.Scenario.Outcomes.Classify(int(res.Code), transportErr)
	if !transportErr && s.Outcome == results.OutcomeError {
		s.Error = "unexpected status " + strconv.Itoa(int(res.Code))
	}
	if s.Outcome == results.OutcomeSuccess && cfg.Mix.Kind(s.Endpoint) == "mcp" {
		if msg := plan.MCPFailure(res.Body); msg != "" {
			s.Outcome, s.Error = results.OutcomeError, msg
		}
	}
	return s
}

// dueBookSize is how many recent hits keep their due time (dueBook) at
// least: 64 KiB, the hits of 0.2 s at 20k req/s.
const dueBookSize = 4096

// duePacer sends hit i at Schedule.Due(i) and stops after exactly Total
// hits, or as soon as stop is called. It waits for the due time itself, on
// a timer it can abandon, and returns no wait to vegeta: vegeta's own
// time.Sleep cannot be interrupted, so a stop during a slow phase
// (0.1 req/s) would otherwise wait out the sleep and then send one more.
// Pace is only called from vegeta's single pacing goroutine.
type duePacer struct {
	dues     *dueBook
	schedule *plan.Schedule
	total    uint64
	timer    *time.Timer
	done     chan struct{}
	once     sync.Once
}

func newDuePacer(dues *dueBook, schedule *plan.Schedule, total uint64) *duePacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &duePacer{dues: dues, schedule: schedule, total: total, timer: t, done: make(chan struct{})}
}

func (p *duePacer) stop() { p.once.Do(func() { close(p.done) }) }

func (p *duePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.total {
		return 0, true
	}
	due := p.dues.next(int64(hits))
	if wait := due - elapsed; wait > 0 {
		p.timer.Reset(wait)
		select {
		case <-p.timer.C:
		case <-p.done:
			p.timer.Stop()
			return 0, true
		}
		return 0, false
	}
	select {
	case <-p.done:
		return 0, true
	default:
		return 0, false
	}
}

func (p *duePacer) Rate(elapsed time.Duration) float64 { return p.schedule.RateAt(elapsed) }

// pinnedLateness is how late a request must be, when it takes the last
// free worker, to count as held back by the worker cap.
const pinnedLateness = 10 * time.Millisecond

// seqTransport builds the real request for each hit from its sequence
// number (vegeta's X-Vegeta-Seq header), applies the per-request timeout
// under the run-wide context, and counts how often all workers are busy.
type seqTransport struct {
	base       http.RoundTripper
	ctx        context.Context
	mix        *plan.Mix
	schedule   *plan.Schedule // maps this process's seq to the run's (segments)
	timeout    time.Duration
	maxWorkers int64
	sessions   plan.SessionProvider
	start      time.Time
	dues       *dueBook
	// keepBodies: the mix inspects some responses (MCP results), so their
	// bodies are handed to vegeta, up to plan.MaxKeptBody bytes.
	keepBodies bool
	protocols  plan.Protocols

	inflight, started, pinned atomic.Int64
	// stopped: the load is over, nothing more goes on the wire;
	// interrupted: the user stopped it (requests cut now are cancelled).
	stopped, interrupted atomic.Bool
}

// bytesInHeader carries the body size the transport counted to the
// result (vegeta only counts what it reads itself).
const bytesInHeader = "X-Slogate-Bytes-In"

// bytesOutHeader carries the request body's size likewise (vegeta counts
// only the body of its own targets; the mix builds the request here).
const bytesOutHeader = "X-Slogate-Bytes-Out"

// errCancelled is a request cut by the user's stop: not the target's error.
var errCancelled = errors.New("cancelled: the run was stopped")

// classify turns a failed exchange into the error the result records.
func (t *seqTransport) classify(err error) error {
	switch {
	case t.interrupted.Load() && t.ctx.Err() != nil:
		return errCancelled
	case plan.GeneratorFault(err):
		return plan.ResourceFault(err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timeout after %s", t.timeout)
	case t.ctx.Err() != nil:
		return errors.New("no answer before the drain deadline")
	}
	return err
}

func (t *seqTransport) RoundTrip(in *http.Request) (*http.Response, error) {
	seq, err := strconv.ParseInt(in.Header.Get("X-Vegeta-Seq"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("slogate: request without sequence number: %w", err)
	}
	// Pinned: this request took the last free worker and was already
	// late, so the cap is what holds the schedule back. Touching the cap
	// in a micro-burst while on time is not saturation.
	if t.inflight.Add(1) >= t.maxWorkers && t.dues != nil {
		if time.Since(t.start)-t.dues.due(seq) > pinnedLateness {
			t.pinned.Add(1)
		}
	}
	defer t.inflight.Add(-1)
	if t.stopped.Load() {
		if t.interrupted.Load() {
			return nil, errCancelled
		}
		return nil, errors.New("not sent: generator backlog at the drain deadline")
	}
	t.started.Add(1)
	// One deadline bounds the whole exchange: connect, headers and body.
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	// The mix's entry, identity and body are functions of the request's
	// number in the whole run, so the shards of a segmented run send
	// exactly what one process would.
	req, e, resp, err := plan.RoundTrip(ctx, t.base, t.mix, t.sessions, t.schedule.Global(seq))
	if req == nil {
		return nil, err
	}
	if err != nil {
		return nil, t.classify(err)
	}
	t.protocols.Saw(resp.ProtoMajor, resp.ProtoMinor)
	// Read the body here, under the request's deadline: discarded unless
	// the mix inspects it, counted either way. An endless or stalled body
	// ends at the timeout as an error; memory stays bounded.
	kept, n, err := plan.ReadBody(resp.Body, t.keepBodies && t.mix.Kind(e) == "mcp")
	resp.Body.Close()
	if err != nil {
		return nil, t.classify(fmt.Errorf("reading the response body: %w", err))
	}
	resp.Header[bytesInHeader] = []string{strconv.FormatInt(n, 10)}
	if req.ContentLength > 0 {
		resp.Header[bytesOutHeader] = []string{strconv.FormatInt(req.ContentLength, 10)}
	}
	if kept != nil {
		resp.Body = io.NopCloser(bytes.NewReader(kept))
	} else {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// NewTransport is the tuned HTTP/1.1 transport of generator.md: enough idle
// connections for every worker, no compression, no HTTP/2 upgrade, and no
// proxy (Run sets the job's).
func NewTransport(maxWorkers int) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		// Reused connections are peeked at before a request goes on them
		// (netprobe.CheckReused in plan.RoundTrip).
		DialContext:           netprobe.Dial((&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext),
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   max(maxWorkers, 64) * 2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		TLSNextProto:          nil,
		ReadBufferSize:        64 << 10,
		WriteBufferSize:       64 << 10,
		ResponseHeaderTimeout: 0,
	}
}
