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
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
)

// Version is the vegeta library version linked in.
const Version = "v12.13.0"

// Run executes the attack until the schedule completes, the drain deadline
// passes, or ctx is cancelled (then the result is partial).
func Run(ctx context.Context, cfg plan.Job) (plan.Stats, error) {
	if cfg.MaxWorkers <= 0 {
		return plan.Stats{}, errors.New("vegeta engine: MaxWorkers must be set")
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()

	rt := &seqTransport{
		base:       cfg.Transport,
		ctx:        runCtx,
		mix:        cfg.Mix,
		timeout:    cfg.Timeout,
		maxWorkers: int64(cfg.MaxWorkers),
		sessions:   cfg.Sessions,
	}
	if rt.base == nil {
		rt.base = NewTransport(cfg.MaxWorkers)
	}
	client := &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	initial := uint64(min(cfg.MaxWorkers, 10))
	attacker := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(initial),
		vegeta.MaxWorkers(uint64(cfg.MaxWorkers)),
		vegeta.MaxBody(-1),
	)
	total := cfg.Schedule.Total()
	placeholder := vegeta.Target{Method: http.MethodGet, URL: cfg.Mix.URL(0)}
	targeter := func(t *vegeta.Target) error { *t = placeholder; return nil }

	var stats plan.Stats
	pacer := &duePacer{schedule: cfg.Schedule, total: uint64(total)}
	stats.Start = time.Now()
	rt.start = stats.Start
	rt.schedule = cfg.Schedule
	resultsCh := attacker.Attack(targeter, pacer, 0, "slogate")

	cutoff := cfg.Schedule.End() + cfg.Drain
	deadline := time.NewTimer(cutoff)
	defer deadline.Stop()
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			attacker.Stop()
			cancelRun() // in-flight requests end now, as errors
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
			s := sample(cfg, stats.Start, res)
			if s.Due+s.Lateness <= scheduleEnd {
				stats.OnSchedule++
			}
			cfg.Recorder.Record(s)
		case <-deadline.C:
			stop()
		case <-ctx.Done():
			stats.Interrupted = true
			stop()
			ctx = context.Background() // fire once
		}
	}
done:
	stats.Elapsed = time.Since(stats.Start)
	stats.Sent = received
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
				Phase: phase, Endpoint: cfg.Mix.Endpoint(seq), Due: due,
				Latency: max(cutoff-due, 0), Error: "not sent: generator backlog at the drain deadline",
				Outcome: results.OutcomeError, Censored: true,
			})
			stats.Censored++
		}
	}
	return stats, nil
}

func sample(cfg plan.Job, start time.Time, res *vegeta.Result) results.Sample {
	seq := int64(res.Seq)
	due, phase := cfg.Schedule.Due(seq)
	sent := res.Timestamp.Sub(start)
	done := sent + res.Latency
	s := results.Sample{
		Phase:          phase,
		Endpoint:       cfg.Mix.Endpoint(seq),
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

// duePacer sends hit i at Schedule.Due(i) and stops after exactly Total hits.
type duePacer struct {
	schedule *plan.Schedule
	total    uint64
}

func (p *duePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.total {
		return 0, true
	}
	due, _ := p.schedule.Due(int64(hits))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
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
	timeout    time.Duration
	maxWorkers int64
	sessions   plan.SessionProvider
	start      time.Time
	schedule   *plan.Schedule

	inflight, started, pinned atomic.Int64
}

func (t *seqTransport) RoundTrip(in *http.Request) (*http.Response, error) {
	seq, err := strconv.ParseInt(in.Header.Get("X-Vegeta-Seq"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("slogate: request without sequence number: %w", err)
	}
	// Pinned: this request took the last free worker and was already
	// late, so the cap is what holds the schedule back. Touching the cap
	// in a micro-burst while on time is not saturation.
	if t.inflight.Add(1) >= t.maxWorkers && t.schedule != nil {
		if due, _ := t.schedule.Due(seq); time.Since(t.start)-due > pinnedLateness {
			t.pinned.Add(1)
		}
	}
	t.started.Add(1)
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	req, e, err := t.mix.Request(ctx, seq)
	if err != nil {
		cancel()
		t.inflight.Add(-1)
		return nil, err
	}
	if t.sessions != nil {
		t.sessions.Decorate(req, seq, e)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		cancel()
		t.inflight.Add(-1)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("timeout after %s", t.timeout)
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, done: func() { t.inflight.Add(-1) }}
	return resp, nil
}

type cancelBody struct {
	ReadCloser interface {
		Read([]byte) (int, error)
		Close() error
	}
	cancel context.CancelFunc
	done   func()
	once   sync.Once
}

func (b *cancelBody) Read(p []byte) (int, error) { return b.ReadCloser.Read(p) }
func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.cancel(); b.done() })
	return err
}

// NewTransport is the tuned HTTP/1.1 transport of generator.md: enough idle
// connections for every worker, no compression, no proxy, no HTTP/2 upgrade.
func NewTransport(maxWorkers int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
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
