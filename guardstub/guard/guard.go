package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Option configures what a Config cannot: collaborators for tests and embedding.
type Option func(*options)

type options struct {
	clock       func() time.Time
	upstream    http.Handler
	upstreamURL string
	logger      *slog.Logger
}

// WithClock injects the time source of every window, block and cache TTL, so tests
// step time instead of sleeping. Request durations in metrics use the real clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithUpstream serves allowed requests with h in-process (no network hop), in
// place of UPSTREAM_URL or the demo upstream.
func WithUpstream(h http.Handler) Option { return func(o *options) { o.upstream = h } }

// WithUpstreamURL forwards allowed requests to rawURL, overriding Config.UpstreamURL.
func WithUpstreamURL(rawURL string) Option { return func(o *options) { o.upstreamURL = rawURL } }

// WithLogger sets the guard's logger (default: text on stderr at Config.LogLevel).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Guard is the DDoS guard: an http.Handler that judges each request and forwards
// the allowed ones to the upstream. Create it with New, stop it with Close.
type Guard struct {
	cfg      Config
	clock    func() time.Time
	log      *slog.Logger
	burstCap int
	window   int64 // SLIDING_WINDOW_SECONDS in ns
	featWin  int64 // FEATURE_WINDOW_SECONDS in ns

	identity   clientIdentity
	whitelist  prefixSet
	blocklist  *blocklist
	userAgents []string
	clients    *clientTable
	global     globalCounter
	model      riskModel
	cache      *predictionCache // nil when ENABLE_MODEL_CACHE is off
	scorer     *batchScorer
	metrics    *metrics
	metricsH   http.Handler

	upstreamURL *url.URL
	forward     http.Handler // the reverse proxy, or the in-process upstream
	transport   *h1Transport
	demo        *http.Server // the demo upstream the guard started, if any

	untrustedXFFNoted atomic.Bool // noteUntrustedXFF has logged

	stopScoring context.CancelFunc
	workers     sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

// New builds a guard from cfg. Without an upstream (Config.UpstreamURL,
// WithUpstreamURL or WithUpstream) it starts the demo upstream on
// Config.DemoUpstreamAddr and forwards to it over pooled loopback connections;
// Close stops it.
func New(cfg Config, opts ...Option) (*Guard, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.upstreamURL != "" {
		cfg.UpstreamURL = o.upstreamURL
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("guard config: %w", err)
	}
	cfg = cfg.normalized()
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	g := &Guard{
		cfg:        cfg,
		clock:      o.clock,
		log:        o.logger,
		burstCap:   cfg.BurstCap(),
		window:     int64(cfg.SlidingWindow),
		featWin:    int64(cfg.FeatureWindow),
		identity:   clientIdentity{trusted: prefixSet(cfg.TrustedProxies), honor: cfg.HonorXForwardedFor},
		whitelist:  prefixSet(cfg.WhitelistIPs),
		blocklist:  newBlocklist(cfg.BlocklistIPs, o.clock()),
		userAgents: cfg.SuspiciousUserAgents,
		clients:    newClientTable(cfg.MaxTrackedClients),
		global:     globalCounter{windowLen: int64(cfg.FeatureWindow)},
		model:      riskModel{minSamples: cfg.MinSamplesRequired, iterations: cfg.ModelCostIterations},
	}
	if cfg.EnableModelCache {
		g.cache = newPredictionCache(int64(cfg.ModelCacheTTL), cfg.ModelCacheMaxSize)
	}
	g.scorer = newBatchScorer(cfg.BatchPredictionSize, g.model.score)
	g.metrics = newMetrics(g)
	g.metricsH = promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{Registry: g.metrics.registry})

	if err := g.setUpstream(o.upstream); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.stopScoring = cancel
	g.scorer.start(ctx, runtime.GOMAXPROCS(0), &g.workers)
	g.log.Debug("guard ready", "upstream", g.upstreamURL.String(), "rate_limit", cfg.RequestRateLimit,
		"window", cfg.SlidingWindow, "burst_cap", g.burstCap, "model_cache", cfg.EnableModelCache)
	return g, nil
}

func (g *Guard) setUpstream(inProcess http.Handler) error {
	switch {
	case inProcess != nil:
		g.forward = inProcess
		g.upstreamURL = &url.URL{Scheme: "inprocess", Host: "upstream"}
		return nil
	case g.cfg.UpstreamURL == "":
		ln, err := net.Listen("tcp", g.cfg.DemoUpstreamAddr)
		if err != nil {
			return fmt.Errorf("starting the demo upstream on DEMO_UPSTREAM_ADDR %q: %w", g.cfg.DemoUpstreamAddr, err)
		}
		g.demo = &http.Server{
			Handler:           DemoUpstream{SlowChunks: g.cfg.DemoSlowChunks, SlowInterval: g.cfg.DemoSlowInterval},
			ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		}
		go func() { _ = g.demo.Serve(ln) }() // returns when Close shuts the server down
		g.upstreamURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	default:
		u, err := url.Parse(g.cfg.UpstreamURL)
		if err != nil {
			return fmt.Errorf("UPSTREAM_URL: %w", err)
		}
		g.upstreamURL = u
	}
	g.transport = newH1Transport(g.cfg, newUpstreamTransport(g.cfg))
	g.forward = newReverseProxy(g, g.upstreamURL, g.transport)
	return nil
}

// UpstreamURL is where allowed requests go ("inprocess://upstream" for WithUpstream).
func (g *Guard) UpstreamURL() string { return g.upstreamURL.String() }

// Config returns the configuration in force (after the original's adjustments).
func (g *Guard) Config() Config { return g.cfg }

// HTTPServer returns an http.Server for g on addr with the guard's connection
// limits: READ_HEADER_TIMEOUT_SECONDS against slow-loris, idle keep-alive 2 min,
// 64 KiB of headers at most. (BODY_READ_TIMEOUT_SECONDS is applied per request,
// by the guard itself, so it holds under any net/http server.)
func (g *Guard) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           g,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
}

// Close stops the scoring workers, the demo upstream (if the guard started one)
// and the upstream connection pool. It does not stop servers serving g.
func (g *Guard) Close() error {
	g.closeOnce.Do(func() {
		g.stopScoring()
		g.workers.Wait()
		if g.demo != nil {
			g.closeErr = g.demo.Close()
		}
		if g.transport != nil {
			g.transport.CloseIdleConnections()
		}
	})
	return g.closeErr
}

func (g *Guard) nowNanos() int64 { return g.clock().UnixNano() }

func (g *Guard) cacheLen() int {
	if g.cache == nil {
		return 0
	}
	return g.cache.len()
}

var (
	bodyHealth       = []byte(`{"status":"healthy","version":"1.0.0"}` + "\n")
	bodyRateLimited  = []byte(`{"detail":"Rate limit applied"}` + "\n")
	bodyBlocked      = []byte(`{"detail":"Access blocked"}` + "\n")
	bodyChallenge    = []byte(`{"detail":"Challenge required"}` + "\n")
	bodyTooLarge     = []byte(`{"detail":"Request body too large"}` + "\n")
	bodyUnknownPeer  = []byte(`{"detail":"Unable to determine client IP"}` + "\n")
	bodyBadGateway   = []byte(`{"detail":"Upstream unavailable"}` + "\n")
	bodyBadBody      = []byte(`{"detail":"Malformed or incomplete request body"}` + "\n")
	bodyBodyTimeout  = []byte(`{"detail":"Request body not received in time"}` + "\n")
	bodyShuttingDown = []byte(`{"detail":"Service shutting down"}` + "\n")
)

// ServeHTTP answers /health, /healthz and /metrics itself (never rate limited, so
// they keep answering under attack), /admin/* behind the admin token, and judges
// every other request before forwarding it.
func (g *Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		writeRaw(w, http.StatusOK, bodyHealth, nil)
		return
	case "/healthz":
		writeRaw(w, http.StatusOK, bodyHealthz, nil)
		return
	case "/metrics":
		g.metricsH.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		g.serveAdmin(w, r)
		return
	}
	start := time.Now()
	act := g.judge(w, r)
	g.metrics.requests[act].Inc()
	g.metrics.duration[act].Observe(time.Since(start).Seconds())
}

// judge decides and answers one request; the checks run in this order:
//
//  1. client identity (socket peer, or X-Forwarded-For from a trusted proxy)
//  2. WHITELIST_IPS → forwarded with no further checks
//  3. admin blocklist / BLOCKLIST_IPS → 403
//  4. a timed block in force → 403 with Retry-After
//  5. scanner User-Agent → 403 challenge
//  6. body over MAX_BODY_BYTES → 413
//  7. sliding window over the (risk-adjusted) hard cap → 429 with Retry-After,
//     or 403 when it is the BLOCK_THRESHOLD_VIOLATIONS-th violation in a window
//  8. risk model verdict (after MIN_SAMPLES_REQUIRED) → 403 and a timed block
//  9. forward
func (g *Guard) judge(w http.ResponseWriter, r *http.Request) action {
	addr, ok, untrustedXFF := g.identity.resolve(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	if untrustedXFF && !g.untrustedXFFNoted.Load() {
		g.noteUntrustedXFF(addr)
	}
	if !ok {
		g.metrics.blocked.WithLabelValues(reasonLabelUnknownAddress).Inc()
		writeRaw(w, http.StatusBadRequest, bodyUnknownPeer, nil)
		return actionBlocked
	}
	if g.whitelist.contains(addr) {
		g.forwardRequest(w, r)
		return actionAllowed
	}
	if g.blocklist.contains(addr) {
		g.metrics.blocked.WithLabelValues(reasonLabelBlocklist).Inc()
		writeRaw(w, http.StatusForbidden, bodyBlocked, nil)
		return actionBlocked
	}
	now := g.nowNanos()
	if d, blocked := g.blockedFor(addr, now); blocked {
		g.metrics.blocked.WithLabelValues(reasonLabelTimedBlock).Inc()
		writeRaw(w, http.StatusForbidden, bodyBlocked, retryAfter(d))
		return actionBlocked
	}
	if ua := r.Header.Get("User-Agent"); ua != "" && g.suspiciousAgent(ua) {
		g.metrics.blocked.WithLabelValues(reasonLabelUserAgent).Inc()
		writeRaw(w, http.StatusForbidden, bodyChallenge, nil)
		return actionChallenged
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		g.metrics.blocked.WithLabelValues(reasonLabelBodyTooLarge).Inc()
		writeRaw(w, http.StatusRequestEntityTooLarge, bodyTooLarge, nil)
		return actionBlocked
	}

	global := g.global.add(now)
	v := g.admit(addr, now, max(0, r.ContentLength), global)
	switch v.outcome {
	case outcomeRateLimited:
		g.metrics.blocked.WithLabelValues(reasonLabelRateLimited).Inc()
		writeRaw(w, http.StatusTooManyRequests, bodyRateLimited, retryAfter(v.retry))
		return actionRateLimited
	case outcomeBlockStarted:
		g.blockStarted(addr, reasonRateLimitViolations, v.retry)
		g.metrics.blocked.WithLabelValues(reasonLabelViolations).Inc()
		writeRaw(w, http.StatusForbidden, bodyBlocked, retryAfter(v.retry))
		return actionBlocked
	case outcomeBlocked: // a block started between blockedFor and admit
		g.metrics.blocked.WithLabelValues(reasonLabelTimedBlock).Inc()
		writeRaw(w, http.StatusForbidden, bodyBlocked, retryAfter(v.retry))
		return actionBlocked
	}

	if v.features.Samples >= float64(g.cfg.MinSamplesRequired) {
		p, ok := g.predict(r.Context(), quantize(v.features))
		if !ok {
			writeRaw(w, http.StatusServiceUnavailable, bodyShuttingDown, nil)
			return actionAllowed
		}
		if d, blocked := g.applyPrediction(addr, now, p); blocked {
			g.blockStarted(addr, reasonModel, d)
			g.metrics.blocked.WithLabelValues(reasonLabelModel).Inc()
			writeRaw(w, http.StatusForbidden, bodyBlocked, retryAfter(d))
			return actionBlocked
		}
	}
	g.forwardRequest(w, r)
	return actionAllowed
}

// noteUntrustedXFF logs, once per guard, that X-Forwarded-For from peer was
// ignored and how to trust it: a load generator simulating many clients from
// one host is otherwise judged as one client, and blocked as one.
func (g *Guard) noteUntrustedXFF(peer netip.Addr) {
	if !g.untrustedXFFNoted.CompareAndSwap(false, true) {
		return
	}
	g.log.Warn("X-Forwarded-For ignored: the peer is not in TRUSTED_PROXIES, so all its requests count as one client "+
		"(logged once). To take the client from X-Forwarded-For, set TRUSTED_PROXIES to the proxy or load generator's address",
		"peer", peer.String(), "hint", "TRUSTED_PROXIES="+netip.PrefixFrom(peer, peer.BitLen()).String())
}

// XFFTrustNote says in one line whose X-Forwarded-For the guard believes and,
// when it believes nobody's, how to change that (for `serve guard` to print).
func (c Config) XFFTrustNote() string {
	switch {
	case !c.HonorXForwardedFor:
		return "X-Forwarded-For is ignored (HONOR_X_FORWARDED_FOR=false): each client is its socket peer"
	case len(c.TrustedProxies) == 0:
		return "X-Forwarded-For is trusted from no peer (TRUSTED_PROXIES unset): each client is its socket peer; " +
			"to simulate many clients from this host (slogate's guard-* scenarios), set TRUSTED_PROXIES=127.0.0.1/32,::1/128"
	}
	return "X-Forwarded-For is trusted from TRUSTED_PROXIES=" + strings.Join(prefixStrings(c.TrustedProxies), ",")
}

func (g *Guard) suspiciousAgent(ua string) bool {
	for _, s := range g.userAgents {
		if containsFold(ua, s) {
			return true
		}
	}
	return false
}

// blockedFor reports whether addr is in a timed block at now and for how long
// still. It does not create state for unknown clients.
func (g *Guard) blockedFor(addr netip.Addr, now int64) (time.Duration, bool) {
	s := g.clients.shard(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(addr)
	if c == nil || c.blockedUntil <= now {
		return 0, false
	}
	return time.Duration(c.blockedUntil - now), true
}

type outcome uint8

const (
	outcomeAllowed outcome = iota
	outcomeRateLimited
	outcomeBlockStarted
	outcomeBlocked
)

// verdict is admit's answer: what to do, how long until trying again makes sense,
// and the client's features including this request.
type verdict struct {
	outcome  outcome
	retry    time.Duration
	features Features
}

// admit records the request in addr's state and applies the sliding window.
//
// The cap is ⌊limit' × BURST_MULTIPLIER⌋ where limit' is REQUEST_RATE_LIMIT, or
// with DYNAMIC_RATE_ADJUSTMENT and a last risk score ≥ 50, limit·(1 − risk/100)
// (at least 1). A request is allowed while the window's estimate est ≤ cap − 1.
// Only allowed requests count in the window, so a client that slows down gets
// through again; every request counts in the features. A refusal is a violation;
// violations older than one window are forgotten; the
// BLOCK_THRESHOLD_VIOLATIONS-th starts a timed block.
func (g *Guard) admit(addr netip.Addr, now int64, bodyBytes int64, global float64) verdict {
	s := g.clients.shard(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.getLocked(addr)
	if c.blockedUntil > now {
		return verdict{outcome: outcomeBlocked, retry: time.Duration(c.blockedUntil - now)}
	}
	if c.blockedUntil != 0 { // a block ended: start with a clean window
		s.clearBlockLocked(c)
		c.reason, c.violations, c.window = reasonNone, 0, slidingCounter{}
	}
	c.features.add(now, g.featWin, bodyBytes)
	v := verdict{features: c.features.features(now, g.featWin, global)}

	limitCap := g.burstCap
	if g.cfg.DynamicRateAdjustment && c.risk >= 50 {
		limit := max(1, float64(g.cfg.RequestRateLimit)*(1-float64(c.risk)/100))
		limitCap = max(1, int(math.Floor(limit*g.cfg.BurstMultiplier+1e-9)))
	}
	c.window.roll(now, g.window)
	if c.window.estimate(now, g.window) <= float64(limitCap-1) {
		c.window.add(now, g.window)
		return v
	}
	if now-c.lastViolation >= g.window {
		c.violations = 0
	}
	c.violations++
	c.lastViolation = now
	if c.violations >= uint32(g.cfg.BlockThresholdViolations) {
		v.outcome = outcomeBlockStarted
		v.retry = s.blockLocked(c, now, reasonRateLimitViolations, g.cfg.BlockDuration, g.cfg.MaxBlockDuration, g.cfg.ProgressiveBlocking)
		return v
	}
	v.outcome = outcomeRateLimited
	v.retry = c.window.retryAfter(now, g.window, limitCap)
	return v
}

// applyPrediction stores the client's risk (for DYNAMIC_RATE_ADJUSTMENT) and, on a
// malicious verdict at SENSITIVITY_LEVEL, starts a timed block.
func (g *Guard) applyPrediction(addr netip.Addr, now int64, p Prediction) (time.Duration, bool) {
	s := g.clients.shard(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(addr)
	if c == nil { // evicted meanwhile
		return 0, false
	}
	c.risk = float32(p.Risk)
	if !p.malicious(g.cfg.SensitivityLevel) {
		return 0, false
	}
	if c.blockedUntil > now {
		return time.Duration(c.blockedUntil - now), true
	}
	return s.blockLocked(c, now, reasonModel, g.cfg.BlockDuration, g.cfg.MaxBlockDuration, g.cfg.ProgressiveBlocking), true
}

func (g *Guard) blockStarted(addr netip.Addr, reason blockReason, d time.Duration) {
	g.metrics.blocksStarted.WithLabelValues(reason.String()).Inc()
	g.log.Info("client blocked", "ip", addr.String(), "reason", reason.String(), "duration", d)
}

// predict returns the prediction for k: from the cache when ENABLE_MODEL_CACHE is
// on and it holds a fresh one, otherwise from the batch scorer (then cached).
func (g *Guard) predict(ctx context.Context, k featureKey) (Prediction, bool) {
	if g.cache == nil {
		return g.scorer.predict(ctx, k)
	}
	now := g.nowNanos()
	g.metrics.cacheRequests.Inc()
	if p, ok := g.cache.get(k, now); ok {
		g.metrics.cacheHits.Inc()
		return p, true
	}
	p, ok := g.scorer.predict(ctx, k)
	if ok {
		g.cache.put(k, p, now)
	}
	return p, ok
}

// forwardRequest sends an allowed request upstream. A body without a declared
// length is cut at MAX_BODY_BYTES (the proxy then answers 413). A body must
// arrive within BODY_READ_TIMEOUT_SECONDS (else 408), so a client trickling it
// cannot hold an upstream connection; a body that does not parse (a bad chunk
// size) is the client's fault: 400, not 502 (see clientBody).
func (g *Guard) forwardRequest(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		if r.ContentLength < 0 {
			r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.cfg.BodyReadTimeout)) // best effort: ErrNotSupported off net/http's server
		r.Body = clientBody{r.Body}
	}
	g.forward.ServeHTTP(w, r)
}

// clientBody is an allowed request's body on its way upstream. A read error is
// returned as a *clientBodyError, which both upstream clients pass on, so the
// proxy answers for the client's fault (400, 408, 413) instead of blaming the
// upstream (502). (The body's read deadline needs no lifting at its end: the
// server clears it when it starts watching for the client going away.)
type clientBody struct{ io.ReadCloser }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &clientBodyError{err: err}
	}
	return n, err
}

// clientBodyError is a failure reading the client's request body.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string {
	return "reading the client's request body: " + e.err.Error()
}
func (e *clientBodyError) Unwrap() error { return e.err }

// clientBodyStatus is the answer when err comes from the client's body: 413 over
// MAX_BODY_BYTES, 408 past BODY_READ_TIMEOUT_SECONDS, 400 when it does not parse
// or the client broke off; ok is false when the upstream side failed.
func clientBodyStatus(err error) (status int, body []byte, ok bool) {
	var cbe *clientBodyError
	if !errors.As(err, &cbe) {
		return 0, nil, false
	}
	var ne net.Error
	switch {
	case errBodyTooLarge(cbe.err):
		return http.StatusRequestEntityTooLarge, bodyTooLarge, true
	case errors.As(cbe.err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout, bodyBodyTimeout, true
	}
	return http.StatusBadRequest, bodyBadBody, true
}

// retryAfter is the Retry-After value for d: whole seconds, rounded up, ≥ 1.
func retryAfter(d time.Duration) []string {
	secs := int64(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return []string{strconv.FormatInt(secs, 10)}
}

func writeRaw(w http.ResponseWriter, status int, body []byte, retry []string) {
	h := w.Header()
	h["Content-Type"] = appJSON
	if retry != nil {
		h["Retry-After"] = retry
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errBodyTooLarge reports whether err comes from the MAX_BODY_BYTES limit.
func errBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
