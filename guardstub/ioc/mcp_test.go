package ioc

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPSession drives the service with the go-sdk client over streamable
// HTTP: initialize, tools/list, tools/call.
func TestMCPSession(t *testing.T) {
	cfg := testConfig()
	_, srv, _ := startService(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	client := mcp.NewClient(&mcp.Implementation{Name: "slogate-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	defer session.Close()
	if init := session.InitializeResult(); init == nil || init.ServerInfo.Name != "ThreatIntel" {
		t.Errorf("server info: %+v", init)
	}

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if len(tools.Tools) != 1 || tools.Tools[0].Name != "analyze_iocs" {
		t.Fatalf("tools: %+v", tools.Tools)
	}
	schema, _ := json.Marshal(tools.Tools[0].InputSchema)
	for _, arg := range []string{"ioc_string", "iocs", "output_format", "include_stix", "include_graph"} {
		if !strings.Contains(string(schema), `"`+arg+`"`) {
			t.Errorf("input schema lacks %s: %s", arg, schema)
		}
	}

	text := func(res *mcp.CallToolResult) string {
		if len(res.Content) != 1 {
			t.Fatalf("want one content item, got %d", len(res.Content))
		}
		tc, ok := res.Content[0].(*mcp.TextContent)
		if !ok {
			t.Fatalf("content is %T", res.Content[0])
		}
		return tc.Text
	}

	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "analyze_iocs", Arguments: map[string]any{
		"iocs":          []any{"8.8.8.8", map[string]any{"value": "example.com", "type": "ignored"}, "nope"},
		"ioc_string":    "44d88612fea8a8f36de82e1278abb02f",
		"output_format": "json",
	}})
	if err != nil || res.IsError {
		t.Fatalf("tools/call json: %v %+v", err, res)
	}
	var rep Report
	if err := json.Unmarshal([]byte(text(res)), &rep); err != nil {
		t.Fatalf("json report: %v", err)
	}
	var types []string
	for _, i := range rep.IOCs {
		types = append(types, i.Type)
	}
	if !slices.Equal(types, []string{"ip", "domain", "md5"}) || len(rep.Errors) != 1 || rep.Errors[0].Value != "nope" {
		t.Errorf("MCP report: types %v errors %+v", types, rep.Errors)
	}

	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "analyze_iocs", Arguments: map[string]any{"ioc_string": "8.8.8.8"}})
	if err != nil || res.IsError || !strings.Contains(text(res), "# IOC Analysis Report") || !strings.Contains(text(res), "## STIX-like JSON Output") {
		t.Errorf("default markdown: %v %+v", err, res)
	}

	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "analyze_iocs", Arguments: map[string]any{}})
	if err != nil || !res.IsError || text(res) != "Error: Please provide at least one IOC for analysis." {
		t.Errorf("no IOCs: %v %+v", err, res)
	}
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "analyze_iocs", Arguments: map[string]any{"ioc_string": "nope localhost"}})
	if err != nil || !res.IsError || !strings.HasPrefix(text(res), "Error: No valid IOCs could be processed.") {
		t.Errorf("all invalid: %v %+v", err, res)
	}
	// Arguments that break the schema are refused, as a protocol or a tool error.
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "analyze_iocs", Arguments: map[string]any{"iocs": "8.8.8.8"}})
	if err == nil && !res.IsError {
		t.Errorf("iocs as a string was accepted: %+v", res)
	}
}

// TestMCPNullArguments: "arguments": null in a tools/call used to panic in the
// SDK's schema-default step (a nil map written to) on a goroutine without
// recover, killing the whole service. Now it is a tool error, and the session
// and the service go on.
func TestMCPNullArguments(t *testing.T) {
	svc, srv, _ := startService(t, testConfig())
	client := srv.Client()
	status, sid, body := mcpPost(t, client, srv, "", initializeBody(1))
	if status != http.StatusOK || sid == "" {
		t.Fatalf("initialize: status %d: %s", status, body)
	}
	if status, _, body := mcpPost(t, client, srv, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: status %d: %s", status, body)
	}
	for _, tt := range []struct{ args, want string }{
		{`null`, "Please provide at least one IOC"},
		{`{}`, "Please provide at least one IOC"},
		{`{"ioc_string": null}`, `validating /properties/ioc_string`},
	} {
		status, _, body = mcpPost(t, client, srv, sid,
			`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"analyze_iocs","arguments":`+tt.args+`}}`)
		if status != http.StatusOK || !strings.Contains(body, `"id":5`) || !strings.Contains(body, `"isError":true`) || !strings.Contains(body, tt.want) {
			t.Errorf("arguments %s: status %d: %s, want a tool error saying %q", tt.args, status, body, tt.want)
		}
	}
	status, _, body = mcpPost(t, client, srv, sid,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"analyze_iocs","arguments":{"ioc_string":"8.8.8.8"}}}`)
	if status != http.StatusOK || !strings.Contains(body, "# IOC Analysis Report") {
		t.Errorf("a call after the null arguments: status %d: %s", status, body)
	}
	if countSessions(svc) != 1 {
		t.Errorf("%d sessions, want 1", countSessions(svc))
	}
}

// TestMCPRecoverPanics: a panic in an MCP method handler becomes a JSON-RPC
// error instead of ending the process.
func TestMCPRecoverPanics(t *testing.T) {
	svc, _, _ := startService(t, testConfig())
	handler := svc.recoverPanics(func(context.Context, string, mcp.Request) (mcp.Result, error) { panic("boom") })
	res, err := handler(context.Background(), "tools/call", nil)
	if res != nil || err == nil || !strings.Contains(err.Error(), "internal error handling tools/call") {
		t.Errorf("after a panic: %v, %v; want an internal error", res, err)
	}
}
