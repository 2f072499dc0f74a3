package ioc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/scenarios/corpus"
)

// Zero-latency benchmarks: the service's own cost per analysed IOC.
//
//	go test -run XXX -bench BenchmarkAnalyze ./guardstub/ioc/

func BenchmarkAnalyzeUncached(b *testing.B) { benchAnalyze(b, false) }
func BenchmarkAnalyzeCached(b *testing.B)   { benchAnalyze(b, true) }

// benchAnalyze analyses one IOC per operation, from all goroutines of
// RunParallel, without HTTP. Uncached runs with the cache off, so every
// operation runs the full provider path (zero latency, no rate limits).
func benchAnalyze(b *testing.B, cached bool) {
	cfg := DefaultConfig()
	cfg.LatencyScale, cfg.RateLimitScale = 0, 0
	if !cached {
		cfg.CacheTTL = 0
	}
	svc, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	iocs := corpus.IOCs()[:1024]
	opt := analysisOptions{maxIOCs: 1, limitName: "ANALYZE_MAX_IOCS"}
	ctx := context.Background()
	if cached {
		for _, v := range iocs {
			if _, err := svc.analyze(ctx, &AnalyzeRequest{IOCString: v}, opt); err != nil {
				b.Fatal(err)
			}
		}
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v := iocs[seq.Add(1)%uint64(len(iocs))]
			if _, err := svc.analyze(ctx, &AnalyzeRequest{IOCString: v}, opt); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "analyses/s")
	if cached {
		b.ReportMetric(100*counter(b, svc, "cache_hits_total", nil)/counter(b, svc, "cache_requests_total", nil), "cache-hit-%")
	}
}

// BenchmarkAnalyzeHTTPCached is BenchmarkAnalyzeCached through POST /analyze on
// loopback (JSON in and out, STIX and graph on, as a default request).
func BenchmarkAnalyzeHTTPCached(b *testing.B) {
	cfg := DefaultConfig()
	cfg.LatencyScale, cfg.RateLimitScale = 0, 0
	svc, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	iocs := corpus.IOCs()[:1024]
	bodies := make([]string, len(iocs))
	for i, v := range iocs {
		bodies[i] = jsonBody(map[string]any{"iocs": []string{v}})
	}
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	send := func(body string) error {
		resp, err := client.Post(srv.URL+"/analyze", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	for _, body := range bodies {
		if err := send(body); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(bodies[seq.Add(1)%uint64(len(bodies))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "analyses/s")
}

// fastClock runs the service's time speedup times faster than real time: Now
// advances speedup model-seconds per real second and Sleep(d) takes d/speedup.
// Latencies, backoff, rate-limit refills, breaker cooldowns and cache TTLs all
// run on it, so a 10-minute batch at the seed's latency takes 6 s.
type fastClock struct {
	start   time.Time
	speedup float64
}

func (c fastClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.speedup))
}

func (c fastClock) Sleep(ctx context.Context, d time.Duration) error {
	return realSleep(ctx, time.Duration(float64(d)/c.speedup))
}

const modelSpeedup = 100

// BenchmarkBatchModel runs batches of 1, 10, 100 and 1000 corpus IOCs through
// the default configuration - the seed's latency model (cold IOC 1.5-4.5 s),
// MAX_WORKERS 4, BATCH_SIZE 50, retries, timeouts - on a clock 100x faster than
// real time, and reports in model time:
//
//   - model-s/batch: seconds to answer one batch (seed: small 3-8 s, medium
//     30-120 s, large 5-20 min)
//   - IOCs/model-min: throughput of one client sending batches back to back
//     (seed: ~500 IOCs/minute peak)
//   - cache-hit-%: provider cache hits over lookups at the end (corpus.Pick draws
//     20 % from a hot set, so batches repeat IOCs)
//   - partial-%: IOC results missing a provider (rate limited: VirusTotal's
//     4/min quota is gone after 4 IOCs)
//
// hot=50 draws every IOC from the first 50 of the corpus (corpus.Hot), ten
// rounds per operation, as the ioc-cache-warm scenario does: the cache-hit-%
// it ends at is the seed's ">90 % in production" case.
//
// limits=default keeps the seed's rate limits; limits=off sets
// RATE_LIMIT_SCALE=0. clients=8 sends 8 batches at once (the seed's "peak"
// needs concurrent requests: one request uses MAX_WORKERS=4 IOCs at a time).
// Run it once with a fixed count; the CPU cost is also magnified 100x:
//
//	go test -run XXX -bench BenchmarkBatchModel -benchtime 2x ./guardstub/ioc/
func BenchmarkBatchModel(b *testing.B) {
	for _, limits := range []string{"default", "off"} {
		for _, tc := range []struct{ size, clients, hot int }{{1, 1, 0}, {10, 1, 0}, {100, 1, 0}, {1000, 1, 0}, {10, 8, 0}, {100, 8, 0}, {10, 8, 50}} {
			name := fmt.Sprintf("limits=%s/size=%d/clients=%d", limits, tc.size, tc.clients)
			if tc.hot > 0 {
				name += fmt.Sprintf("/hot=%d", tc.hot)
			}
			b.Run(name, func(b *testing.B) { benchBatchModel(b, limits == "off", tc.size, tc.clients, tc.hot) })
		}
	}
}

func benchBatchModel(b *testing.B, limitsOff bool, size, clients, hot int) {
	cfg := DefaultConfig()
	if limitsOff {
		cfg.RateLimitScale = 0
	}
	clock := fastClock{start: time.Now(), speedup: modelSpeedup}
	svc, err := New(cfg, WithClock(clock.Now), WithSleep(clock.Sleep))
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	opt := analysisOptions{maxIOCs: cfg.BatchMaxIOCs, limitName: "BATCH_MAX_IOCS"}
	var (
		seq                   atomic.Uint64
		batches, iocs, partly atomic.Int64
		batchModel            atomic.Int64 // model nanoseconds summed over batches
	)
	rounds := 1
	if hot > 0 {
		rounds = 10
	}
	wallModel := time.Duration(0)
	for b.Loop() {
		start := clock.Now()
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for range rounds {
					n := seq.Add(1)
					list := corpus.Pick(n, size, size)
					if hot > 0 {
						for i := range list {
							list[i] = corpus.Hot(n*1_000_003+uint64(i), hot)
						}
					}
					req := AnalyzeRequest{IOCs: make([]IOCInput, len(list))}
					for i, v := range list {
						req.IOCs[i].Value = v
					}
					t0 := clock.Now()
					rep, err := svc.analyze(context.Background(), &req, opt)
					if err != nil {
						b.Error(err)
						return
					}
					batchModel.Add(int64(clock.Now().Sub(t0)))
					batches.Add(1)
					iocs.Add(int64(rep.Summary.TotalIOCs))
					partly.Add(int64(rep.Summary.PartialIOCs))
				}
			})
		}
		wg.Wait()
		wallModel += clock.Now().Sub(start)
	}
	b.ReportMetric(time.Duration(batchModel.Load()/batches.Load()).Seconds(), "model-s/batch")
	b.ReportMetric(float64(iocs.Load())/wallModel.Minutes(), "IOCs/model-min")
	b.ReportMetric(100*counter(b, svc, "cache_hits_total", nil)/counter(b, svc, "cache_requests_total", nil), "cache-hit-%")
	b.ReportMetric(100*float64(partly.Load())/float64(iocs.Load()), "partial-%")
}
