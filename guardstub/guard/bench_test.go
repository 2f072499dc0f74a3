package guard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks are not assertions: run them with
//
//	go test -run '^$' -bench . -benchmem ./guardstub/guard/
//
// BenchmarkGuardAllowed is the judging path of an allowed request (identity,
// windows, features, model through the cache or not) with an in-process upstream,
// so the difference between cache=on and cache=off is the model's cost.

var sinkPrediction Prediction

func BenchmarkModelScore(b *testing.B) {
	m := riskModel{minSamples: 10, iterations: DefaultConfig().ModelCostIterations}
	k := quantize(Features{Samples: 100, RequestRate: 12, GapCV: 0.4})
	for b.Loop() {
		sinkPrediction = m.score(k)
	}
}

func benchmarkAllowed(b *testing.B, cache bool) {
	cfg := DefaultConfig()
	cfg.EnableModelCache = cache
	cfg.RequestRateLimit = 1 << 30
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	g, err := New(cfg, WithUpstream(ok), WithLogger(quietLog))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	const clients = 1000
	addrs := make([]string, clients)
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5000).String()
	}
	// Warm every client past MIN_SAMPLES_REQUIRED so each request is scored.
	for range cfg.MinSamplesRequired {
		for _, a := range addrs {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = a
			g.ServeHTTP(httptest.NewRecorder(), r)
		}
	}
	var next atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		for pb.Next() {
			r.RemoteAddr = addrs[next.Add(1)%clients]
			g.ServeHTTP(w, r)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(g.scorer.predictions.Load())/float64(b.N), "predictions/op")
}

func BenchmarkGuardAllowed(b *testing.B) {
	b.Run("cache=on", func(b *testing.B) { benchmarkAllowed(b, true) })
	b.Run("cache=off", func(b *testing.B) { benchmarkAllowed(b, false) })
}

// BenchmarkGuardRefused is the cost of a 429 for a client over its cap.
func BenchmarkGuardRefused(b *testing.B) {
	cfg := DefaultConfig()
	cfg.BlockThresholdViolations = 1 << 30
	g, err := New(cfg, WithUpstream(http.NotFoundHandler()), WithLogger(quietLog))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.1:4000"
	w := httptest.NewRecorder()
	for b.Loop() {
		g.ServeHTTP(w, r)
	}
}

// BenchmarkGuardProxyLoopback is a whole allowed request over loopback TCP: client
// → guard → pooled connection → demo upstream and back.
func BenchmarkGuardProxyLoopback(b *testing.B) {
	cfg := DefaultConfig()
	cfg.RequestRateLimit = 1 << 30
	cfg.TrustedProxies = mustPrefixes(LocalTrustedProxies)
	g, err := New(cfg, WithLogger(quietLog))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/test", nil)
			i := next.Add(1) % 1000
			req.Header.Set("X-Forwarded-For", netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}).String())
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkUpstreamClient compares the guard's upstream clients on the whole
// loopback path (32 concurrent clients → guard → demo upstream): the lean
// HTTP/1.1 client (h1Transport) against net/http's Transport, and the direct
// path (client → demo upstream, no guard) as the floor. cpu-µs/op is the
// process's user+system CPU per request (client, guard and upstream together);
// subtract the direct run's figure for the guard's own share.
//
//	go test -run '^$' -bench UpstreamClient -count 6 ./guardstub/guard/
func BenchmarkUpstreamClient(b *testing.B) {
	for _, variant := range []string{"lean", "stdlib", "direct"} {
		b.Run(variant, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.RequestRateLimit = 1 << 30
			cfg.TrustedProxies = mustPrefixes(LocalTrustedProxies)
			g, err := New(cfg, WithLogger(quietLog))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			if variant == "stdlib" {
				std := newUpstreamTransport(g.cfg)
				defer std.CloseIdleConnections()
				g.forward = newReverseProxy(g, g.upstreamURL, std)
			}
			srv := httptest.NewServer(g)
			defer srv.Close()
			target := srv.URL + "/api/test"
			if variant == "direct" {
				target = g.upstreamURL.String() + "/api/test"
			}
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			var next atomic.Uint64
			cpu0 := processCPU()
			b.ResetTimer()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, target, nil)
					i := next.Add(1) % 1000
					req.Header.Set("X-Forwarded-For", netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}).String())
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
