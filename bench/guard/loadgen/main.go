// Command loadgen drives one HTTP target with the vegeta library for bench/guard/run.sh
// and prints one JSON line per run. It is a benchmark tool, not part of slogate's
// engine: the settings follow shared/reference/generator.md (MaxWorkers bounded,
// one run-wide deadline instead of a per-request Client.Timeout, latency measured
// from the pacer's intended send time).
//
//	loadgen -url http://127.0.0.1:18080/api/test -rate 5000 -duration 10s -clients 1000
//	loadgen -url ... -rate 0 -workers 32 -duration 10s     # closed loop: as fast as it answers
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runResult is the JSON line printed for a run.
type runResult struct {
	Target     string         `json:"target"`
	Rate       int            `json:"rate"` // 0 = closed loop
	Workers    uint64         `json:"workers"`
	DurationS  float64        `json:"duration_s"`
	Requests   int64          `json:"requests"`
	Throughput float64        `json:"throughput_rps"` // answered with 200 per second
	Achieved   float64        `json:"achieved_rps"`   // sent per second
	OKRatio    float64        `json:"ok_ratio"`       // 200s / requests
	Codes      map[string]int `json:"codes"`
	Errors     int64          `json:"errors"`
	LatencyMS  latency        `json:"latency_ms"`         // from the intended send time (paced runs)
	ServiceMS  latency        `json:"service_latency_ms"` // from the actual send
	LateP99MS  float64        `json:"lateness_p99_ms"`    // actual send − intended send
	Held       bool           `json:"held"`               // paced: ≥ 97 % sent, ≥ 99.9 % OK, lateness p99 < 10 ms
	FirstError string         `json:"first_error,omitempty"`
}

type latency struct {
	P50, P90, P99, Max float64
}

func quantiles(h *hdrhistogram.Histogram) latency {
	ms := func(v int64) float64 { return float64(v) / 1000 }
	return latency{ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(90)), ms(h.ValueAtQuantile(99)), ms(h.Max())}
}

// runDeadline gives every request the run's deadline without a per-request timer.
type runDeadline struct {
	rt  http.RoundTripper
	ctx context.Context
}

func (d runDeadline) RoundTrip(r *http.Request) (*http.Response, error) {
	return d.rt.RoundTrip(r.WithContext(d.ctx))
}

func main() {
	target := flag.String("url", "http://127.0.0.1:18080/api/test", "target URL")
	rate := flag.Int("rate", 5000, "requests per second; 0 = closed loop with -workers")
	duration := flag.Duration("duration", 10*time.Second, "attack duration")
	workers := flag.Uint64("workers", 32, "vegeta MaxWorkers (and Workers for closed loop)")
	clients := flag.Int("clients", 1000, "distinct X-Forwarded-For identities, round robin (0 = none)")
	flag.Parse()
	if *duration <= 0 || *duration > 5*time.Minute {
		fmt.Fprintln(os.Stderr, "loadgen: -duration must be in (0, 5m]")
		os.Exit(2)
	}

	headers := make([]http.Header, max(1, *clients))
	for i := range headers {
		if *clients > 0 {
			ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()
			headers[i] = http.Header{"X-Forwarded-For": []string{ip}}
		}
	}
	var next atomic.Uint64 // vegeta calls the targeter from every worker
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodGet, *target, headers[next.Add(1)%uint64(len(headers))]
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration+15*time.Second)
	defer cancel()
	transport := &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 1024,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	opts := []func(*vegeta.Attacker){
		vegeta.MaxWorkers(*workers),
		vegeta.Client(&http.Client{Transport: runDeadline{transport, ctx}}),
		vegeta.MaxBody(4096),
	}
	var pacer vegeta.Pacer = vegeta.ConstantPacer{Freq: *rate, Per: time.Second}
	if *rate == 0 {
		opts = append(opts, vegeta.Workers(*workers))
	} else {
		opts = append(opts, vegeta.Workers(min(*workers, 8)))
	}
	atk := vegeta.NewAttacker(opts...)

	lat := hdrhistogram.New(1, 60_000_000, 3) // µs
	svc := hdrhistogram.New(1, 60_000_000, 3)
	late := hdrhistogram.New(1, 60_000_000, 3)
	res := runResult{Target: *target, Rate: *rate, Workers: *workers, Codes: map[string]int{}}
	var period int64
	if *rate > 0 {
		period = int64(time.Second) / int64(*rate)
	}
	start := time.Now()
	var lastDone time.Time
	for r := range atk.Attack(vegeta.Targeter(targeter), pacer, *duration, "bench") {
		res.Requests++
		done := r.Timestamp.Add(r.Latency)
		if done.After(lastDone) {
			lastDone = done
		}
		_ = svc.RecordValue(max(1, r.Latency.Microseconds()))
		if *rate > 0 {
			due := start.Add(time.Duration(int64(r.Seq+1) * period)) // ConstantPacer: hit k at (k+1)·⌊1e9/rate⌋
			_ = lat.RecordValue(max(1, done.Sub(due).Microseconds()))
			_ = late.RecordValue(max(1, r.Timestamp.Sub(due).Microseconds()))
		}
		if r.Error != "" && r.Code == 0 {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = r.Error
			}
			continue
		}
		res.Codes[strconv.Itoa(int(r.Code))]++
	}
	res.DurationS = duration.Seconds()
	ok := res.Codes["200"]
	res.Achieved = float64(res.Requests) / duration.Seconds()
	res.Throughput = float64(ok) / max(duration.Seconds(), lastDone.Sub(start).Seconds())
	if res.Requests > 0 {
		res.OKRatio = float64(ok) / float64(res.Requests)
	}
	res.ServiceMS = quantiles(svc)
	if *rate > 0 {
		res.LatencyMS = quantiles(lat)
		res.LateP99MS = float64(late.ValueAtQuantile(99)) / 1000
		want := float64(*rate) * duration.Seconds()
		res.Held = float64(res.Requests) >= 0.97*want && res.OKRatio >= 0.999 && res.LateP99MS < 10
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}
