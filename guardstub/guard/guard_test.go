package guard

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClientIdentity(t *testing.T) {
	trusted := clientIdentity{trusted: prefixSet(mustPrefixes("127.0.0.1/32,10.0.0.0/8")), honor: true}
	cases := []struct {
		name   string
		id     clientIdentity
		remote string
		xff    []string
		want   string
	}{
		{"peer only", trusted, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"untrusted peer's XFF ignored", trusted, "192.0.2.1:5555", []string{"198.51.100.7"}, "192.0.2.1"},
		{"trusted peer, one hop", trusted, "127.0.0.1:5555", []string{"198.51.100.7"}, "198.51.100.7"},
		{"right-most untrusted wins", trusted, "127.0.0.1:1", []string{"6.6.6.6, 198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"several header lines", trusted, "127.0.0.1:1", []string{"6.6.6.6", "198.51.100.8, 10.2.2.2"}, "198.51.100.8"},
		{"all trusted: left-most", trusted, "127.0.0.1:1", []string{"10.3.3.3, 10.4.4.4"}, "10.3.3.3"},
		{"garbage stops the walk", trusted, "127.0.0.1:1", []string{"198.51.100.9, bogus, 10.5.5.5"}, "10.5.5.5"},
		{"ports and brackets", trusted, "127.0.0.1:1", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"ipv4 with port", trusted, "127.0.0.1:1", []string{"198.51.100.10:8080"}, "198.51.100.10"},
		{"mapped address unmapped", trusted, "[::ffff:127.0.0.1]:1", []string{"::ffff:198.51.100.11"}, "198.51.100.11"},
		{"honor off", clientIdentity{trusted: trusted.trusted, honor: false}, "127.0.0.1:1", []string{"198.51.100.7"}, "127.0.0.1"},
		{"no trusted proxies", clientIdentity{honor: true}, "127.0.0.1:1", []string{"198.51.100.7"}, "127.0.0.1"},
		{"empty entries skipped", trusted, "127.0.0.1:1", []string{" , 198.51.100.12 ,"}, "198.51.100.12"},
	}
	for _, c := range cases {
		got, ok := c.id.identify(c.remote, c.xff)
		if !ok || got != netip.MustParseAddr(c.want) {
			t.Errorf("%s: got %v (ok %v), want %s", c.name, got, ok, c.want)
		}
	}
	if _, ok := trusted.identify("not-an-address", nil); ok {
		t.Error("an unparseable peer should not identify")
	}
}

func TestXForwardedForFromUntrustedPeerIsIgnored(t *testing.T) {
	// No trusted proxies: every request comes from the loopback peer, whatever XFF says,
	// so "different clients" share one window.
	cfg := limitsConfig(5, 1.0)
	cfg.BlockThresholdViolations = 1000
	cfg.TrustedProxies = nil
	tg := startGuard(t, cfg)
	var st []int
	for i := range 8 {
		st = append(st, tg.get("198.51.100."+string(rune('1'+i)), "/").status)
	}
	if got := count(st, 200); got != 5 {
		t.Errorf("untrusted XFF: %d allowed of 8 spoofed identities, want 5 (one client): %v", got, st)
	}
	// Trusted loopback: the same 8 requests are 8 clients.
	cfg.TrustedProxies = mustPrefixes("127.0.0.1/32,::1/128")
	tg = startGuard(t, cfg)
	st = st[:0]
	for i := range 8 {
		st = append(st, tg.get("198.51.100."+string(rune('1'+i)), "/").status)
	}
	if got := count(st, 200); got != 8 {
		t.Errorf("trusted XFF: %d allowed, want 8: %v", got, st)
	}
}

func TestUpstreamDownGives502Quickly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	cfg := testConfig()
	cfg.UpstreamURL = dead
	tg := startGuard(t, cfg)
	start := time.Now()
	r := tg.get("198.51.100.1", "/api/test")
	if r.status != http.StatusBadGateway || r.body != string(bodyBadGateway) {
		t.Errorf("dead upstream: %d %q, want 502", r.status, r.body)
	}
	// Not a latency assertion: connection refused must not wait for any timeout
	// (UPSTREAM_TIMEOUT_SECONDS is 30 s here); 10 s is far above any scheduling noise.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("502 took %v", d)
	}
	if v := metricValue(tg.scrape(), "ddos_upstream_errors_total"); v != 1 {
		t.Errorf("ddos_upstream_errors_total = %v, want 1", v)
	}
}

func TestHungUpstreamGives502AfterUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	cfg := testConfig()
	cfg.UpstreamURL = hung.URL
	cfg.UpstreamTimeout = 100 * time.Millisecond
	tg := startGuard(t, cfg)
	if r := tg.get("198.51.100.1", "/"); r.status != http.StatusBadGateway {
		t.Errorf("hung upstream: %d, want 502 after UPSTREAM_TIMEOUT_SECONDS", r.status)
	}
}

func TestBodyLimitGives413(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 100
	tg := startGuard(t, cfg)
	if r := tg.req("198.51.100.1", http.MethodPost, "/api/heavy", bodyOfSize(100)); r.status != http.StatusOK {
		t.Errorf("100-byte body: %d, want 200", r.status)
	}
	r := tg.req("198.51.100.1", http.MethodPost, "/api/heavy", bodyOfSize(101))
	if r.status != http.StatusRequestEntityTooLarge || r.body != string(bodyTooLarge) {
		t.Errorf("101-byte body: %d %q, want 413", r.status, r.body)
	}
	// Without a Content-Length (chunked), the limit is enforced while forwarding.
	req, _ := http.NewRequest(http.MethodPost, tg.srv.URL+"/api/heavy", io.MultiReader(strings.NewReader(strings.Repeat("x", 80)), strings.NewReader(strings.Repeat("y", 80))))
	req.ContentLength = -1
	req.Header.Set("X-Forwarded-For", "198.51.100.2")
	resp, err := tg.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 160-byte body: %d, want 413", resp.StatusCode)
	}
	fams := tg.scrape()
	if v := metricValue(fams, "ddos_requests_blocked_total", "reason", reasonLabelBodyTooLarge); v != 2 {
		t.Errorf("body_too_large count = %v, want 2", v)
	}
}

func TestScannerUserAgentsAreChallenged(t *testing.T) {
	tg := startGuard(t, testConfig())
	for _, ua := range []string{"sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6)", "masscan/1.3", "Nmap Scripting Engine", "Wget/1.21"} {
		r := tg.req("198.51.100.1", http.MethodGet, "/", nil, "User-Agent", ua)
		if r.status != http.StatusForbidden || r.body != string(bodyChallenge) {
			t.Errorf("%q: %d %q, want 403 challenge", ua, r.status, r.body)
		}
	}
	if r := tg.req("198.51.100.1", http.MethodGet, "/", nil, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"); r.status != 200 {
		t.Errorf("a browser got %d", r.status)
	}
	if v := metricValue(tg.scrape(), "ddos_requests_total", "action", "challenged"); v != 5 {
		t.Errorf("challenged = %v, want 5", v)
	}
	// SUSPICIOUS_USER_AGENTS changes the list.
	cfg := testConfig()
	cfg.SuspiciousUserAgents = ParseUserAgentList("none")
	tg = startGuard(t, cfg)
	if r := tg.req("198.51.100.1", http.MethodGet, "/", nil, "User-Agent", "sqlmap/1.7"); r.status != 200 {
		t.Errorf("with SUSPICIOUS_USER_AGENTS=none sqlmap got %d", r.status)
	}
	cfg.SuspiciousUserAgents = ParseUserAgentList("curl")
	tg = startGuard(t, cfg)
	if r := tg.req("198.51.100.1", http.MethodGet, "/", nil, "User-Agent", "curl/8.5.0"); r.status != http.StatusForbidden {
		t.Errorf("with SUSPICIOUS_USER_AGENTS=curl curl got %d", r.status)
	}
}

func TestAdminTokenAndBlocklist(t *testing.T) {
	cfg := testConfig()
	cfg.AdminAPIKey = "correct horse battery staple"
	tg := startGuard(t, cfg)
	tok := func(v string) []string { return []string{"X-Admin-Token", v} }
	for _, c := range []struct {
		name   string
		header []string
	}{{"missing", nil}, {"wrong", tok("correct horse battery stapl")}, {"prefix", tok("correct")}, {"longer", tok(cfg.AdminAPIKey + "x")}, {"empty", tok("")}} {
		if r := tg.req("", http.MethodGet, "/admin/state", nil, c.header...); r.status != http.StatusUnauthorized {
			t.Errorf("%s token: %d, want 401", c.name, r.status)
		}
	}
	good := tok(cfg.AdminAPIKey)
	r := tg.req("", http.MethodPost, "/admin/blocklist", []byte(`{"ip":"198.51.100.66","reason":"abuse"}`), good...)
	if r.status != http.StatusCreated || !strings.Contains(r.body, `"ip":"198.51.100.66"`) {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if r := tg.req("", http.MethodPost, "/admin/blocklist", []byte(`{"ip":"nope"}`), good...); r.status != http.StatusBadRequest {
		t.Errorf("invalid ip: %d, want 400", r.status)
	}
	if s := tg.get("198.51.100.66", "/").status; s != http.StatusForbidden {
		t.Errorf("blocklisted client: %d, want 403", s)
	}
	r = tg.req("", http.MethodGet, "/admin/blocklist", nil, good...)
	var listing struct {
		Blocklist []blocklistListing `json:"blocklist"`
	}
	if err := json.Unmarshal([]byte(r.body), &listing); err != nil || len(listing.Blocklist) != 1 || listing.Blocklist[0].IP != "198.51.100.66" || listing.Blocklist[0].Reason != "abuse" {
		t.Errorf("list: %s (%v)", r.body, err)
	}
	r = tg.req("", http.MethodDelete, "/admin/blocklist/198.51.100.66", nil, good...)
	if r.status != 200 || !strings.Contains(r.body, `"removed":true`) {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if s := tg.get("198.51.100.66", "/").status; s != http.StatusOK {
		t.Errorf("after delete: %d, want 200", s)
	}
	r = tg.req("", http.MethodGet, "/admin/state", nil, good...)
	if r.status != 200 || !strings.Contains(r.body, `"request_rate_limit":100`) {
		t.Errorf("state: %d %s", r.status, r.body)
	}
	// No ADMIN_API_KEY: the admin API is closed whatever the header says.
	tg = startGuard(t, testConfig())
	if r := tg.req("", http.MethodGet, "/admin/state", nil, tok("")...); r.status != http.StatusUnauthorized {
		t.Errorf("admin without a key configured: %d, want 401", r.status)
	}
}

func TestAdminDeleteLiftsTimedBlock(t *testing.T) {
	cfg := limitsConfig(2, 1.0)
	cfg.BlockThresholdViolations = 1
	cfg.AdminAPIKey = "k"
	tg := startGuard(t, cfg)
	if st := tg.statuses("198.51.100.5", 3, time.Millisecond); st[2] != http.StatusForbidden {
		t.Fatalf("%v", st)
	}
	if r := tg.req("", http.MethodDelete, "/admin/blocklist/198.51.100.5", nil, "X-Admin-Token", "k"); !strings.Contains(r.body, `"removed":true`) {
		t.Errorf("delete of a timed block: %s", r.body)
	}
	if s := tg.get("198.51.100.5", "/").status; s == http.StatusForbidden {
		t.Errorf("still blocked after admin delete")
	}
}

func TestTokenMatches(t *testing.T) {
	cases := []struct {
		given, key string
		want       bool
	}{
		{"abc", "abc", true},
		{"abd", "abc", false},
		{"ab", "abc", false},
		{"abcd", "abc", false},
		{"", "", false}, // an unset key matches nothing
		{"x", "", false},
	}
	for _, c := range cases {
		if got := tokenMatches(c.given, c.key); got != c.want {
			t.Errorf("tokenMatches(%q, %q) = %v", c.given, c.key, got)
		}
	}
}

func TestHealthAndDemoUpstream(t *testing.T) {
	cfg := testConfig()
	cfg.DemoSlowChunks = 3
	cfg.DemoSlowInterval = time.Millisecond
	tg := startGuard(t, cfg)
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/health", 200, `{"status":"healthy","version":"1.0.0"}` + "\n"},
		{"GET", "/healthz", 200, `{"status":"ok"}` + "\n"},
		{"GET", "/", 200, "OK"},
		{"GET", "/api/test", 200, `{"message":"test"}` + "\n"},
		{"GET", "/api/docs", 200, `{"docs":true}` + "\n"},
		{"POST", "/api/heavy", 200, `{"ok":true}` + "\n"},
		{"GET", "/api/heavy", 405, `{"detail":"Method Not Allowed"}` + "\n"},
		{"GET", "/api/slow", 200, "chunk\nchunk\nchunk\n"},
		{"GET", "/missing", 404, `{"detail":"Not Found"}` + "\n"},
	}
	for _, c := range cases {
		var body []byte
		if c.method == "POST" {
			body = []byte(`{"data":"x"}`)
		}
		r := tg.req("198.51.100.1", c.method, c.path, body)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, r.status, r.body, c.status, c.body)
		}
	}
	// Health answers do not count as judged requests.
	if v := metricValue(tg.scrape(), "ddos_requests_total", "action", "allowed"); v != 7 {
		t.Errorf("allowed = %v, want 7 (health endpoints are not judged)", v)
	}
}

func TestSlowHeadersAreCutByReadHeaderTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ReadHeaderTimeout = 100 * time.Millisecond
	g, err := New(cfg, WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.HTTPServer(ln.Addr().String())
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Test: AAAA") // never finishes the headers
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	// The server gives up on the connection (it may answer 408 first, then closes).
	if line != "" && !strings.Contains(line, "408") {
		t.Errorf("slow-header connection got %q, want a close or 408", line)
	}
}

func TestHealthKeepsAnsweringDuringBurst(t *testing.T) {
	cfg := testConfig()
	cfg.RequestRateLimit = 20
	tg := startGuard(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for w := range 16 { // 16 connections hammering from 4 client identities
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := "203.0.113." + string(rune('1'+w%4))
			for i := 0; i < 400 && ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tg.srv.URL+"/api/heavy", strings.NewReader(strings.Repeat("X", 1000)))
				req.Header.Set("X-Forwarded-For", ip)
				resp, err := tg.client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	healthy := 0
	for range 50 {
		r := tg.get("", "/health")
		if r.status == http.StatusOK {
			healthy++
		}
	}
	cancel()
	wg.Wait()
	if healthy != 50 {
		t.Errorf("/health answered 200 %d of 50 times during the burst", healthy)
	}
	if statuses[http.StatusForbidden]+statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("the burst was never refused: %v", statuses)
	}
	if statuses[http.StatusBadGateway] > 0 || statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("errors during the burst: %v", statuses)
	}
}

func TestStartLocal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stop, err := StartLocal(ctx, map[string]string{"REQUEST_RATE_LIMIT": "3", "BURST_MULTIPLIER": "1", "LOG_LEVEL": "ERROR"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base URL %q", base)
	}
	get := func(ip string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/test", nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Loopback is trusted by default: two simulated clients have separate windows.
	var st []int
	for range 4 {
		st = append(st, get("198.51.100.1"))
	}
	st = append(st, get("198.51.100.2"))
	if want := []int{200, 200, 200, 429, 200}; !equalInts(st, want) {
		t.Errorf("statuses %v, want %v", st, want)
	}
	stop()
	stop() // idempotent
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("guard still answering after stop")
	}
	if _, _, err := StartLocal(ctx, map[string]string{"SENSITIVITY_LEVEL": "extreme"}); err == nil || !strings.Contains(err.Error(), "SENSITIVITY_LEVEL") {
		t.Errorf("bad env: %v", err)
	}
}

func TestStartLocalStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	base, stop, err := StartLocal(ctx, map[string]string{"LOG_LEVEL": "ERROR"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cancel()
	for i := 0; i < 200; i++ { // the stop runs in a goroutine: poll, bounded (≤ 10 s)
		if _, err := http.Get(base + "/health"); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("guard still answering 10 s after its context ended")
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rawExchange sends raw bytes to the guard's server and returns the status of
// the first answer (0 if the connection closed without one). Writes after the
// first are paced by gap; the exchange is bounded at 15 s.
func rawExchange(t *testing.T, addr string, gap time.Duration, parts ...string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	for i, p := range parts {
		if i > 0 {
			select {
			case s := <-status:
				return s // answered before the client finished: what is being tested
			case <-time.After(gap):
			}
		}
		if _, err := io.WriteString(conn, p); err != nil {
			break
		}
	}
	return <-status
}

func TestMalformedChunkedBodyIs400NotUpstreamError(t *testing.T) {
	tg := startGuard(t, testConfig())
	head := "POST /api/heavy HTTP/1.1\r\nHost: guard\r\nX-Forwarded-For: 198.51.100.60\r\nTransfer-Encoding: chunked\r\n\r\n"
	for _, body := range []string{"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcXX\r\n0\r\n\r\n", "-1\r\nabc\r\n0\r\n\r\n"} {
		if s := rawExchange(t, tg.srv.Listener.Addr().String(), 0, head+body); s != http.StatusBadRequest {
			t.Errorf("chunked body %q: status %d, want 400 (the client's fault, not 502)", body, s)
		}
	}
	if v := metricValue(tg.scrape(), "ddos_upstream_errors_total"); v != 0 {
		t.Errorf("ddos_upstream_errors_total = %v, want 0: the upstream did nothing wrong", v)
	}
}

func TestTricklingBodyIsCutByBodyReadTimeout(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			time.Sleep(900 * time.Millisecond) // 3 × BodyReadTimeout after the body
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	cfg := testConfig()
	cfg.UpstreamURL = up.URL
	cfg.BodyReadTimeout = 300 * time.Millisecond
	tg := startGuard(t, cfg)
	// 40 bytes announced, one sent every 100 ms: 4 s to finish. The guard must
	// give up long before (408) instead of holding an upstream connection.
	parts := []string{"POST /upload HTTP/1.1\r\nHost: guard\r\nX-Forwarded-For: 198.51.100.61\r\nContent-Length: 40\r\n\r\n"}
	for range 40 {
		parts = append(parts, "x")
	}
	if s := rawExchange(t, tg.srv.Listener.Addr().String(), 100*time.Millisecond, parts...); s != http.StatusRequestTimeout {
		t.Errorf("trickled body: status %d, want 408", s)
	}
	// A body that arrives in time is forwarded, and the deadline it had does not
	// outlive it: a slow answer after the body is not cut.
	if r := tg.req("198.51.100.62", http.MethodPost, "/slow", []byte("payload")); r.status != http.StatusOK || r.body != "ok" {
		t.Errorf("a prompt body with a slow answer: %d %q, want 200 ok", r.status, r.body)
	}
}

// lockedBuffer is a log sink safe for the guard's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An embedding runner decides where the in-process guard logs (a quiet run
// passes a discarding logger): the "client blocked" line goes to the injected
// logger, not to stderr.
func TestLocalStarterLogsToTheInjectedLogger(t *testing.T) {
	var logged lockedBuffer
	start := LocalStarter(WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	base, stop, err := start(context.Background(), map[string]string{
		"REQUEST_RATE_LIMIT": "2", "BURST_MULTIPLIER": "1", "BLOCK_THRESHOLD_VIOLATIONS": "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	statuses := map[int]int{}
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.70")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	if statuses[http.StatusForbidden] == 0 {
		t.Fatalf("statuses %v, want the client blocked (403)", statuses)
	}
	if !strings.Contains(logged.String(), "client blocked") || !strings.Contains(logged.String(), "198.51.100.70") {
		t.Errorf("injected logger got %q, want the \"client blocked\" line for 198.51.100.70", logged.String())
	}
}

// A guard that does not trust its peer's X-Forwarded-For says so once, with the
// setting that would trust it, instead of silently judging every simulated
// client as one.
func TestUntrustedXForwardedForIsNotedOnce(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted string
		want    int
	}{
		{"untrusted loopback", "", 1},
		{"trusted loopback", LocalTrustedProxies, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logged lockedBuffer
			cfg := testConfig()
			cfg.TrustedProxies = mustPrefixes(c.trusted)
			tg := startGuard(t, cfg, WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
			for i := range 5 {
				tg.get("198.51.100."+strconv.Itoa(80+i), "/")
			}
			tg.get("", "/") // no header: nothing to note
			if n := strings.Count(logged.String(), "X-Forwarded-For ignored"); n != c.want {
				t.Errorf("noted %d times, want %d; log:\n%s", n, c.want, logged.String())
			}
			if c.want > 0 && !strings.Contains(logged.String(), "TRUSTED_PROXIES=127.0.0.1/32") {
				t.Errorf("the note does not say how to trust the peer: %s", logged.String())
			}
		})
	}
	cfg := DefaultConfig()
	if note := cfg.XFFTrustNote(); !strings.Contains(note, "TRUSTED_PROXIES=127.0.0.1/32") {
		t.Errorf("start-up note without TRUSTED_PROXIES: %q, want the setting that trusts loopback", note)
	}
	cfg.TrustedProxies = mustPrefixes("10.0.0.0/8")
	if note := cfg.XFFTrustNote(); !strings.Contains(note, "10.0.0.0/8") {
		t.Errorf("start-up note with TRUSTED_PROXIES: %q", note)
	}
}
