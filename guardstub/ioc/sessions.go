package ioc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sessionLimiter caps the MCP sessions of /mcp in front of the go-sdk's
// streamable handler, which keeps every session it creates until the client
// sends DELETE or the session idles for MCP_SESSION_TIMEOUT. Without a cap one
// client creating sessions in a loop holds memory without bound (56k sessions
// took the service from 200 MB to 1 GB; a session holds ~5 KB of heap and the
// stacks of its goroutines, ~10 KB in all with the waiter below).
//
// An initialize POST (one without an Mcp-Session-Id header) is what creates a
// lasting session, so each takes a slot before it reaches the handler: one of
// MCP_MAX_SESSIONS in all and one of MCP_MAX_SESSIONS_PER_CLIENT for its
// client (the socket peer's address; clients behind one proxy share its
// slots). Beyond either cap the request is refused with a JSON-RPC error
// naming the limit: 429 for the client's own cap, 503 when the service is
// full, with Retry-After. The slot is held while the session lives and freed
// when it closes (DELETE, idle timeout, failed initialize or Close of the
// Service): a goroutine per session waits for its end, since the SDK has no
// close hook. So at most MCP_MAX_SESSIONS sessions, in creation or open, exist
// at any time.
type sessionLimiter struct {
	next         http.Handler
	server       *mcp.Server
	maxTotal     int
	maxPerClient int
	idleTimeout  time.Duration
	maxBodyBytes int64
	metrics      *metrics

	mu        sync.Mutex
	total     int
	perClient map[string]int // only clients holding a slot: at most maxTotal keys
}

// sessionIDHeader is the streamable HTTP transport's session header.
const sessionIDHeader = "Mcp-Session-Id"

// sessionLimitCode is the JSON-RPC error code of a refused session: the
// implementation-defined server error range is -32000..-32099.
const sessionLimitCode = -32000

func newSessionLimiter(next http.Handler, server *mcp.Server, cfg Config, m *metrics) *sessionLimiter {
	return &sessionLimiter{next: next, server: server, maxTotal: cfg.MCPMaxSessions, maxPerClient: cfg.MCPMaxSessionsPerClient,
		idleTimeout: cfg.MCPSessionTimeout, maxBodyBytes: cfg.MaxBodyBytes, metrics: m, perClient: map[string]int{}}
}

func (l *sessionLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get(sessionIDHeader) != "" {
		l.next.ServeHTTP(w, r)
		return
	}
	// The handler makes a session for every POST without a session ID, but
	// keeps only one its first request initialized; the others (the go-sdk
	// client's server/discover probe, a malformed request) die with their
	// request. So an initialize takes a slot, anything else passes.
	body, err := io.ReadAll(io.LimitReader(r.Body, l.maxBodyBytes+1))
	if err != nil {
		http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	// The handler reads the body again, and enforces MAX_BODY_BYTES itself.
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	client := clientAddress(r)
	slot := isInitialize(body)
	if slot {
		if status, msg := l.acquire(client); status != 0 {
			l.refuse(w, body, status, msg)
			return
		}
	}
	l.next.ServeHTTP(w, r)
	// The handler has answered: a session that initialized is in the server's
	// list under the ID it sent back (one that did not was closed by the
	// handler, though it may linger in the list for a moment).
	if ss := l.initialized(w.Header().Get(sessionIDHeader)); ss != nil {
		if !slot { // not an initialize, yet a session stayed: no slot, no session
			_ = ss.Close()
			return
		}
		// The session's own lifetime bounds this goroutine: Wait returns when
		// it closes, for whatever reason.
		go func() {
			_ = ss.Wait()
			l.release(client)
		}()
		return
	}
	if slot {
		l.release(client)
	}
}

// initialized returns the initialized session with the given ID, or nil.
func (l *sessionLimiter) initialized(id string) *mcp.ServerSession {
	if id == "" {
		return nil
	}
	for ss := range l.server.Sessions() {
		if ss.ID() == id && ss.InitializeParams() != nil {
			return ss
		}
	}
	return nil
}

// isInitialize reports whether body is a JSON-RPC initialize request (alone or
// in a batch).
func isInitialize(body []byte) bool {
	type message struct {
		Method string `json:"method"`
	}
	var one message
	if json.Unmarshal(body, &one) == nil {
		return one.Method == "initialize"
	}
	var batch []message
	if json.Unmarshal(body, &batch) != nil {
		return false
	}
	for _, m := range batch {
		if m.Method == "initialize" {
			return true
		}
	}
	return false
}

// acquire takes a slot for client, or says why not: an HTTP status and the
// message for the JSON-RPC error.
func (l *sessionLimiter) acquire(client string) (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perClient[client] >= l.maxPerClient {
		l.metrics.mcpSessionsRefused.WithLabelValues("per_client").Inc()
		return http.StatusTooManyRequests, fmt.Sprintf(
			"MCP session limit reached: client %s already holds %d sessions (MCP_MAX_SESSIONS_PER_CLIENT=%d); reuse a session, close unused ones (DELETE /mcp with their Mcp-Session-Id) or wait for idle ones to expire (MCP_SESSION_TIMEOUT=%s)",
			client, l.perClient[client], l.maxPerClient, l.idleTimeoutText())
	}
	if l.total >= l.maxTotal {
		l.metrics.mcpSessionsRefused.WithLabelValues("total").Inc()
		return http.StatusServiceUnavailable, fmt.Sprintf(
			"MCP session limit reached: the service holds %d sessions (MCP_MAX_SESSIONS=%d); retry later, idle sessions expire after MCP_SESSION_TIMEOUT=%s",
			l.total, l.maxTotal, l.idleTimeoutText())
	}
	l.perClient[client]++
	l.total++
	l.metrics.mcpSessions.Inc()
	return 0, ""
}

func (l *sessionLimiter) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perClient[client]--; l.perClient[client] <= 0 {
		delete(l.perClient, client)
	}
	l.total--
	l.metrics.mcpSessions.Dec()
}

// open returns the slots held in all and the number of clients holding them.
func (l *sessionLimiter) open() (total, clients int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, len(l.perClient)
}

func (l *sessionLimiter) idleTimeoutText() string {
	if l.idleTimeout <= 0 {
		return "0 (never)"
	}
	return l.idleTimeout.String()
}

// refuse answers a session-creating POST beyond a cap with a JSON-RPC error
// response carrying the request's id (null when the body has none), so a
// client sees which limit it hit.
func (l *sessionLimiter) refuse(w http.ResponseWriter, body []byte, status int, msg string) {
	id := json.RawMessage("null")
	var req struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &req) == nil && validJSONRPCID(req.ID) {
		id = req.ID
	}
	resp, err := json.Marshal(jsonrpcErrorResponse{JSONRPC: "2.0", ID: id, Error: jsonrpcError{Code: sessionLimitCode, Message: msg}})
	if err != nil { // cannot happen: every field is a string, a number or valid JSON
		http.Error(w, msg, status)
		return
	}
	if l.idleTimeout > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int64(math.Ceil(l.idleTimeout.Seconds()))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(resp, '\n'))
}

// jsonrpcErrorResponse is a JSON-RPC 2.0 error response.
type jsonrpcErrorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   jsonrpcError    `json:"error"`
}

type jsonrpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// validJSONRPCID reports whether raw is a JSON-RPC request id: a string or a
// number.
func validJSONRPCID(raw json.RawMessage) bool {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

// clientAddress is the client a session slot is counted against: the socket
// peer's address without the port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
