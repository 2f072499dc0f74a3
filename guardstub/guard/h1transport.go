package guard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/slogate/slogate/runner/netprobe"
)

// h1Transport is the guard's upstream client for plain-HTTP upstreams: HTTP/1.1
// over a LIFO pool of keep-alive connections, with the request written and the
// response read on the caller's goroutine.
//
// net/http's Transport runs a read and a write goroutine per connection and hands
// every request and response across channels; on this 2-core machine that
// hand-off (scheduling, select, a context per request) costs about as much as the
// guard's own judgement. Here a round trip is: take an idle connection, write the
// request, read the response head; the body is read by the proxy straight off the
// connection, which goes back to the pool when the body ends cleanly.
//
// What it does not do, it leaves to fallback (the stdlib Transport): HTTPS,
// protocol upgrades (WebSocket). Semantics kept from the stdlib:
//   - a request that fails on a reused connection before any response byte
//     arrives is retried once on a new connection when it is replayable (GET,
//     HEAD, OPTIONS, TRACE without a body), as net/http does;
//   - 1xx informational responses (100 Continue, 103) are skipped;
//   - the request's context aborts the exchange (the connection is then closed);
//   - a response body closed before its end closes the connection (never drained);
//   - ResponseHeaderTimeout bounds the wait for the response head; DialTimeout a
//     new connection.
//
// A pooled connection must carry nothing but the next answer, or one client's
// bytes become another's response. So a connection is pooled only after an answer
// whose end the framing fixed (Content-Length or chunked, read to its end, nothing
// buffered beyond it) and that could not have a body the upstream might still send
// by mistake (HEAD, 204, 304 answers are never pooled), and it is checked again
// when taken from the pool: one non-blocking MSG_PEEK (runner/netprobe) finds
// bytes that arrived while it was idle (an unsolicited response, a late body) or a
// close, and the connection is then discarded. net/http's Transport gets the same
// guarantee from a read goroutine per idle connection.
type h1Transport struct {
	dial                  func(ctx context.Context, network, addr string) (net.Conn, error)
	responseHeaderTimeout time.Duration
	idleTimeout           time.Duration
	maxIdle               int
	fallback              http.RoundTripper

	mu     sync.Mutex
	idle   map[string][]*h1Conn // by host:port, most recently used last
	closed bool
}

type h1Conn struct {
	nc     net.Conn
	nread  int64 // bytes read from nc so far (see countingReader)
	key    string
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
	probe  *netprobe.Probe // checks the connection when it is taken from the pool
	reused bool
	pool   *h1Transport
}

func newH1Transport(cfg Config, fallback http.RoundTripper) *h1Transport {
	dialer := &net.Dialer{Timeout: cfg.UpstreamConnectTimeout, KeepAlive: 30 * time.Second}
	return &h1Transport{
		dial:                  dialer.DialContext,
		responseHeaderTimeout: cfg.UpstreamTimeout,
		idleTimeout:           90 * time.Second,
		maxIdle:               cfg.UpstreamMaxIdleConns,
		fallback:              fallback,
		idle:                  map[string][]*h1Conn{},
	}
}

// errH1Closed is returned once CloseIdleConnections has shut the pool for good.
var errH1Closed = errors.New("upstream transport closed")

func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Header.Get("Upgrade") != "" {
		return t.fallback.RoundTrip(req)
	}
	key := canonicalAddr(req.URL)
	for attempt := 0; ; attempt++ {
		c, err := t.conn(req.Context(), key, attempt > 0)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, retry, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		if !retry || attempt > 0 {
			closeBody(req)
			return nil, err
		}
	}
}

// conn returns a pooled connection to key (unless fresh is set) or dials one.
func (t *h1Transport) conn(ctx context.Context, key string, fresh bool) (*h1Conn, error) {
	if !fresh {
		if c := t.takeIdle(key); c != nil {
			return c, nil
		}
	}
	nc, err := t.dial(ctx, "tcp", key)
	if err != nil {
		return nil, fmt.Errorf("dial upstream %s: %w", key, err)
	}
	c := &h1Conn{nc: nc, key: key, bw: bufio.NewWriterSize(nc, 16<<10), probe: netprobe.New(nc), pool: t}
	c.br = bufio.NewReaderSize(countingReader{c}, 16<<10)
	return c, nil
}

func (t *h1Transport) takeIdle(key string) *h1Conn {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for conns := t.idle[key]; len(conns) > 0; conns = t.idle[key] {
		c := conns[len(conns)-1]
		conns[len(conns)-1] = nil
		t.idle[key] = conns[:len(conns)-1]
		if (t.idleTimeout > 0 && now.Sub(c.idleAt) > t.idleTimeout) || c.br.Buffered() > 0 || !c.probe.Clean() {
			_ = c.nc.Close()
			continue
		}
		c.reused = true
		return c
	}
	return nil
}

// put returns c to the pool, or closes it when the pool is full or shut.
func (t *h1Transport) put(c *h1Conn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if !t.closed && len(t.idle[c.key]) < t.maxIdle {
		t.idle[c.key] = append(t.idle[c.key], c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	_ = c.nc.Close()
}

// CloseIdleConnections closes the pooled connections and stops pooling; the
// connections in use close when their responses end.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	t.closed = true
	idle := t.idle
	t.idle = map[string][]*h1Conn{}
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			_ = c.nc.Close()
		}
	}
	if ci, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// roundTrip writes req and reads the response head. retry reports that nothing
// of a response arrived on a reused connection and req can be sent again.
func (c *h1Conn) roundTrip(req *http.Request) (resp *http.Response, retry bool, err error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		c.pool.put(c)
		return nil, false, err
	}
	aborted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.nc.SetDeadline(aLongTimeAgo)
		close(aborted)
	})
	out, body := req, (*readErrBody)(nil)
	fail := func(err error, retryable bool) (*http.Response, bool, error) {
		if !stop() {
			<-aborted
			// The context's end explains the failure, unless the client's body
			// failed first (the server cancels the context on that read error).
			if ctxErr := ctx.Err(); ctxErr != nil && (body == nil || body.err == nil) {
				err = ctxErr
			}
			retryable = false
		}
		_ = c.nc.Close()
		return nil, retryable && c.reused && replayable(req), err
	}
	if req.Body != nil && req.Body != http.NoBody {
		body = &readErrBody{ReadCloser: req.Body}
		r2 := *req
		r2.Body = body
		out = &r2
	}
	if err := out.Write(c.bw); err != nil {
		if body != nil && body.err != nil { // the client's body failed (e.g. MAX_BODY_BYTES), not the upstream
			return fail(body.err, false)
		}
		return fail(fmt.Errorf("writing the request upstream: %w", err), true)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("writing the request upstream: %w", err), true)
	}
	if c.pool.responseHeaderTimeout > 0 {
		c.setReadDeadline(ctx, time.Now().Add(c.pool.responseHeaderTimeout))
	}
	readBefore := c.nread // pooled connections hold no unread bytes (see h1Body.Close)
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			// Retry only when not a byte of an answer came: the connection was
			// stale (closed by the upstream while idle), not a failed exchange.
			nothing := c.nread == readBefore && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("upstream response headers: timeout after %s", c.pool.responseHeaderTimeout)
			}
			return fail(fmt.Errorf("reading the upstream response: %w", err), nothing)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// 1xx informational: the final response follows on the same connection.
	}
	if c.pool.responseHeaderTimeout > 0 {
		c.setReadDeadline(ctx, time.Time{})
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("upstream switched protocols on a request without Upgrade"), false)
	}
	resp.Body = &h1Body{rc: resp.Body, c: c, stop: stop, keep: reusable(req, resp), eof: resp.Body == http.NoBody}
	return resp, false, nil
}

// setReadDeadline sets the connection's read deadline without undoing an
// abort: if ctx ended meanwhile (its AfterFunc may have set the past deadline
// just before), the past deadline is set again, so a blocked read still ends.
// ctx's end happens before its AfterFunc runs, so checking ctx.Err() after
// setting is enough.
func (c *h1Conn) setReadDeadline(ctx context.Context, t time.Time) {
	_ = c.nc.SetReadDeadline(t)
	if ctx.Err() != nil {
		_ = c.nc.SetDeadline(aLongTimeAgo)
	}
}

// reusable reports whether the connection may carry another exchange after resp:
// keep-alive on both sides, and an answer whose end the framing fixes. HEAD, 204
// and 304 answers have no body by definition, so whatever an upstream sends after
// them (a body sent by mistake is a common upstream bug) would be read as the next
// answer: those connections are not reused. An answer without Content-Length or
// chunked encoding ends at the close (net/http sets Close for it).
func reusable(req *http.Request, resp *http.Response) bool {
	if resp.Close || req.Close || req.Method == http.MethodHead {
		return false
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusNotModified:
		return false
	}
	chunked := len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	return resp.ContentLength >= 0 || chunked
}

// h1Body is the response body: the connection goes back to the pool when the
// body was read to its end, the response allows keep-alive and the context was
// not cancelled; otherwise it is closed.
type h1Body struct {
	rc   io.ReadCloser
	c    *h1Conn
	stop func() bool
	keep bool
	eof  bool
	mu   sync.Mutex
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.done = true
	cancelled := !b.stop()
	if b.eof && b.keep && !cancelled && b.c.br.Buffered() == 0 {
		b.c.pool.put(b.c)
		return nil
	}
	// Closed before its end (the client went away, or the proxy gave up): drop
	// the connection rather than drain the rest - the stdlib body's Close would
	// read an endless stream to its end.
	return b.c.nc.Close()
}

// countingReader counts the bytes read from the connection, so a failure can be
// told apart from a stale connection that never answered.
type countingReader struct{ c *h1Conn }

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	r.c.nread += int64(n)
	return n, err
}

// readErrBody remembers the error reading the client's body, which Request.Write
// reports wrapped beyond errors.As; the proxy needs it to answer 413, not 502.
type readErrBody struct {
	io.ReadCloser
	err error
}

func (b *readErrBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// replayable is net/http's rule for resending a request on a new connection.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// canonicalAddr is host:port of u, with the scheme's default port.
func canonicalAddr(u interface {
	Hostname() string
	Port() string
}) string {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

var aLongTimeAgo = time.Unix(1, 0)
