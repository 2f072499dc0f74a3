package runner

// The fault matrix of the generator side: misbehaving loopback targets and
// what the result must say about each. Every server here is bounded (it
// stops when its test ends) and every run is bounded by its schedule,
// timeout and drain.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/scenarios"
)

// rawServer accepts loopback connections and hands each to serve with its
// index (0, 1, 2 ...). It closes every connection when the test ends.
func rawServer(t *testing.T, serve func(i int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	done := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				serve(i, c)
				c.Close()
			}(i)
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// readRequest reads one request head (and discards its body).
func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// A target that resets every 10th connection on its second request. Go's
// Transport would silently re-send such a GET on a new connection; every
// failed attempt must be counted as the target's error instead.
func TestConnectionResetsAreCounted(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		var resets atomic.Int64
		url := rawServer(t, func(i int, c net.Conn) {
			br := bufio.NewReader(c)
			for served := 0; ; served++ {
				if !readRequest(br) {
					return
				}
				if i%10 == 9 && served == 1 {
					resets.Add(1)
					c.(*net.TCPConn).SetLinger(0) // RST, not FIN
					return
				}
				// Other connections end after three answers, announced, so
				// that many connections are opened and none closes unasked.
				resp := okResponse
				if served == 2 {
					resp = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
				}
				if _, err := io.WriteString(c, resp); err != nil || served == 2 {
					return
				}
			}
		})
		s := scenarioFor(t, url, "phases:\n  - {kind: constant, rate: 200, duration: 2s}\ngenerator: {max_workers: 4}\n")
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("server resets %d; result: %d requests, %d errors %v", resets.Load(), res.Summary.Requests, res.Summary.ErrorCount, res.Summary.Errors)
		if resets.Load() == 0 {
			t.Fatal("the target never reset a connection: the test did not exercise reuse")
		}
		// One reset kills exactly the one request in flight on it (no
		// pipelining): the result must show every one of them.
		if res.Summary.ErrorCount != resets.Load() {
			t.Errorf("errors = %d, want %d (one per reset connection)", res.Summary.ErrorCount, resets.Load())
		}
		if res.Summary.Requests != 400 {
			t.Errorf("requests = %d, want 400 (a failed request is not sent twice)", res.Summary.Requests)
		}
		if want := 2 * res.Summary.SuccessCount; res.Summary.BytesIn != want {
			t.Errorf("bytes_in = %d, want %d (2 per answer): bodies are counted though discarded", res.Summary.BytesIn, want)
		}
	})
}

// An endless body must not be held in memory: it is read and discarded
// until the request timeout, and counts as a timeout error.
func TestEndlessBodyIsBoundedByTheTimeout(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		url := rawServer(t, func(i int, c net.Conn) {
			br := bufio.NewReader(c)
			if !readRequest(br) {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n") // close-delimited
			deadline := time.Now().Add(30 * time.Second)                             // bound the loop
			for time.Now().Before(deadline) {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		})
		s := scenarioFor(t, url, "phases:\n  - {kind: constant, rate: 4, duration: 1s}\n")
		s.Target.Timeout = scenarios.Duration(700 * time.Millisecond)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("took %s, allocated %d MB, errors %v, bytes in %d", took, allocated>>20, res.Summary.Errors, res.Summary.BytesIn)
		if res.Summary.ErrorCount != res.Summary.Requests || res.Summary.Requests != 4 {
			t.Errorf("%d of %d requests are errors, want 4 of 4", res.Summary.ErrorCount, res.Summary.Requests)
		}
		for msg := range res.Summary.Errors {
			if !strings.Contains(msg, "timeout") {
				t.Errorf("error %q, want a timeout", msg)
			}
		}
		// Before the fix every body was read into memory: gigabytes here.
		if allocated > 64<<20 {
			t.Errorf("the run allocated %d MB reading endless bodies, want < 64 MB", allocated>>20)
		}
		// Schedule 1 s, timeout 0.7 s, drain 5 s: the run must not wait past
		// the timeout of its last request by much, never for the body's end.
		if took > 6*time.Second {
			t.Errorf("the run took %s, want it bounded by schedule + timeout", took)
		}
	})
}

// A response announcing 1 GB and sending 10 bytes, then closing, is an
// error at once; if the target holds the connection, at the timeout.
func TestShortBodyIsAnError(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		for _, hold := range []bool{false, true} {
			t.Run(fmt.Sprintf("hold=%v", hold), func(t *testing.T) {
				url := rawServer(t, func(i int, c net.Conn) {
					br := bufio.NewReader(c)
					if !readRequest(br) {
						return
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n0123456789")
					if hold {
						c.SetReadDeadline(time.Now().Add(10 * time.Second))
						br.ReadByte() // until the client gives up (bounded)
					}
				})
				s := scenarioFor(t, url, "phases:\n  - {kind: constant, rate: 10, duration: 1s}\n")
				s.Target.Timeout = scenarios.Duration(500 * time.Millisecond)
				res, err := Run(context.Background(), s, wired(Options{}))
				if err != nil {
					t.Fatal(err)
				}
				if res.Summary.ErrorCount != 10 || res.Summary.SuccessCount != 0 {
					t.Errorf("success %d errors %d, want 0 and 10: %v", res.Summary.SuccessCount, res.Summary.ErrorCount, res.Summary.Errors)
				}
				t.Logf("errors %v", res.Summary.Errors)
			})
		}
	})
}

// Ctrl-C during a slow phase ends the run at once, and nothing is sent
// after the stop.
func TestInterruptDuringASlowPhase(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer srv.Close()
		// 0.1 req/s: one request at 0 s, the next due at 10 s.
		s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 0.1, duration: 30s}\n")
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		res, err := Run(ctx, s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		stoppedAt := hits.Load()
		time.Sleep(200 * time.Millisecond)
		if !res.Partial {
			t.Error("an interrupted run must be partial")
		}
		// Before the fix: about 10 s (the pacer's sleep), then one more request.
		if took > 5*time.Second {
			t.Errorf("Run returned %s after start, want soon after the 1 s interrupt", took)
		}
		if n := hits.Load(); n != 1 || stoppedAt != 1 {
			t.Errorf("the target saw %d requests (%d at return), want exactly 1: nothing is sent after the stop", n, stoppedAt)
		}
	})
}

// Requests the user cancels in flight are not the target's errors.
func TestInterruptedRequestsAreNotErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 20, duration: 10s}\n")
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		res, err := Run(ctx, s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("requests %d errors %d cancelled %d %v", res.Summary.Requests, res.Summary.ErrorCount, res.Summary.Cancelled, res.Summary.Errors)
		if res.Summary.Cancelled == 0 {
			t.Error("cancelled = 0: the requests in flight at the interrupt must be counted as cancelled")
		}
		if res.Summary.ErrorCount != 0 || res.Summary.ErrorRate != 0 {
			t.Errorf("error count %d rate %.3f, want 0: the target never erred", res.Summary.ErrorCount, res.Summary.ErrorRate)
		}
	})
}

// HTTPS with a certificate from an unknown CA fails every request, unless
// the CA is given (--ca) or verification is off (--insecure).
func TestTLSUnknownCA(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer srv.Close()
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		for _, tc := range []struct {
			name        string
			tls         *tls.Config
			wantSuccess int64
		}{
			{"system roots", nil, 0},
			{"ca", &tls.Config{RootCAs: pool}, 20},
			{"insecure", &tls.Config{InsecureSkipVerify: true}, 20},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 20, duration: 1s}\n")
				res, err := Run(context.Background(), s, wired(Options{TLS: tc.tls}))
				if err != nil {
					t.Fatal(err)
				}
				if res.Summary.SuccessCount != tc.wantSuccess || res.Summary.Requests != 20 {
					t.Errorf("success %d of %d, want %d of 20: %v", res.Summary.SuccessCount, res.Summary.Requests, tc.wantSuccess, res.Summary.Errors)
				}
				if tc.wantSuccess == 0 {
					for msg := range res.Summary.Errors {
						if !strings.Contains(msg, "certificate") {
							t.Errorf("error %q, want one naming the certificate", msg)
						}
					}
				}
			})
		}
	})
}

// Alternating 5xx answers are exactly half errors; a target killed mid-run
// turns every later request into an error, and the run still ends on time.
func TestAlternatingErrorsAndTargetKilledMidRun(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		t.Run("alternating 5xx", func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1)%2 == 0 {
					w.WriteHeader(http.StatusBadGateway)
				}
			}))
			defer srv.Close()
			s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 100, duration: 1s}\n")
			res, err := Run(context.Background(), s, wired(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary.ErrorCount != 50 || res.Summary.StatusCodes["502"] != 50 {
				t.Errorf("errors %d, 502s %d, want 50 and 50", res.Summary.ErrorCount, res.Summary.StatusCodes["502"])
			}
		})
		t.Run("killed mid-run", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 50, duration: 2s}\n")
			time.AfterFunc(time.Second, func() { srv.CloseClientConnections(); srv.Close() })
			start := time.Now()
			res, err := Run(context.Background(), s, wired(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("success %d errors %d %v", res.Summary.SuccessCount, res.Summary.ErrorCount, res.Summary.Errors)
			if res.Summary.Requests != 100 || res.Summary.SuccessCount < 30 || res.Summary.ErrorCount < 30 {
				t.Errorf("requests %d success %d errors %d: want 100, about half answered before the kill and the rest errors",
					res.Summary.Requests, res.Summary.SuccessCount, res.Summary.ErrorCount)
			}
			if took := time.Since(start); took > 8*time.Second {
				t.Errorf("the run took %s after its target died, want about its 2 s schedule", took)
			}
		})
	})
}

// Targets that answer in unusual but valid ways (and one that does not)
// give the same result on every in-process engine: a redirect is its 3xx
// (never followed), a chunked, close-delimited, HTTP/1.0, gzip-encoded,
// 103-preceded, 204 or 9 KB-headed answer is a success with its body
// counted, a garbage status line is the target's error.
func TestEnginesAgreeOnOddTargets(t *testing.T) {
	handler := func(f http.HandlerFunc) string {
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	raw := func(answer string) string {
		return rawServer(t, func(i int, c net.Conn) {
			if readRequest(bufio.NewReader(c)) {
				io.WriteString(c, answer)
			}
		})
	}
	targets := []struct {
		name, url string
		healthy   bool
	}{
		{"redirect", handler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/final", http.StatusFound) }), true},
		{"chunked", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("abc"))
			w.(http.Flusher).Flush()
			w.Write([]byte("def"))
		}), true},
		{"connection close", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.Write([]byte("ok"))
		}), true},
		{"103 early hints", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Write([]byte("ok"))
		}), true},
		{"204", handler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }), true},
		{"gzip", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x02\x00\xfd\xffok\x00\x00\x00\x00\x00\x00\x00\x00"))
		}), true},
		{"9 KB header", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", strings.Repeat("a", 9000))
			w.Write([]byte("ok"))
		}), true},
		{"HTTP/1.0 close-delimited", raw("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello-1.0"), true},
		{"garbage status line", raw("HTTX/9 banana\r\n\r\n"), false},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, engine := range inProcessEngines {
				s := scenarioFor(t, tc.url, "phases:\n  - {kind: constant, rate: 40, duration: 500ms}\n")
				o := wired(Options{})
				o.Engine = engine
				res, err := Run(context.Background(), s, o)
				if err != nil {
					t.Fatal(err)
				}
				sm := res.Summary
				if tc.healthy && (sm.SuccessCount != 20 || sm.Requests != 20) {
					t.Errorf("%s: %d of %d requests succeeded, want 20 of 20: %v", engine, sm.SuccessCount, sm.Requests, sm.Errors)
				}
				if !tc.healthy && (sm.ErrorCount != 20 || res.Generator.Saturated) {
					t.Errorf("%s: %d errors (generator %+v), want 20 of the target's", engine, sm.ErrorCount, res.Generator)
				}
				got = append(got, fmt.Sprintf("requests %d success %d errors %d codes %v bytes in %d", sm.Requests, sm.SuccessCount, sm.ErrorCount, sm.StatusCodes, sm.BytesIn))
			}
			for i := 1; i < len(got); i++ {
				if got[i] != got[0] {
					t.Errorf("%s: %s\n%s: %s", inProcessEngines[0], got[0], inProcessEngines[i], got[i])
				}
			}
		})
	}
}

// A response head larger than the fast engine's read buffer (fasthttp
// needs the whole head in it) is the engine's limit, not the target's
// error: the run is inconclusive and says to use the vegeta engine, which
// reads it.
func TestFastEngineHeadLargerThanItsBuffer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 40 {
			w.Header().Set(fmt.Sprintf("X-H%d", i), strings.Repeat("b", 2000))
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 40, duration: 500ms}\n")
	o := wired(Options{})
	o.Engine = "fast"
	res, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.ErrorCount != 0 || !res.Generator.Saturated || !strings.Contains(strings.Join(res.Generator.Reasons, " "), "use --engine vegeta") {
		t.Errorf("errors %d generator %+v: want no target error and an inconclusive run naming --engine vegeta", res.Summary.ErrorCount, res.Generator)
	}
	o.Engine = "vegeta"
	if res, err = Run(context.Background(), s, o); err != nil || res.Summary.SuccessCount != 20 {
		t.Errorf("vegeta engine: %v, success %d, want 20", err, res.Summary.SuccessCount)
	}
}

// A target that closes idle keep-alive connections (Node.js and Apache do
// after 5 s) is not failing: a request is never sent into a connection the
// target already closed. (net/http drops such a connection from its pool
// as the close arrives; fasthttp checks before it writes.)
func TestIdleConnectionsClosedByTheTarget(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
		// Every connection is closed between two requests (50 ms idle,
		// 250 ms apart: a margin for a loaded machine's scheduling).
		srv.Config.IdleTimeout = 50 * time.Millisecond
		srv.Start()
		defer srv.Close()
		s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 4, duration: 3s}\n")
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.Requests != 12 || res.Summary.SuccessCount != 12 {
			t.Errorf("%d of %d requests succeeded, want 12 of 12: %v", res.Summary.SuccessCount, res.Summary.Requests, res.Summary.Errors)
		}
	})
}

// A target that closes every keep-alive connection right after its answer,
// without a word (no "Connection: close"; a graceful shutdown closes all
// idle connections so), has failed no request: one worker sending every
// 2.5 ms does not write a request into a connection closed a moment
// before (the fast engine did whenever the connection had been idle under
// 5 ms: half the requests failed; the vegeta engine when net/http's reader
// had not run yet on a busy machine). With many workers at 2000 req/s, no
// request fails for a connection net/http found closed before it wrote
// the request ("server closed idle connection": the target never had it);
// only a close racing the write itself may fail one, as on any client.
func TestTargetClosingAfterEveryAnswer(t *testing.T) {
	var served atomic.Int64
	url := rawServer(t, func(i int, c net.Conn) {
		if readRequest(bufio.NewReader(c)) {
			served.Add(1)
			// The answer and the close arrive together: the next request
			// can only ever find the connection closed.
			answerAndClose(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		t.Run("one worker", func(t *testing.T) {
			served.Store(0)
			s := scenarioFor(t, url, "generator: {max_workers: 1}\nphases:\n  - {kind: constant, rate: 400, duration: 1s}\n")
			res, err := Run(context.Background(), s, wired(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			// A close the kernel has not delivered yet when the request
			// takes the connection (the FIN still queued for another CPU
			// under load) is a race no client wins; it is rare, where the
			// fast engine failed every second request.
			if n := res.Summary.SuccessCount; res.Summary.Requests != 400 || n < 396 || served.Load() != n {
				t.Errorf("%d of %d requests succeeded (%d served), want at least 396 of 400: %v", n, res.Summary.Requests, served.Load(), res.Summary.Errors)
			}
		})
		t.Run("many workers", func(t *testing.T) {
			s := scenarioFor(t, url, "phases:\n  - {kind: constant, rate: 2000, duration: 1s}\n")
			res, err := Run(context.Background(), s, wired(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			for msg, n := range res.Summary.Errors {
				if strings.Contains(msg, "idle connection") || strings.Contains(msg, "before the request was written") {
					t.Errorf("%d requests failed with %q: the target closed the connection before they were written", n, msg)
				}
			}
		})
	})
}

// Every in-process engine puts the same requests on the wire, over IPv4
// and IPv6: method, Host (a scenario's Host header routes to a virtual
// host), escaped path and query, an 8 KB header, a 300 KB body, HEAD, the
// User-Agent; and counts the same bytes in and out.
func TestEnginesSendTheSameRequests(t *testing.T) {
	var mu sync.Mutex
	var seen map[string]int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[fmt.Sprintf("%s host=%s uri=%s auth=%d body=%d/%d ua=%q", r.Method, r.Host, r.RequestURI,
			len(r.Header.Get("Authorization")), len(b), r.ContentLength, r.Header.Get("User-Agent"))]++
		mu.Unlock()
		if r.Method != http.MethodHead {
			w.Write([]byte("hello"))
		}
	})
	urls := []string{}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s: %v (skipped)", addr, err) // a machine without IPv6 loopback
			continue
		}
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
		srv.Start()
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	requests := fmt.Sprintf(`requests:
  - {name: vhost, path: "/p%%20q?x=1&y=a%%2Fb", headers: {Host: api.example.com, Authorization: %q}}
  - {name: head, method: HEAD, path: /head}
  - {name: upload, method: POST, path: /post, body: %q}
  - {name: put, method: PUT, path: /put}
`, strings.Repeat("x", 8000), strings.Repeat("y", 300000))
	for _, url := range urls {
		var got []string
		for _, engine := range inProcessEngines {
			mu.Lock()
			seen = map[string]int{}
			mu.Unlock()
			doc := fmt.Sprintf("name: t\ntarget: {url: %q}\n%sphases:\n  - {kind: constant, rate: 40, duration: 500ms}\n", url, requests)
			s, err := scenarios.Parse("t.yaml", "", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			o := wired(Options{})
			o.Engine = engine
			res, err := Run(context.Background(), s, o)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			var lines []string
			for k, n := range seen {
				lines = append(lines, fmt.Sprintf("%d× %s", n, k))
			}
			mu.Unlock()
			sort.Strings(lines)
			sm := res.Summary
			got = append(got, fmt.Sprintf("requests %d success %d bytes in %d out %d\n%s", sm.Requests, sm.SuccessCount, sm.BytesIn, sm.BytesOut, strings.Join(lines, "\n")))
			if res.Generator.Transport == "" {
				t.Errorf("%s: the result does not name the HTTP client (generator.transport)", engine)
			}
			if sm.SuccessCount != 20 || !strings.Contains(got[len(got)-1], "GET host=api.example.com uri=/p%20q?x=1&y=a%2Fb auth=8000") {
				t.Errorf("%s %s: %s", url, engine, got[len(got)-1])
			}
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[0] {
				t.Errorf("%s:\n%s:\n%s\n%s:\n%s", url, inProcessEngines[0], got[0], inProcessEngines[i], got[i])
			}
		}
	}
}

// A target that never answers: with the timeout inside the drain, every
// request is a timeout error and the run ends after the schedule and the
// timeout; with a drain shorter than the timeout, the requests in flight at
// the drain deadline are cut then, as errors, and the run ends there.
func TestHangingTargetTimeoutAndDrainCut(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		for _, tc := range []struct {
			name, generator string
			timeout, within time.Duration
			wantError       string
		}{
			{"timeout", "drain: 500ms", 300 * time.Millisecond, 1300 * time.Millisecond, "timeout after 300ms"},
			{"drain", "drain: 300ms, max_workers: 64", 10 * time.Second, 1300 * time.Millisecond, "no answer before the drain deadline"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				release := make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}))
				defer srv.Close()
				defer close(release)
				s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 50, duration: 1s}\ngenerator: {"+tc.generator+"}\n")
				s.Target.Timeout = scenarios.Duration(tc.timeout)
				begin := time.Now()
				res, err := Run(context.Background(), s, wired(Options{}))
				if err != nil {
					t.Fatal(err)
				}
				if took := time.Since(begin); took > tc.within+time.Second {
					t.Errorf("run took %s, want about %s", took, tc.within)
				}
				var want int64 // net/http's errors name the request first ("Get \"URL\": ...")
				for msg, n := range res.Summary.Errors {
					if strings.HasSuffix(msg, tc.wantError) {
						want += n
					}
				}
				if res.Summary.Requests != 50 || res.Summary.ErrorRate != 1 || want != 50 {
					t.Errorf("requests %d error rate %v errors %v, want 50 errors %q", res.Summary.Requests, res.Summary.ErrorRate, res.Summary.Errors, tc.wantError)
				}
			})
		}
	})
}
