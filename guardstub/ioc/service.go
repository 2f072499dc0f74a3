package ioc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Version is reported by /health and the MCP server.
const Version = "1.0.0"

// Service is the IOC service: an http.Handler serving /health, /analyze, /batch,
// /mcp and /metrics. It is safe for concurrent use; Close stops work in flight.
type Service struct {
	cfg       Config
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	fault     FaultFunc
	log       *slog.Logger
	metrics   *metrics
	cache     *resultCache
	providers [numProviders]*providerClient
	mux       *http.ServeMux
	mcpServer *mcp.Server
	sessions  *sessionLimiter // /mcp: the go-sdk handler behind the session caps
	reportSeq atomic.Uint64

	base      context.Context // cancelled by Close
	cancel    context.CancelFunc
	closeOnce sync.Once
}

// Option configures a Service beyond Config: injected time, faults, logging.
type Option func(*Service)

// WithClock replaces time.Now for rate limiters, breakers, cache expiry and
// reported times.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithSleep replaces the real sleep used for provider latency, timeouts and
// backoff. It must return ctx.Err() if ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Service) { s.sleep = sleep }
}

// WithFaults makes provider attempts fail as f says (tests of retries, breakers
// and partial results).
func WithFaults(f FaultFunc) Option { return func(s *Service) { s.fault = f } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New validates cfg and builds a Service.
func New(cfg Config, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ioc service config: %w", err)
	}
	s := &Service{cfg: cfg, now: time.Now, sleep: realSleep, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.metrics = newMetrics(func() float64 { return float64(s.cache.len()) })
	s.cache = newResultCache(cfg.CacheTTL, cfg.CacheMaxSize, s.now, s.metrics.cacheEvictions.Inc)
	for p := range numProviders {
		s.providers[p] = s.newProviderClient(p)
	}
	s.mcpServer = s.newMCPServer()
	s.sessions = newSessionLimiter(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcpServer },
		&mcp.StreamableHTTPOptions{MaxRequestBodyBytes: cfg.MaxBodyBytes, SessionTimeout: cfg.MCPSessionTimeout}),
		s.mcpServer, cfg, s.metrics)
	s.mux = s.routes()
	return s, nil
}

// Config returns the configuration the service runs with.
func (s *Service) Config() Config { return s.cfg }

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close cancels analyses in flight and closes MCP sessions. The HTTP server
// around the Service is the caller's to shut down.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.CloseSessions()
	})
	return nil
}

// CloseSessions ends every MCP session, which ends their long-lived
// server-to-client streams. Graceful shutdown calls it first
// (http.Server.RegisterOnShutdown): an idle stream must not hold the process for
// the grace period meant for analyses in flight.
func (s *Service) CloseSessions() {
	for ss := range s.mcpServer.Sessions() {
		_ = ss.Close()
	}
}

func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// analysisOptions are the per-request choices of an analysis.
type analysisOptions struct {
	maxIOCs      int
	limitName    string // env name of maxIOCs, for the error
	includeSTIX  bool
	includeGraph bool
}

// errClosed is returned for work arriving after Close.
var errClosed = errors.New("IOC service is shutting down")

// analyze runs one request: detect and reject per item, analyse the valid IOCs
// in chunks of BATCH_SIZE with MAX_WORKERS workers each, merge, attribute and
// report. It fails only on bad input (an *inputError) or cancellation.
func (s *Service) analyze(ctx context.Context, req *AnalyzeRequest, opt analysisOptions) (*Report, error) {
	start := s.now()
	if s.base.Err() != nil {
		return nil, errClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()

	values, itemErrs := req.values()
	if len(values) == 0 && len(itemErrs) == 0 {
		e := badRequest("no IOCs provided: %s", emptyBodyHint)
		e.empty = true
		return nil, e
	}
	if len(values) > opt.maxIOCs {
		msg := fmt.Sprintf("too many IOCs: %d, the limit is %s=%d", len(values), opt.limitName, opt.maxIOCs)
		if opt.limitName == "ANALYZE_MAX_IOCS" {
			msg += "; send large lists to POST /batch"
		}
		return nil, &inputError{status: http.StatusRequestEntityTooLarge, msg: msg}
	}
	valid := make([]indicator, 0, len(values))
	for _, v := range values {
		k, err := detect(v, s.cfg.Detection)
		if err != nil {
			itemErrs = append(itemErrs, ItemError{Value: v, Error: err.Error()})
			continue
		}
		valid = append(valid, indicator{value: v, kind: k, canonical: canonical(k, v, s.cfg.Detection)})
	}
	s.metrics.rejected.Add(float64(len(itemErrs)))
	if len(valid) == 0 {
		return nil, &inputError{status: http.StatusUnprocessableEntity, items: itemErrs,
			msg: fmt.Sprintf("no valid IOCs: all %d items were rejected (see errors)", len(itemErrs))}
	}

	results := make([]IOC, len(valid))
	for lo := 0; lo < len(valid); lo += s.cfg.BatchSize {
		hi := min(lo+s.cfg.BatchSize, len(valid))
		s.runChunk(ctx, valid[lo:hi], results[lo:hi])
		if err := ctx.Err(); err != nil {
			if s.base.Err() != nil {
				return nil, errClosed
			}
			return nil, err
		}
	}
	return s.buildReport(results, itemErrs, start, opt), nil
}

// runChunk analyses one chunk with up to MAX_WORKERS goroutines pulling IOCs in
// order; results[i] belongs to chunk[i].
func (s *Service) runChunk(ctx context.Context, chunk []indicator, results []IOC) {
	workers := min(s.cfg.MaxWorkers, len(chunk))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunk) || ctx.Err() != nil {
					return
				}
				results[i] = s.analyzeOne(ctx, &chunk[i])
			}
		})
	}
	wg.Wait()
}

// analyzeOne queries the IOC's providers in parallel and merges their answers;
// a provider without an answer contributes the original's "Unknown" entry and
// marks the result partial.
func (s *Service) analyzeOne(ctx context.Context, in *indicator) IOC {
	start := s.now()
	ps := providersFor(in.kind)
	answers := make([]IOC, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps[1:] {
		wg.Go(func() { answers[i+1], _, errs[i+1] = s.providers[p].lookup(ctx, in) })
	}
	answers[0], _, errs[0] = s.providers[ps[0]].lookup(ctx, in)
	wg.Wait()

	var failed []string
	for i, err := range errs {
		if err != nil {
			answers[i] = failedIOC(in, failureReport(ps[i], err, &s.cfg))
			failed = append(failed, ps[i].String())
		}
	}
	res := mergeResults(in, answers)
	if len(failed) > 0 {
		res.Partial, res.FailedProviders = true, failed
		s.metrics.partial.Inc()
	}
	s.metrics.analyses.WithLabelValues(res.Type, res.Reputation).Inc()
	s.metrics.analysis.WithLabelValues(res.Type).Observe(s.now().Sub(start).Seconds())
	return res
}
