// Package fast is slogate's lean open-model load engine (--engine fast):
// MaxWorkers workers each claim the next request index with one atomic
// add, sleep until that request is due, send it once (never retried) and
// record its latency from the due time into a small per-worker buffer,
// flushed into the shared recorder in batches. There is no pacer
// goroutine and no per-request goroutine, channel or context on the
// plain-HTTP path.
//
// Transport: fasthttp for plain http:// targets (HTTP/1.1, no retries, no
// redirects); net/http (HTTP/2 where an https target offers it) for
// https:// targets, for requests that go through an HTTP proxy, for runs
// with MCP requests (sessions opened before the load, tool results
// inspected as the vegeta engine does) and for a transport a test supplies.
package fast

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
)

// pinnedLateness is how late a request must be, when it takes the last
// free worker, to count as held back by the worker cap (as in the vegeta
// engine).
const pinnedLateness = 10 * time.Millisecond

// Messages shared with the vegeta engine's results.
const (
	msgCensored  = "not sent: generator backlog at the drain deadline"
	msgDrainCut  = "no answer before the drain deadline"
	msgCancelled = "cancelled: the run was stopped"
)

// exchange is one request's fate as a sender saw it.
type exchange struct {
	status            int
	bytesIn, bytesOut int64
	err               error
	// failure: why an answer with a success status failed all the same
	// (an MCP tool result with isError, a JSON-RPC error), or "".
	failure string
}

// sender sends request seq (its number in the whole run, plan.Schedule.Global)
// once, bounded by the request timeout, and
// reads (and counts) its whole response body.
type sender interface {
	send(w *worker, seq int64, e int) exchange
	// cut ends every request in flight now (the run stopped).
	cut()
	close()
	// protocols are the HTTP versions the target answered in.
	protocols() []string
}

// run is the state the workers share.
type run struct {
	job   plan.Job
	start time.Time
	total int64
	next  atomic.Int64

	inflight, started, pinned atomic.Int64
	sent, onSchedule          atomic.Int64
	censoredByWorkers         atomic.Int64

	// stopped: nothing more goes on the wire; interrupted: the user
	// stopped the run (requests cut now are cancelled, not errors).
	stopped, interrupted atomic.Bool
	stopCh               chan struct{}
	stopOnce             sync.Once
	tr                   sender
}

// DefaultMaxWorkers is the fast engine's concurrency cap when the scenario
// and --max-workers leave it to the engine. Up to 12k req/s it is the
// shared default (generic, a quarter second of the peak rate, 32..512).
// Above, where the shared default drops to 64 for the vegeta engine's
// sake, this engine takes 5 ms of the peak rate (at least 64, at most
// 1024): 100 workers at 20k req/s, 250 at 50k, so a target answering in
// about 2 ms does not pin it. Wider pools cost more than they give on a
// small machine: against a loopback target answering at once, 256
// workers at 20k req/s were late by 15 ms at p99 where 64 or 128 were
// on time, but a target answering in 5 ms needs about 250 at 20k req/s.
func DefaultMaxWorkers(peakRate float64, generic int) int {
	if peakRate <= 12000 {
		return generic
	}
	return int(min(1024, max(64, math.Ceil(peakRate*0.005))))
}

// Run is the fast engine (a plan.Engine).
func Run(ctx context.Context, job plan.Job) (plan.Stats, error) {
	if job.MaxWorkers <= 0 {
		return plan.Stats{}, errors.New("fast engine: MaxWorkers must be set")
	}
	if job.Script != "" {
		return plan.Stats{}, errors.New("fast engine: a k6 script runs on the k6 engine")
	}
	if len(job.Mix.Endpoints()) == 0 {
		return plan.Stats{}, errors.New("fast engine: the scenario has no request to send")
	}
	var stats plan.Stats
	if job.WorkersDefaulted {
		if n := DefaultMaxWorkers(job.PeakRate, job.MaxWorkers); n != job.MaxWorkers {
			job.MaxWorkers, stats.MaxWorkers = n, n
		}
	}
	r := &run{job: job, total: job.Schedule.Total(), stopCh: make(chan struct{})}
	tr, name, proxy, err := newSender(job)
	if err != nil {
		return plan.Stats{}, err
	}
	r.tr = tr
	defer tr.close()
	stats.Transport, stats.Proxy = name, proxy

	cutoff := job.Schedule.End() + job.Drain
	workers := int(min(int64(job.MaxWorkers), max(r.total, 1)))
	var wg sync.WaitGroup
	stats.Start = time.Now()
	r.start = stats.Start
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.NewTimer(cutoff)
	defer deadline.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline.C:
			r.stop(false)
		case <-ctx.Done():
			stats.Interrupted = true
			r.stop(true)
			ctx = context.Background() // fire once
		}
	}
	stats.Elapsed = time.Since(stats.Start)
	stats.Sent = r.sent.Load()
	stats.OnSchedule = r.onSchedule.Load()
	stats.Protocols = tr.protocols()
	if n := r.started.Load(); n > 0 {
		stats.PinnedFrac = float64(r.pinned.Load()) / float64(n)
	}
	// Requests the schedule asked for that no worker claimed before the
	// drain deadline: each an error with latency (cutoff − due), a lower
	// bound of what a user would have waited. (Claimed but unsent ones
	// were recorded the same way by their worker.)
	if !stats.Interrupted {
		for seq := min(r.next.Load(), r.total); seq < r.total; seq++ {
			job.Recorder.Record(r.censor(seq, cutoff))
		}
		stats.Censored += max(r.total-r.next.Load(), 0)
	}
	stats.Censored += r.censoredByWorkers.Load()
	return stats, nil
}

func (r *run) stop(byUser bool) {
	r.stopOnce.Do(func() {
		if byUser {
			r.interrupted.Store(true)
		}
		r.stopped.Store(true)
		close(r.stopCh)
		r.tr.cut()
	})
}

func (r *run) censor(seq int64, cutoff time.Duration) results.Sample {
	due, phase := r.job.Schedule.Due(seq)
	return results.Sample{
		Phase: phase, Endpoint: r.job.Mix.Endpoint(r.job.Schedule.Global(seq)), Due: due,
		Latency: max(cutoff-due, 0), Error: msgCensored,
		Outcome: results.OutcomeError, Censored: true,
	}
}

// batchSize is how many samples a worker buffers before it takes the
// recorder's lock; flushWait: a worker about to sleep longer than this
// flushes first, so that at low rates samples are not held back.
const (
	batchSize = 32
	flushWait = time.Millisecond
)

// plainSleep: a wait up to this long is a plain sleep, not a select on
// the worker's timer and the stop channel (cheaper per request); the stop
// reaches such a worker when it wakes, at most this late.
const plainSleep = 20 * time.Millisecond

// worker is one sender of requests, one at a time.
type worker struct {
	timer *time.Timer
	state any // the sender's per-worker state
	rec   *results.Recorder
	buf   []results.Sample
}

func (w *worker) record(s results.Sample) {
	w.buf = append(w.buf, s)
	if len(w.buf) == cap(w.buf) {
		w.flush()
	}
}

func (w *worker) flush() {
	if len(w.buf) > 0 {
		w.rec.RecordAll(w.buf)
		w.buf = w.buf[:0]
	}
}

func (r *run) work() {
	w := &worker{timer: time.NewTimer(time.Hour), rec: r.job.Recorder, buf: make([]results.Sample, 0, batchSize)}
	w.timer.Stop()
	defer w.flush()
	cutoff := r.job.Schedule.End() + r.job.Drain
	end := r.job.Schedule.End()
	for {
		if r.stopped.Load() {
			return
		}
		seq := r.next.Add(1) - 1
		if seq >= r.total {
			return
		}
		due, phase := r.job.Schedule.Due(seq)
		now := time.Since(r.start)
		if wait := due - now; wait > 0 {
			if wait > flushWait {
				w.flush()
			}
			if wait <= plainSleep {
				time.Sleep(wait) // no channel, no select: the common case at high rates
			} else {
				w.timer.Reset(wait)
				select {
				case <-w.timer.C:
				case <-r.stopCh:
					w.timer.Stop()
				}
			}
			now = time.Since(r.start)
		}
		// The mix's entry, identity and body are functions of the
		// request's number in the whole run, so the shards of a segmented
		// run send exactly what one process would.
		global := r.job.Schedule.Global(seq)
		e := r.job.Mix.Endpoint(global)
		if r.stopped.Load() {
			// Claimed but never sent: censored at the drain deadline;
			// when the user stopped the run, cancelled if it was due by
			// then, else never asked for.
			if r.interrupted.Load() {
				if due <= now {
					w.record(results.Sample{Phase: phase, Endpoint: e, Due: due, Error: msgCancelled, Cancelled: true})
				}
			} else {
				w.record(r.censor(seq, cutoff))
				r.censoredByWorkers.Add(1)
			}
			return
		}
		sent := now
		lateness := max(sent-due, 0)
		if r.inflight.Add(1) >= int64(r.job.MaxWorkers) && lateness > pinnedLateness {
			r.pinned.Add(1)
		}
		r.started.Add(1)
		x := r.tr.send(w, global, e)
		r.inflight.Add(-1)
		done := time.Since(r.start)
		s := results.Sample{
			Phase: phase, Endpoint: e, Due: due,
			Latency:        max(done-due, 0),
			ServiceLatency: done - sent,
			Lateness:       lateness,
			Status:         x.status,
			BytesIn:        x.bytesIn,
			BytesOut:       x.bytesOut,
		}
		if x.err != nil {
			// Bytes count answered requests (as on the vegeta engine).
			s.Status, s.BytesIn, s.BytesOut = 0, 0, 0
			s.Error = x.err.Error()
			switch {
			case r.interrupted.Load():
				s.Cancelled = true
			case strings.HasPrefix(s.Error, plan.GeneratorFaultMark):
				s.GeneratorFault = true
			case r.stopped.Load():
				s.Error = msgDrainCut
			}
		}
		if !s.Cancelled && !s.GeneratorFault {
			r.sent.Add(1)
			if sent <= end {
				r.onSchedule.Add(1)
			}
			s.Outcome = r.job.Scenario.Outcomes.Classify(s.Status, x.err != nil)
			if x.err == nil && s.Outcome == results.OutcomeError {
				s.Error = "unexpected status " + strconv.Itoa(s.Status)
			}
			if s.Outcome == results.OutcomeSuccess && x.failure != "" {
				s.Outcome, s.Error = results.OutcomeError, x.failure
			}
		}
		w.record(s)
	}
}
