package ioc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzDetect: detection never panics, and an accepted IOC's canonical form is
// accepted as the same kind (the cache key names the same indicator).
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "999.1.1.1", "2001:db8::1", "fe80::1%eth0", "example.com", "Example.COM",
		"https://example.com:8443/a?b=c#d", "example.com/x", "[::1]", "http://[::1]:80/", "10.0.0.0/8",
		"44d88612fea8a8f36de82e1278abb02f", "xn--80ak6aa92e.com", "a_b.c", "-.-", "://", "http://@/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = DetectOriginalKind(s)
		k, err := Detect(s)
		if (err == nil) != (k != KindUnknown) {
			t.Fatalf("Detect(%q) = %v, %v: kind and error disagree", s, k, err)
		}
		if err != nil {
			return
		}
		c := canonical(k, s, DetectStrict)
		if k2, err := Detect(c); err != nil || k2 != k {
			t.Fatalf("canonical %q of %q (%v) detects as %v, %v", c, s, k, k2, err)
		}
	})
}

// FuzzParseBody: body parsing never panics and yields clean, distinct values.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{`{"iocs": ["8.8.8.8"]}`, `["a.com", {"value": "b.com"}]`, `"x y"`, `8.8.8.8, a.com`,
		`{"ioc_string": "a;b,c", "iocs": []}`, `{"iocs": [`, `[{"type": 1}]`, "", "\x00"} {
		f.Add("application/json", s)
		f.Add("text/plain", s)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, err := ParseBody(contentType, []byte(body))
		if err != nil {
			return
		}
		vals, _ := req.values()
		seen := map[string]bool{}
		for _, v := range vals {
			if v == "" || v != strings.TrimSpace(v) || seen[v] {
				t.Fatalf("bad value %q in %q", v, vals)
			}
			seen[v] = true
		}
	})
}

// FuzzAnalyzeHTTP: POST /analyze with any body and content type answers a
// client error or a report, never a 5xx, never a formatting error ("%!"); a
// JSON answer is valid JSON, and a JSON report accounts for every input item
// (analysed or rejected).
func FuzzAnalyzeHTTP(f *testing.F) {
	for _, s := range []string{`{"iocs": ["8.8.8.8", "example.com", "nope"]}`, `["2001:db8::1", {"value": "http://a.example/x"}]`,
		`{"ioc_string": "44d88612fea8a8f36de82e1278abb02f;a.com", "output_format": "json", "include_stix": false}`,
		`{"iocs": [""]}`, `{"ioc": ["typo.com"]}`, "8.8.8.8 a.com\nb.com", `{"iocs": [1]}`} {
		f.Add("application/json", s)
		f.Add("text/plain", s)
	}
	svc := fuzzService(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !strings.Contains(body, "%") && strings.Contains(rec.Body.String(), "%!") { // echoed input aside
			t.Fatalf("formatting error in the answer: %q", rec.Body)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d answer is %s, want JSON", rec.Code, rec.Header().Get("Content-Type"))
			}
			return // a markdown or HTML report
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d answer is not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		var rep Report
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatalf("report: %v", err)
		}
		parsed, err := ParseBody(contentType, []byte(body))
		if err != nil {
			t.Fatalf("200 for a body ParseBody refuses (%v): %q", err, body)
		}
		vals, itemErrs := parsed.values()
		if len(rep.IOCs)+len(rep.Errors) != len(vals)+len(itemErrs) || len(rep.IOCs) == 0 {
			t.Fatalf("%d IOCs + %d errors reported for %d values + %d item errors: %q", len(rep.IOCs), len(rep.Errors), len(vals), len(itemErrs), body)
		}
	})
}

// FuzzMCPRequest posts any JSON-RPC body to /mcp, once without a session
// (what creates sessions, behind the session caps) and once in an initialized
// session. Neither may crash the service, hang, answer a 5xx other than the
// session cap's 503, or leave more sessions than the cap; a session the input
// opened is closed again with DELETE.
func FuzzMCPRequest(f *testing.F) {
	for _, s := range []string{
		initializeBody(1),
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"analyze_iocs","arguments":{"ioc_string":"8.8.8.8"}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":null}`,
		`{"jsonrpc":"1.0","id":{},"method":7}`,
		`{`, ``,
	} {
		f.Add(s)
	}
	svc := fuzzService(f)
	session := newFuzzSession(f, svc)
	f.Fuzz(func(t *testing.T, body string) {
		for _, sid := range []string{"", session.id(t)} {
			rec := mcpRecord(t, svc, fuzzInputAddr, sid, body)
			if rec.Code >= 500 && !(rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), "MCP_MAX_SESSIONS=")) {
				t.Fatalf("session %q: status %d for %q: %s", sid, rec.Code, body, rec.Body)
			}
			if rec.Code == http.StatusTooManyRequests || rec.Code == http.StatusServiceUnavailable {
				var resp jsonrpcErrorResponse
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Error.Code != sessionLimitCode {
					t.Fatalf("refusal %d is not the session limit's JSON-RPC error: %q", rec.Code, rec.Body)
				}
			}
			if opened := rec.Header().Get(sessionIDHeader); sid == "" && svc.sessions.initialized(opened) != nil {
				mcpDeleteRecord(t, svc, opened)
			}
		}
		if n := countSessions(svc); n > svc.cfg.MCPMaxSessions+1 { // +1: a closed one may linger a moment
			t.Fatalf("%d sessions open, the cap is %d", n, svc.cfg.MCPMaxSessions)
		}
	})
}

// FuzzMCPToolArguments calls analyze_iocs with any arguments: the answer is
// one JSON-RPC response to the call, a result or an error, and a successful
// JSON report accounts for every IOC.
func FuzzMCPToolArguments(f *testing.F) {
	for _, s := range []string{`{"ioc_string": "8.8.8.8 example.com"}`, `{"iocs": ["8.8.8.8", {"value": "a.com", "type": "x"}], "output_format": "json"}`,
		`{"iocs": "8.8.8.8"}`, `{"output_format": "pdf", "ioc_string": "a.com"}`, `{}`, `{"iocs": [{"type": "ip"}]}`,
		`{"ioc_string": "nope localhost"}`, `{"include_stix": "yes", "ioc_string": "a.com"}`, `{"extra": 1}`, `[]`, `null`} {
		f.Add(s)
	}
	svc := fuzzService(f)
	session := newFuzzSession(f, svc)
	f.Fuzz(func(t *testing.T, args string) {
		if !json.Valid([]byte(args)) {
			return // the request would not be JSON-RPC at all; FuzzMCPRequest covers that
		}
		body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"analyze_iocs","arguments":` + args + `}}`
		rec := mcpRecord(t, svc, fuzzInputAddr, session.id(t), body)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for arguments %q: %s", rec.Code, args, rec.Body)
		}
		msgs := sseMessages(t, rec)
		if len(msgs) != 1 {
			t.Fatalf("%d messages for arguments %q, want 1: %s", len(msgs), args, rec.Body)
		}
		var resp struct {
			ID     json.RawMessage     `json:"id"`
			Result *mcp.CallToolResult `json:"result"`
			Error  *jsonrpcError       `json:"error"`
		}
		if err := json.Unmarshal(msgs[0], &resp); err != nil {
			t.Fatalf("answer %s: %v", msgs[0], err)
		}
		if string(resp.ID) != "7" || (resp.Result == nil) == (resp.Error == nil) {
			t.Fatalf("answer to call 7 for arguments %q: %s", args, msgs[0])
		}
		if resp.Result == nil || resp.Result.IsError || !strings.Contains(args, `"json"`) {
			return
		}
		var in struct {
			OutputFormat string `json:"output_format"`
		}
		if json.Unmarshal([]byte(args), &in) != nil || strings.ToLower(strings.TrimSpace(in.OutputFormat)) != "json" {
			return
		}
		tc, ok := resp.Result.Content[0].(*mcp.TextContent)
		var rep Report
		if !ok || json.Unmarshal([]byte(tc.Text), &rep) != nil || len(rep.IOCs) == 0 {
			t.Fatalf("json report for arguments %q: %s", args, msgs[0])
		}
	})
}

// fuzzService is a Service without latency, rate limits or real waiting, with
// small caps so a fuzz run reaches them, and a short idle timeout.
func fuzzService(f *testing.F) *Service {
	cfg := testConfig()
	cfg.RateLimitScale = 0
	cfg.BatchMaxIOCs = 200
	cfg.MaxBodyBytes = 64 << 10
	cfg.MCPMaxSessions, cfg.MCPMaxSessionsPerClient = 32, 16
	cfg.MCPSessionTimeout = 2 * time.Second
	svc, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = svc.Close() })
	return svc
}

// The fuzz inputs' requests and the fuzz session's come from different
// clients, so sessions the inputs open never take the fuzz session's slots.
const (
	fuzzInputAddr   = "192.0.2.1:40000"
	fuzzSessionAddr = "192.0.2.2:40000"
)

// mcpRecord sends one streamable-HTTP POST to the service in-process. An
// answer must come within 10 s (the handler waits for the request's context,
// so a request the server never answers ends there and fails the input).
func mcpRecord(t testing.TB, svc *Service, from, sessionID, body string) *httptest.ResponseRecorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mcp", strings.NewReader(body))
	req.RemoteAddr = from
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sessionID != "" {
		req.Header.Set(sessionIDHeader, sessionID)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	if ctx.Err() != nil {
		t.Fatalf("no answer within 10 s to %q (session %q): status %d: %q", body, sessionID, rec.Code, rec.Body)
	}
	return rec
}

// mcpDeleteRecord ends a session in-process, as a client's DELETE does.
func mcpDeleteRecord(t testing.TB, svc *Service, sessionID string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodDelete, "/mcp", nil)
	req.Header.Set(sessionIDHeader, sessionID)
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE session %q: status %d: %s", sessionID, rec.Code, rec.Body)
	}
}

// fuzzSession is one initialized MCP session, made again when the fuzz input
// or the idle timeout ended it.
type fuzzSession struct {
	svc     *Service
	current string
}

func newFuzzSession(f *testing.F, svc *Service) *fuzzSession {
	s := &fuzzSession{svc: svc}
	if err := s.open(f); err != nil {
		f.Fatal(err)
	}
	return s
}

func (s *fuzzSession) open(t testing.TB) error {
	rec := mcpRecord(t, s.svc, fuzzSessionAddr, "", initializeBody(1))
	id := rec.Header().Get(sessionIDHeader)
	if rec.Code != http.StatusOK || id == "" {
		return fmt.Errorf("initialize: status %d: %s", rec.Code, rec.Body)
	}
	if rec := mcpRecord(t, s.svc, fuzzSessionAddr, id, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); rec.Code != http.StatusAccepted {
		return fmt.Errorf("notifications/initialized: status %d: %s", rec.Code, rec.Body)
	}
	s.current = id
	return nil
}

func (s *fuzzSession) id(t *testing.T) string {
	if s.svc.sessions.initialized(s.current) != nil {
		return s.current
	}
	// Expired, or closed by the last input: open another (bounded).
	deadline := time.Now().Add(3 * s.svc.cfg.MCPSessionTimeout)
	for {
		err := s.open(t)
		if err == nil {
			return s.current
		}
		if time.Now().After(deadline) {
			t.Fatalf("reopening the fuzz session: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sseMessages returns the JSON-RPC messages of a streamable-HTTP answer: the
// data lines of an event stream, or a plain JSON body.
func sseMessages(t *testing.T, rec *httptest.ResponseRecorder) [][]byte {
	t.Helper()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		return [][]byte{rec.Body.Bytes()}
	}
	var msgs [][]byte
	for line := range strings.Lines(rec.Body.String()) {
		if data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			msgs = append(msgs, []byte(data))
		}
	}
	return msgs
}
