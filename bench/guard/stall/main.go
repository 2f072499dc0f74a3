// Command stall drives the bundled guard (in this process, demo upstream, loopback)
// at a paced rate from many client identities and prints every request slower
// than -slow (latency from the intended send time, the send's lateness and the
// service time beside it), to hunt intermittent stalls; -trace writes a
// runtime/trace of the run for `go tool trace` (-pprof=sched|sync).
//
//	go run ./bench/guard/stall -rate 400 -clients 400 -duration 20s -trace /tmp/stall.trace
//
// A stall that delays the sends as much as the answers is the whole process (or
// the machine) not running, not the guard: check the trace's scheduler latency.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slogate/slogate/guardstub/guard"
)

func main() {
	rate := flag.Int("rate", 2000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "run length")
	clients := flag.Int("clients", 1000, "client identities (X-Forwarded-For)")
	workers := flag.Int("workers", 64, "concurrent requests at most")
	slow := flag.Duration("slow", 100*time.Millisecond, "print requests slower than this")
	traceFile := flag.String("trace", "", "write a runtime/trace here")
	cost := flag.Int("cost", -1, "MODEL_COST_ITERATIONS (-1 = default)")
	flag.Parse()
	if *rate < 1 || *duration <= 0 || *duration > time.Hour || *clients < 1 || *clients > 65536 || *workers < 1 {
		fmt.Fprintln(os.Stderr, "stall: want -rate ≥ 1, 0 < -duration ≤ 1h, 1 ≤ -clients ≤ 65536, -workers ≥ 1")
		os.Exit(2)
	}

	cfg := guard.DefaultConfig()
	cfg.RequestRateLimit = 1_000_000_000
	cfg.BurstMultiplier = 1
	if *cost >= 0 {
		cfg.ModelCostIterations = *cost
	}
	cfg.TrustedProxies, _ = guard.ParsePrefixList(guard.LocalTrustedProxies)
	g, err := guard.New(cfg, guard.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer g.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv := g.HTTPServer(ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/api/test"

	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer trace.Stop()
	}

	tr := &http.Transport{MaxIdleConnsPerHost: *workers}
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), *duration+30*time.Second)
	defer cancel()
	total := int(duration.Seconds() * float64(*rate))
	interval := time.Second / time.Duration(*rate)
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, total)
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if d := time.Until(j.due); d > 0 {
					time.Sleep(d)
				}
				sent := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				c := j.i % *clients
				req.Header.Set("X-Forwarded-For", netip.AddrFrom4([4]byte{10, 3, byte(c >> 8), byte(c)}).String())
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				end := time.Now()
				l := end.Sub(j.due)
				mu.Lock()
				lat = append(lat, l)
				if err != nil || resp.StatusCode != 200 {
					errs++
				}
				mu.Unlock()
				if l > *slow {
					fmt.Printf("slow: #%d client %d due %.3fs sent +%v latency %v (service %v)\n", j.i, c, j.due.Sub(start).Seconds(),
						sent.Sub(j.due).Round(time.Millisecond), l.Round(time.Millisecond), end.Sub(sent).Round(time.Millisecond))
				}
			}
		}()
	}
	for i := range total {
		jobs <- job{i: i, due: start.Add(time.Duration(i) * interval)}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	fmt.Printf("requests %d errors %d p50 %v p99 %v p999 %v max %v\n", len(lat), errs, q(0.5), q(0.99), q(0.999), q(1))
	if resp, err := http.Get("http://" + ln.Addr().String() + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "ddos_model_") || strings.HasPrefix(line, "cache_") {
				fmt.Println(line)
			}
		}
	}
}
