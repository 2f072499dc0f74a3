package ioc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// initializeBody is a raw JSON-RPC initialize request with the given id.
func initializeBody(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw-test","version":"0"}}}`, id)
}

// mcpPost sends a raw streamable-HTTP POST to /mcp (with sessionID unless
// empty) and returns the status, the Mcp-Session-Id answered and the body.
func mcpPost(t *testing.T, client *http.Client, srv *httptest.Server, sessionID, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sessionID != "" {
		req.Header.Set(sessionIDHeader, sessionID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /mcp: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading /mcp answer: %v", err)
	}
	return resp.StatusCode, resp.Header.Get(sessionIDHeader), string(b)
}

// mcpDelete ends a session as a client does.
func mcpDelete(t *testing.T, client *http.Client, srv *httptest.Server, sessionID string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/mcp", nil)
	req.Header.Set(sessionIDHeader, sessionID)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("DELETE /mcp: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /mcp: status %d, want 204", resp.StatusCode)
	}
}

func countSessions(svc *Service) int {
	n := 0
	for range svc.mcpServer.Sessions() {
		n++
	}
	return n
}

// eventually polls cond every 20 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkRefusal asserts a JSON-RPC error response for request id naming the limit.
func checkRefusal(t *testing.T, body string, id int, limit string) {
	t.Helper()
	var resp jsonrpcErrorResponse
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("refusal is not JSON-RPC: %v: %q", err, body)
	}
	if resp.JSONRPC != "2.0" || string(resp.ID) != fmt.Sprint(id) || resp.Error.Code != sessionLimitCode ||
		!strings.Contains(resp.Error.Message, "MCP session limit reached") || !strings.Contains(resp.Error.Message, limit) {
		t.Fatalf("refusal %q: want a JSON-RPC error for id %d naming %s", body, id, limit)
	}
}

// TestMCPSessionsPerClientCap: one client creating sessions in a loop gets
// its cap and then a clear 429, the sessions held and the memory stay flat
// while it keeps trying, and a session it closes frees a slot. Before the cap,
// every initialize created a session kept for MCP_SESSION_TIMEOUT.
func TestMCPSessionsPerClientCap(t *testing.T) {
	const perClient, excess = 20, 600
	cfg := testConfig()
	cfg.MCPMaxSessions, cfg.MCPMaxSessionsPerClient = 100, perClient
	svc, srv, _ := startService(t, cfg)
	client := srv.Client()

	var ids []string
	for i := range perClient {
		status, id, body := mcpPost(t, client, srv, "", initializeBody(i))
		if status != http.StatusOK || id == "" {
			t.Fatalf("initialize %d within the cap: status %d, session %q: %s", i, status, id, body)
		}
		ids = append(ids, id)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range excess {
		status, id, body := mcpPost(t, client, srv, "", initializeBody(perClient+i))
		if status != http.StatusTooManyRequests || id != "" {
			t.Fatalf("initialize %d beyond the cap: status %d, session %q, want 429 and no session", perClient+i, status, id)
		}
		if i == 0 {
			checkRefusal(t, body, perClient+i, fmt.Sprintf("MCP_MAX_SESSIONS_PER_CLIENT=%d", perClient))
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// An open session holds ~5 KB of heap and goroutine stacks of ~4-6 KB:
	// 600 kept sessions would add over 5 MB; refused ones leave nothing behind.
	grew := int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
	if grew > 3<<19 {
		t.Errorf("heap and stacks grew by %d KB over %d refused initializes, want < 1.5 MB", grew>>10, excess)
	}
	eventually(t, fmt.Sprintf("the server holds %d sessions", perClient), func() bool { return countSessions(svc) == perClient })
	if total, clients := svc.sessions.open(); total != perClient || clients != 1 {
		t.Errorf("slots held: %d by %d clients, want %d by 1", total, clients, perClient)
	}
	if got := counter(t, svc, "ioc_mcp_sessions_refused_total", map[string]string{"limit": "per_client"}); got != excess {
		t.Errorf("ioc_mcp_sessions_refused_total{limit=per_client} = %v, want %d", got, excess)
	}
	if got := counter(t, svc, "ioc_mcp_sessions", nil); got != perClient {
		t.Errorf("ioc_mcp_sessions = %v, want %d", got, perClient)
	}

	// A session in use keeps working at the cap.
	if status, _, body := mcpPost(t, client, srv, ids[0], `{"jsonrpc":"2.0","id":99,"method":"ping"}`); status != http.StatusOK || !strings.Contains(body, `"id":99`) {
		t.Errorf("ping on an open session at the cap: status %d: %s", status, body)
	}

	// DELETE frees one slot: exactly one new session fits again.
	mcpDelete(t, client, srv, ids[0])
	eventually(t, "the deleted session's slot is freed", func() bool {
		total, _ := svc.sessions.open()
		return total == perClient-1
	})
	if status, id, body := mcpPost(t, client, srv, "", initializeBody(1000)); status != http.StatusOK || id == "" {
		t.Fatalf("initialize after DELETE: status %d: %s", status, body)
	}
	if status, _, _ := mcpPost(t, client, srv, "", initializeBody(1001)); status != http.StatusTooManyRequests {
		t.Errorf("second initialize after one DELETE: status %d, want 429", status)
	}
}

// TestMCPSessionsTotalCap: the service-wide cap answers 503 naming
// MCP_MAX_SESSIONS, and the go-sdk client sees the refusal as an error.
func TestMCPSessionsTotalCap(t *testing.T) {
	const total = 8
	cfg := testConfig()
	cfg.MCPMaxSessions, cfg.MCPMaxSessionsPerClient = total, 1000
	svc, srv, _ := startService(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	connect := func() (*mcp.ClientSession, error) {
		c := mcp.NewClient(&mcp.Implementation{Name: "slogate-test", Version: "0"}, nil)
		return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	}
	var sessions []*mcp.ClientSession
	defer func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}()
	for i := range total {
		s, err := connect()
		if err != nil {
			t.Fatalf("session %d within the cap: %v", i, err)
		}
		sessions = append(sessions, s)
	}
	for i := range 5 {
		if s, err := connect(); err == nil {
			sessions = append(sessions, s)
			t.Fatalf("session %d beyond MCP_MAX_SESSIONS=%d was opened", total+i, total)
		} else if !strings.Contains(err.Error(), http.StatusText(http.StatusServiceUnavailable)) {
			t.Errorf("refused session: %v, want %s", err, http.StatusText(http.StatusServiceUnavailable))
		}
	}
	status, _, body := mcpPost(t, srv.Client(), srv, "", initializeBody(7))
	if status != http.StatusServiceUnavailable {
		t.Fatalf("raw initialize at the total cap: status %d, want 503", status)
	}
	checkRefusal(t, body, 7, fmt.Sprintf("MCP_MAX_SESSIONS=%d", total))
	// The go-sdk client probes with server/discover first; the handler makes a
	// throwaway session for each probe and closes it, so the count settles.
	eventually(t, fmt.Sprintf("the server holds %d sessions", total), func() bool { return countSessions(svc) == total })

	// Closing a client session (DELETE) frees its slot for the next client.
	_ = sessions[0].Close()
	sessions = sessions[1:]
	eventually(t, "the closed session's slot is freed", func() bool {
		n, _ := svc.sessions.open()
		return n == total-1
	})
	s, err := connect()
	if err != nil {
		t.Fatalf("session after a close: %v", err)
	}
	sessions = append(sessions, s)
	if _, err := s.ListTools(ctx, nil); err != nil {
		t.Errorf("tools/list on the new session: %v", err)
	}
}

// TestMCPIdleSessionFreesSlot: a session idle for MCP_SESSION_TIMEOUT is
// closed and its slot taken by a new one; a session that failed to
// initialize never holds one.
func TestMCPIdleSessionFreesSlot(t *testing.T) {
	cfg := testConfig()
	cfg.MCPMaxSessions, cfg.MCPMaxSessionsPerClient = 10, 2
	cfg.MCPSessionTimeout = 200 * time.Millisecond
	svc, srv, _ := startService(t, cfg)
	client := srv.Client()

	// Requests that open no session hold no slot: an initialize the server
	// refuses, and other methods sent without a session.
	for i, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":"not an object"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}`,
	} {
		for range 3 {
			if status, _, answer := mcpPost(t, client, srv, "", body); !strings.Contains(answer, `"error"`) {
				t.Fatalf("request %d without a session: status %d: %s, want a JSON-RPC error", i, status, answer)
			}
		}
	}
	eventually(t, "requests that open no session hold no slot", func() bool {
		n, _ := svc.sessions.open()
		return n == 0 && countSessions(svc) == 0
	})

	for i := range 2 {
		if status, _, body := mcpPost(t, client, srv, "", initializeBody(i)); status != http.StatusOK {
			t.Fatalf("initialize %d: status %d: %s", i, status, body)
		}
	}
	status, _, body := mcpPost(t, client, srv, "", initializeBody(2))
	if status != http.StatusTooManyRequests {
		t.Fatalf("third initialize: status %d, want 429", status)
	}
	checkRefusal(t, body, 2, "MCP_SESSION_TIMEOUT=200ms")
	eventually(t, "idle sessions expire and free their slots", func() bool {
		n, _ := svc.sessions.open()
		return n == 0 && countSessions(svc) == 0
	})
	if status, _, body := mcpPost(t, client, srv, "", initializeBody(3)); status != http.StatusOK {
		t.Fatalf("initialize after the idle timeout: status %d: %s", status, body)
	}
}
