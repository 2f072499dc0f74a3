package guard

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// newUpstreamTransport is the stdlib upstream client, used for what h1Transport
// leaves to it (HTTPS upstreams, protocol upgrades): keep-alive connections, up
// to UPSTREAM_MAX_IDLE_CONNS idle per host, no compression (the guard passes
// bodies through), HTTP/1.1. A dead upstream fails within
// UPSTREAM_CONNECT_TIMEOUT_SECONDS (connection refused on loopback: at once) and
// a hung one within UPSTREAM_TIMEOUT_SECONDS.
func newUpstreamTransport(cfg Config) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.UpstreamConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          0, // no global cap; the per-host cap below applies
		MaxIdleConnsPerHost:   cfg.UpstreamMaxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.UpstreamConnectTimeout,
		ResponseHeaderTimeout: cfg.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       16 << 10,
		ReadBufferSize:        16 << 10,
	}
}

// newReverseProxy forwards to target through transport. The upstream's status,
// headers and body pass through; X-Forwarded-For gets the peer appended. Any
// upstream failure answers 502 at once (no retries: a retry storm is the last
// thing a guard under attack should start); a failure of the client's own body
// answers for the client: 413 over MAX_BODY_BYTES, 408 too slow, 400 malformed.
func newReverseProxy(g *Guard, target *url.URL, transport http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			if prior := pr.In.Header["X-Forwarded-For"]; prior != nil {
				pr.Out.Header["X-Forwarded-For"] = prior
			}
			pr.SetXForwarded()
		},
		Transport:  transport,
		BufferPool: copyBuffers,
		ErrorLog:   slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errBodyTooLarge(err) {
				g.metrics.blocked.WithLabelValues(reasonLabelBodyTooLarge).Inc()
				writeRaw(w, http.StatusRequestEntityTooLarge, bodyTooLarge, nil)
				return
			}
			if status, body, ok := clientBodyStatus(err); ok { // the client's body failed, not the upstream
				if status == http.StatusRequestEntityTooLarge {
					g.metrics.blocked.WithLabelValues(reasonLabelBodyTooLarge).Inc()
				}
				writeRaw(w, status, body, nil)
				return
			}
			if r.Context().Err() == nil || !errors.Is(err, context.Canceled) {
				g.metrics.upstreamErrors.Inc()
				g.log.Debug("upstream error", "path", r.URL.Path, "err", err)
			}
			writeRaw(w, http.StatusBadGateway, bodyBadGateway, nil)
		},
	}
}

// copyBuffers recycles the proxy's 32 KiB copy buffers (otherwise one per request).
var copyBuffers httputil.BufferPool = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte  { return *p.pool.Get().(*[]byte) }
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
