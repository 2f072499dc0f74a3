package fast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/slogate/slogate/runner/netprobe"
	"github.com/slogate/slogate/runner/plan"
)

// newSender picks the transport: fasthttp when every request goes to a
// plain http:// URL directly (no proxy), none is MCP and no test transport
// is given; net/http otherwise. It also names the proxies used.
func newSender(job plan.Job) (sender, string, string, error) {
	proxies, err := job.Proxies()
	if err != nil {
		return nil, "", "", fmt.Errorf("fast engine: %w", err)
	}
	proxy := plan.ProxyNames(proxies)
	plain := job.Transport == nil && job.Sessions == nil && !job.HasKind("mcp") && proxy == ""
	for e := range job.Mix.Endpoints() {
		u, err := url.Parse(job.Mix.URL(e))
		if err != nil {
			return nil, "", "", fmt.Errorf("fast engine: request url %q: %w", job.Mix.URL(e), err)
		}
		if u.Scheme != "http" {
			plain = false
		}
	}
	if plain {
		return newFastSender(job), "fasthttp", "", nil
	}
	return newHTTPSender(job), "net/http", proxy, nil
}

// fastSender sends over fasthttp. Stopping the run closes every
// connection it dialled, which ends the requests in flight at once
// (fasthttp has no per-request context).
type fastSender struct {
	client  *fasthttp.Client
	mix     *plan.Mix
	timeout time.Duration

	cutDone atomic.Bool
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	seen    plan.Protocols
}

// fastState is a worker's own: one request per mix entry, its URI,
// method and headers set once (parsed once), and one response. Per send
// only what varies is set: the client identity and the body.
type fastState struct {
	reqs []*fasthttp.Request
	resp *fasthttp.Response
}

// request returns the worker's prepared request for mix entry e.
func (s *fastSender) request(st *fastState, e int) *fasthttp.Request {
	if req := st.reqs[e]; req != nil {
		return req
	}
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(s.mix.URL(e))
	req.Header.SetMethod(s.mix.Method(e))
	for k, vs := range s.mix.Header(e) {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if host := s.mix.Host(e); host != "" {
		req.UseHostHeader = true // else fasthttp sends the URL's host
		req.Header.SetHost(host)
	}
	st.reqs[e] = req
	return req
}

func newFastSender(job plan.Job) *fastSender {
	s := &fastSender{mix: job.Mix, timeout: job.Timeout, conns: map[*trackedConn]struct{}{}}
	s.client = &fasthttp.Client{
		Name:                      plan.UserAgent,
		MaxConnsPerHost:           job.MaxWorkers,
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		// No ReadTimeout or WriteTimeout: the request's own timeout
		// (DoTimeout) bounds the whole exchange, body included, and each
		// of them would cost a clock read and a deadline per request.
		MaxIdleConnDuration:    90 * time.Second,
		DisablePathNormalizing: true,
		DialTimeout:            s.dial,
		MaxConnWaitTimeout:     job.Timeout,
		// A response's head must fit in the read buffer (fasthttp's
		// default, 4 KiB, fails a healthy target with a large
		// Content-Security-Policy or cookies). 64 KiB, as the vegeta
		// engine's buffers; a larger head is the engine's limit, not the
		// target's error (send).
		ReadBufferSize: maxHeadBytes,
		// Bodies are read from the stream, counted and discarded: an
		// endless body costs no memory and ends at the request deadline.
		StreamResponseBody: true,
	}
	return s
}

// maxHeadBytes bounds a response's status line and headers on fasthttp.
const maxHeadBytes = 64 << 10

// errStopped refuses a new connection once the run has stopped.
var errStopped = errors.New("the run was stopped")

func (s *fastSender) dial(addr string, timeout time.Duration) (net.Conn, error) {
	if s.cutDone.Load() {
		return nil, errStopped
	}
	c, err := net.DialTimeout("tcp", addr, min(timeout, 5*time.Second))
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: s, probe: netprobe.New(c)}
	s.mu.Lock()
	if s.cutDone.Load() {
		s.mu.Unlock()
		c.Close()
		return nil, errStopped
	}
	s.conns[tc] = struct{}{}
	s.mu.Unlock()
	return tc, nil
}

func (s *fastSender) send(w *worker, seq int64, e int) exchange {
	st, _ := w.state.(*fastState)
	if st == nil {
		st = &fastState{reqs: make([]*fasthttp.Request, len(s.mix.Endpoints())), resp: fasthttp.AcquireResponse()}
		w.state = st
	}
	req, resp := s.request(st, e), st.resp
	resp.Reset()
	if h, v := s.mix.Identity(seq, e); h != "" {
		req.Header.Set(h, v)
	}
	body := s.mix.Body(seq, e)
	if body != nil {
		req.SetBodyRaw(body)
	} else {
		req.ResetBody()
	}
	x := exchange{bytesOut: int64(len(body))}
	err := s.client.DoTimeout(req, resp, s.timeout)
	// A connection found closed was not used; each try takes another
	// from the pool or dials.
	for tries := 0; tries < plan.MaxStaleTries && errors.Is(err, netprobe.ErrClosedBeforeWrite); tries++ {
		resp.Reset()
		err = s.client.DoTimeout(req, resp, s.timeout)
	}
	if err != nil {
		var small *fasthttp.ErrSmallBuffer
		switch {
		case errors.As(err, &small):
			x.err = fmt.Errorf("%sthe response head is larger than the fast engine's %d KiB read buffer: use --engine vegeta for this target", plan.GeneratorFaultMark, maxHeadBytes>>10)
		case plan.GeneratorFault(err):
			x.err = plan.ResourceFault(err)
		case isTimeout(err):
			x.err = fmt.Errorf("timeout after %s", s.timeout)
		default:
			x.err = err
		}
		return x
	}
	x.status = resp.StatusCode()
	if resp.Header.IsHTTP11() {
		s.seen.Saw(1, 1)
	} else {
		s.seen.Saw(1, 0)
	}
	if rs := resp.BodyStream(); rs != nil {
		n, err := io.Copy(io.Discard, rs)
		resp.CloseBodyStream()
		x.bytesIn = n
		if err != nil {
			x.status = 0
			if isTimeout(err) {
				x.err = fmt.Errorf("timeout after %s", s.timeout)
			} else {
				x.err = fmt.Errorf("reading the response body: %w", err)
			}
		}
	} else {
		x.bytesIn = int64(len(resp.Body()))
	}
	return x
}

// isTimeout reports whether err is the request's deadline passing
// (fasthttp does not always wrap the connection's timeout error).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "i/o timeout")
}

func (s *fastSender) cut() {
	s.mu.Lock()
	s.cutDone.Store(true)
	conns := s.conns
	s.conns = map[*trackedConn]struct{}{}
	s.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

func (s *fastSender) protocols() []string { return s.seen.List() }

func (s *fastSender) close() {
	s.client.CloseIdleConnections()
	s.cut()
}

// trackedConn leaves the sender's set when fasthttp closes it, and
// refuses to send on a reused connection its peer has closed.
type trackedConn struct {
	net.Conn
	s     *fastSender
	probe *netprobe.Probe
	// answered: something was read since the last write, so the next
	// write starts a request on a connection already used (fasthttp sends
	// one request at a time, written whole before its answer is read).
	answered bool
}

// A reused connection found closed by its peer before anything of the
// request was written fails the write with netprobe.ErrClosedBeforeWrite:
// the request never left, so send sends it on another connection, which is
// not a retry. fasthttp, with no background reader, would otherwise write
// it into the closed connection and fail it. Servers close keep-alive
// connections without a word: idle ones after a timeout (5 s in Node.js
// and Apache), all idle ones on a graceful shutdown (Go's http.Server),
// some after every answer.

// Write checks a reused connection before a request's first bytes go on
// it (netprobe: one non-blocking peek, a system call): a close that
// arrived even microseconds after the last answer is seen, so no request
// is written into a connection the target had already closed. Only a
// close racing the write itself fails the request, as on any client.
func (c *trackedConn) Write(b []byte) (int, error) {
	if c.answered {
		c.answered = false
		if !c.probe.Clean() {
			return 0, netprobe.ErrClosedBeforeWrite
		}
	}
	return c.Conn.Write(b)
}

func (c *trackedConn) Read(b []byte) (int, error) {
	c.answered = true
	return c.Conn.Read(b)
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// httpSender sends over net/http (https targets, HTTP/2 where the target
// offers it, proxies, MCP, a test's transport): one context per request
// under a run-wide one that stopping cancels.
type httpSender struct {
	rt       http.RoundTripper
	own      *http.Transport
	mix      *plan.Mix
	sessions plan.SessionProvider
	timeout  time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	seen     plan.Protocols
}

func newHTTPSender(job plan.Job) *httpSender {
	s := &httpSender{rt: job.Transport, mix: job.Mix, sessions: job.Sessions, timeout: job.Timeout}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.rt == nil {
		s.own = &http.Transport{
			Proxy: job.Proxy,
			// Reused connections are peeked at before a request goes on
			// them (netprobe.CheckReused in plan.RoundTrip).
			DialContext: netprobe.Dial((&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext),
			// HTTP/2 where an https target offers it in its TLS handshake
			// (ALPN), as browsers and k6 do; plain http stays HTTP/1.1.
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: max(job.MaxWorkers, 64) * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			// A copy: net/http adds "h2" to the config's NextProtos.
			TLSClientConfig: job.TLS.Clone(),
			ReadBufferSize:  64 << 10,
			WriteBufferSize: 64 << 10,
		}
		s.rt = s.own
	}
	return s
}

func (s *httpSender) send(_ *worker, seq int64, _ int) exchange {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	var x exchange
	req, e, resp, err := plan.RoundTrip(ctx, s.rt, s.mix, s.sessions, seq)
	if req == nil {
		x.err = err
		return x
	}
	x.bytesOut = max(req.ContentLength, 0)
	mcp := s.mix.Kind(e) == "mcp"
	if err == nil {
		s.seen.Saw(resp.ProtoMajor, resp.ProtoMinor)
		var kept []byte
		kept, x.bytesIn, err = plan.ReadBody(resp.Body, mcp)
		resp.Body.Close()
		if mcp && err == nil {
			x.failure = plan.MCPFailure(kept)
		}
		if err != nil {
			err = fmt.Errorf("reading the response body: %w", err)
		}
	}
	if err != nil {
		switch {
		case plan.GeneratorFault(err):
			x.err = plan.ResourceFault(err)
		case errors.Is(err, context.DeadlineExceeded) && s.ctx.Err() == nil:
			x.err = fmt.Errorf("timeout after %s", s.timeout)
		default:
			x.err = err
		}
		return x
	}
	x.status = resp.StatusCode
	return x
}

func (s *httpSender) protocols() []string { return s.seen.List() }

func (s *httpSender) cut() { s.cancel() }

func (s *httpSender) close() {
	s.cancel()
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
}
