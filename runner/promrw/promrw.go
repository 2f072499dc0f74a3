// Package promrw pushes a run's own figures, one point per second, to a
// Prometheus remote-write endpoint (--out prometheus-rw=URL), so that one
// dashboard shows the client side next to the server's own metrics.
//
// Series (labels scenario, engine, run = the run's start time):
//
//	slogate_requests_total{outcome="success|blocked|error"}   counter
//	slogate_target_rate_rps                                    gauge, the asked rate
//	slogate_latency_seconds{quantile="0.5|0.9|0.95|0.99|1"}    gauge, that second's answers,
//	                                                           from the intended send
//
// Each point is one of the result's per-second intervals, pushed when the
// recorder closes it (a few seconds behind the load: an interval stays open
// while late answers can still land in it).
//
// What it must not do: slow or break the run. Push never blocks (a full queue
// drops the oldest point and counts it); sends have a timeout; failures are
// counted with the last error and reported at the end.
package promrw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/slogate/slogate/results"
)

// QueueSize bounds the points waiting to be sent.
const QueueSize = 3600

// Stats say how pushing went.
type Stats struct {
	Sent, Dropped, Failed int64
	LastError             string
}

// Writer pushes intervals in the background.
type Writer struct {
	url    string
	client *http.Client
	start  time.Time
	labels []prompb.Label

	mu      sync.Mutex
	queue   []results.Interval
	wake    chan struct{}
	done    chan struct{}
	stop    chan struct{}
	stats   Stats
	lastTS  int   // the latest second sent (-1: none)
	success int64 // cumulative, in the order sent
	blocked int64
	errors  int64
}

// Start validates rawURL and starts the background sender. start is the
// run's start (interval i is at start + i s).
func Start(rawURL string, start time.Time, scenario, engine string) (*Writer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--out prometheus-rw=%s: want http(s)://host:port/api/v1/write", rawURL)
	}
	w := &Writer{
		url: rawURL, client: &http.Client{Timeout: 5 * time.Second}, start: start,
		labels: []prompb.Label{
			{Name: "engine", Value: engine},
			{Name: "run", Value: start.UTC().Format(time.RFC3339)},
			{Name: "scenario", Value: scenario},
		},
		wake: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{}), lastTS: -1,
	}
	go w.loop()
	return w, nil
}

// Push queues one closed interval; it never blocks. Seconds should come in
// ascending order (the recorder closes them so); an older second than one
// already sent is dropped.
func (w *Writer) Push(iv results.Interval) {
	w.mu.Lock()
	if len(w.queue) >= QueueSize {
		w.queue = w.queue[1:]
		w.stats.Dropped++
	}
	w.queue = append(w.queue, iv)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close sends what is queued (bounded by the send timeout) and stops.
func (w *Writer) Close() Stats {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Writer) loop() {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
			w.flush()
		case <-w.stop:
			w.flush()
			return
		}
	}
}

func (w *Writer) flush() {
	w.mu.Lock()
	batch := w.queue
	w.queue = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	sort.Slice(batch, func(i, j int) bool { return batch[i].TS < batch[j].TS })
	// A second older than one already sent would make the receiver refuse
	// the whole request ("out of order sample"): it is dropped and counted.
	fresh := batch[:0]
	for _, iv := range batch {
		if iv.TS > w.lastTS {
			fresh = append(fresh, iv)
			w.lastTS = iv.TS
		}
	}
	if stale := len(batch) - len(fresh); stale > 0 {
		w.mu.Lock()
		w.stats.Dropped += int64(stale)
		w.mu.Unlock()
	}
	batch = fresh
	if len(batch) == 0 {
		return
	}
	req := w.request(batch)
	err := w.send(req)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.stats.Failed += int64(len(batch))
		w.stats.LastError = err.Error()
		return
	}
	w.stats.Sent += int64(len(batch))
}

func (w *Writer) series(name string, extra ...prompb.Label) prompb.TimeSeries {
	ls := append([]prompb.Label{{Name: "__name__", Value: name}}, w.labels...)
	ls = append(ls, extra...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return prompb.TimeSeries{Labels: ls}
}

// request builds one WriteRequest of the batch (ordered by time).
func (w *Writer) request(batch []results.Interval) *prompb.WriteRequest {
	outcomes := []prompb.TimeSeries{
		w.series("slogate_requests_total", prompb.Label{Name: "outcome", Value: "success"}),
		w.series("slogate_requests_total", prompb.Label{Name: "outcome", Value: "blocked"}),
		w.series("slogate_requests_total", prompb.Label{Name: "outcome", Value: "error"}),
	}
	target := w.series("slogate_target_rate_rps")
	quantiles := []struct {
		q  string
		of func(results.Latency) float64
	}{
		{"0.5", func(l results.Latency) float64 { return l.P50 }},
		{"0.9", func(l results.Latency) float64 { return l.P90 }},
		{"0.95", func(l results.Latency) float64 { return l.P95 }},
		{"0.99", func(l results.Latency) float64 { return l.P99 }},
		{"1", func(l results.Latency) float64 { return l.Max }},
	}
	lat := make([]prompb.TimeSeries, len(quantiles))
	for i, q := range quantiles {
		lat[i] = w.series("slogate_latency_seconds", prompb.Label{Name: "quantile", Value: q.q})
	}
	for _, iv := range batch {
		// the point sits at the end of its second
		ts := w.start.Add(time.Duration(iv.TS+1) * time.Second).UnixMilli()
		w.success += iv.Success
		w.blocked += iv.Blocked
		w.errors += iv.Errors
		for i, n := range []int64{w.success, w.blocked, w.errors} {
			outcomes[i].Samples = append(outcomes[i].Samples, prompb.Sample{Value: float64(n), Timestamp: ts})
		}
		target.Samples = append(target.Samples, prompb.Sample{Value: iv.TargetRPS, Timestamp: ts})
		if iv.Requests > 0 {
			for i, q := range quantiles {
				lat[i].Samples = append(lat[i].Samples, prompb.Sample{Value: q.of(iv.LatencyMs) / 1000, Timestamp: ts})
			}
		}
	}
	req := &prompb.WriteRequest{Timeseries: append(append(outcomes, target), lat...)}
	kept := req.Timeseries[:0]
	for _, ts := range req.Timeseries {
		if len(ts.Samples) > 0 {
			kept = append(kept, ts)
		}
	}
	req.Timeseries = kept
	return req
}

// send POSTs one request with the remote-write 0.1.0 protocol.
func (w *Writer) send(req *prompb.WriteRequest) error {
	raw, err := req.Marshal()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := w.client.Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status + ": " + string(bytes.TrimSpace(msg)))
	}
	return nil
}
