package guard

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingUpstream is a real loopback upstream that counts the connections it accepts.
func countingUpstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestUpstreamConnectionsArePooledAcrossMethodsAndBodies(t *testing.T) {
	up, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/stream" {
			for range 3 {
				_, _ = w.Write([]byte("part\n"))
				w.(http.Flusher).Flush()
			}
			return
		}
		_, _ = w.Write(append([]byte(r.Method), b...))
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	tg := startGuard(t, cfg)
	for i := range 20 {
		ip := "198.51.100.7"
		switch i % 5 {
		case 0:
			if r := tg.get(ip, "/x"); r.status != 200 || r.body != "GET" {
				t.Fatalf("GET: %d %q", r.status, r.body)
			}
		case 1:
			if r := tg.req(ip, http.MethodPost, "/x", []byte("payload")); r.status != 200 || r.body != "POSTpayload" {
				t.Fatalf("POST: %d %q", r.status, r.body)
			}
		case 2: // a body of unknown length goes upstream chunked
			req, _ := http.NewRequest(http.MethodPut, tg.srv.URL+"/x", io.MultiReader(strings.NewReader("ab"), strings.NewReader("cd")))
			req.Header.Set("X-Forwarded-For", ip)
			resp, err := tg.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "PUTabcd" {
				t.Fatalf("chunked PUT: %d %q", resp.StatusCode, b)
			}
		case 3:
			if r := tg.req(ip, http.MethodHead, "/x", nil); r.status != 200 || r.body != "" {
				t.Fatalf("HEAD: %d %q", r.status, r.body)
			}
		case 4:
			if r := tg.get(ip, "/stream"); r.status != 200 || r.body != "part\npart\npart\n" {
				t.Fatalf("streamed: %d %q", r.status, r.body)
			}
		}
	}
	// Each HEAD answer ends its connection (whatever follows it could only be
	// stray bytes); everything else reuses one.
	if n := conns.Load(); n != 1+4 {
		t.Errorf("20 sequential requests (4 HEAD) opened %d upstream connections, want 5 (keep-alive pool, no reuse after HEAD)", n)
	}
}

// rawUpstream is a hand-written HTTP/1.1 upstream for what net/http's server
// would not do: reply writes the answer to the i-th request on a connection and
// says whether to keep the connection open. It returns the URL and the count of
// requests read.
func rawUpstream(t *testing.T, reply func(i int, c net.Conn) (keep bool)) (url string, requests *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					n.Add(1)
					if !reply(i, c) {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &n
}

const rawOK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// oneShotUpstream answers one request per connection and then closes it without
// saying "Connection: close": every pooled connection is stale by the next request.
func oneShotUpstream(t *testing.T) (url string, requests *atomic.Int64) {
	return rawUpstream(t, func(_ int, c net.Conn) bool {
		_, _ = io.WriteString(c, rawOK)
		return false
	})
}

func TestStaleConnectionIsRetriedOnlyForReplayableRequests(t *testing.T) {
	url, requests := oneShotUpstream(t)
	cfg := testConfig()
	cfg.UpstreamURL = url
	tg := startGuard(t, cfg)
	for i := range 5 {
		if r := tg.get("198.51.100.8", "/"); r.status != 200 || r.body != "ok" {
			t.Fatalf("GET %d over a stale pooled connection: %d %q, want a transparent retry", i, r.status, r.body)
		}
	}
	if n := requests.Load(); n != 5 {
		t.Errorf("upstream served %d requests, want 5", n)
	}
	// A POST with a body is never sent twice: on a stale connection it fails (502),
	// as with net/http, rather than risk a duplicate.
	r := tg.req("198.51.100.8", http.MethodPost, "/", []byte("once"))
	if r.status != http.StatusBadGateway && r.status != http.StatusOK {
		t.Errorf("POST over a stale connection: %d, want 502 (or 200 if the pool had no stale connection)", r.status)
	}
	if n := requests.Load(); n > 6 {
		t.Errorf("upstream served %d requests after one POST, want at most 6 (no duplicate)", n)
	}
}

func TestConnectionCloseFromUpstreamIsHonoured(t *testing.T) {
	up, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("bye"))
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	tg := startGuard(t, cfg)
	for range 3 {
		if r := tg.get("198.51.100.9", "/"); r.status != 200 || r.body != "bye" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("upstream connections = %d, want 3 (one per Connection: close answer)", n)
	}
}

func TestClientGoneAbortsTheUpstreamRequest(t *testing.T) {
	arrived := make(chan struct{}, 1)
	aborted := make(chan struct{}, 1)
	up, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done(): // the guard closed the upstream connection
			aborted <- struct{}{}
		case <-time.After(10 * time.Second):
		}
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	tg := startGuard(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tg.srv.URL+"/hang", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.10")
	errc := make(chan error, 1)
	go func() {
		resp, err := tg.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the upstream")
	}
	cancel()
	<-errc
	select {
	case <-aborted:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not aborted when the client went away")
	}
}

func TestInformationalResponsesAreSkipped(t *testing.T) {
	up, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = w.Write([]byte("final"))
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	tg := startGuard(t, cfg)
	if r := tg.get("198.51.100.11", "/"); r.status != 200 || r.body != "final" {
		t.Errorf("after 103 Early Hints: %d %q, want 200 final", r.status, r.body)
	}
}

func TestUpgradeGoesThroughTheStdlibTransport(t *testing.T) {
	up, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo " + line)
		_ = brw.Flush()
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	tg := startGuard(t, cfg)
	c, err := net.Dial("tcp", tg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: guard\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d, want 101", resp.StatusCode)
	}
	_, _ = io.WriteString(c, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo ping\n" {
		t.Errorf("after the upgrade: %q %v, want \"echo ping\\n\"", line, err)
	}
}

func TestIdlePoolIsBoundedAndClosesAfterClose(t *testing.T) {
	release := make(chan struct{})
	var inFlight sync.WaitGroup
	up, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			inFlight.Done()
			<-release
		}
		_, _ = w.Write([]byte("ok"))
	})
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	cfg.UpstreamMaxIdleConns = 2
	tg := startGuard(t, cfg)
	const n = 6
	inFlight.Add(n)
	var done sync.WaitGroup
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequest(http.MethodGet, tg.srv.URL+"/held", nil)
			req.Header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(20+i))
			resp, err := tg.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	inFlight.Wait() // all six are at the upstream at once: six connections
	close(release)
	done.Wait()
	if c := conns.Load(); c != n {
		t.Errorf("upstream connections = %d, want %d", c, n)
	}
	tr := tg.g.transport
	tr.mu.Lock()
	idle := 0
	for _, cs := range tr.idle {
		idle += len(cs)
	}
	tr.mu.Unlock()
	if idle != 2 {
		t.Errorf("idle pool holds %d connections, want UPSTREAM_MAX_IDLE_CONNS = 2", idle)
	}
	tr.CloseIdleConnections()
	// After Close nothing is pooled: a request dials anew and its connection is closed after.
	if r := tg.get("198.51.100.30", "/"); r.status != http.StatusOK {
		t.Fatalf("after CloseIdleConnections: %d", r.status)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.idle) != 0 {
		t.Errorf("pool refilled after CloseIdleConnections: %v", tr.idle)
	}
}

func TestClosingABodyEarlyDropsTheConnectionWithoutDraining(t *testing.T) {
	gone := make(chan struct{}, 1)
	up, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		for range 200 { // an endless stream, as far as the proxy can tell: 10 s
			if _, err := w.Write([]byte("tick\n")); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				gone <- struct{}{}
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	tr := newH1Transport(testConfig(), http.DefaultTransport)
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/stream", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "tick\n" {
		t.Fatalf("first chunk: %q %v", buf, err)
	}
	closed := make(chan struct{})
	go func() { resp.Body.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked draining a stream (it lasts 10 s)")
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream never saw the connection go")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if n := len(tr.idle[canonicalAddr(req.URL)]); n != 0 {
		t.Errorf("a connection closed mid-body went back to the pool (%d idle)", n)
	}
}

func TestAHalfAnswerIsNotRetried(t *testing.T) {
	// Each connection answers its first request fully and its second with half a
	// status line before closing: that is a failed exchange, not a stale
	// connection, so the guard must not send the request again.
	url, served := rawUpstream(t, func(i int, c net.Conn) bool {
		if i == 1 {
			_, _ = io.WriteString(c, "HTTP/1.1 200 O")
			return false
		}
		_, _ = io.WriteString(c, rawOK)
		return true
	})
	cfg := testConfig()
	cfg.UpstreamURL = url
	tg := startGuard(t, cfg)
	if r := tg.get("198.51.100.40", "/"); r.status != http.StatusOK {
		t.Fatalf("first request: %d", r.status)
	}
	if r := tg.get("198.51.100.40", "/"); r.status != http.StatusBadGateway {
		t.Errorf("half an answer: %d, want 502", r.status)
	}
	if n := served.Load(); n != 2 {
		t.Errorf("upstream saw %d requests, want 2 (no retry after part of an answer)", n)
	}
}

// A pooled connection must carry nothing but the next answer: bytes an upstream
// sends after an answer that has no body (HEAD, 204, 304) or after an answer has
// ended (an unsolicited extra response) must never reach the next client.
func TestStrayUpstreamBytesNeverReachTheNextClient(t *testing.T) {
	const leak = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nLEAKED"
	cases := []struct {
		name, method string
		first        string // the first answer's head and body
	}{
		{"body on a HEAD answer", http.MethodHead, "HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n"},
		{"body on a 204", http.MethodGet, "HTTP/1.1 204 No Content\r\n\r\n"},
		{"unsolicited second response", http.MethodGet, rawOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int64
			strayWritten := make(chan struct{})
			url, _ := rawUpstream(t, func(_ int, c net.Conn) bool {
				if served.Add(1) > 1 {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
					return true
				}
				_, _ = io.WriteString(c, tc.first)
				// The stray bytes come a few ms later, once the first answer has
				// been passed on and its connection pooled.
				time.Sleep(5 * time.Millisecond)
				_, _ = io.WriteString(c, leak)
				close(strayWritten)
				return true
			})
			cfg := testConfig()
			cfg.UpstreamURL = url
			tg := startGuard(t, cfg)
			if r := tg.req("198.51.100.50", tc.method, "/first", nil); r.status >= 300 {
				t.Fatalf("first request: %d %q", r.status, r.body)
			}
			select {
			case <-strayWritten:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream never wrote its stray bytes")
			}
			r := tg.get("198.51.100.51", "/second")
			if r.status != http.StatusOK || r.body != "second" {
				t.Errorf("next client got %d %q, want 200 \"second\" (its own answer, not the stray bytes)", r.status, r.body)
			}
		})
	}
}
