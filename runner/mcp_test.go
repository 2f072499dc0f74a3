package runner

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/slogate/slogate/guardstub/ioc"
	"github.com/slogate/slogate/scenarios"
)

// MCP is a kind of target: real sessions (initialize through the go-sdk
// client), then tools/call requests carrying each client's session id.
func TestMCPRequestsAgainstRealServer(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		url, stop, err := ioc.StartLocal(context.Background(), map[string]string{"PROVIDER_LATENCY_SCALE": "0", "RATE_LIMIT_SCALE": "0"})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		doc := `name: mcp
target: {url: "` + url + `"}
clients: {count: 5}
requests:
  - {name: good, kind: mcp, path: /mcp, tool: analyze_iocs, arguments: '{"ioc_string": {{ioc}}}', generate: {min: 1, max: 1}}
  - {name: unknown-tool, kind: mcp, path: /mcp, tool: no_such_tool, arguments: '{}'}
phases: [{kind: constant, rate: 40, duration: 2s}]
`
		s, err := scenarios.Parse("mcp.yaml", "", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		good, bad := res.Endpoint("good"), res.Endpoint("unknown-tool")
		if good.Requests == 0 || bad.Requests == 0 {
			t.Fatalf("mix did not send both: %d / %d", good.Requests, bad.Requests)
		}
		if good.SuccessRate != 1 {
			t.Errorf("analyze_iocs over MCP: success %.3f, errors %v", good.SuccessRate, good.Errors)
		}
		if bad.ErrorRate != 1 {
			t.Errorf("unknown tool: error rate %.3f, want 1 (an HTTP 200 carrying a JSON-RPC error is an error)", bad.ErrorRate)
		}
		for msg := range bad.Errors {
			if !strings.HasPrefix(msg, "mcp:") {
				t.Errorf("unexpected error %q", msg)
			}
		}
	})
}

// MCP through the bundled guard (guard+ioc): the sessions are set up and the
// calls answered through the guard's upstream client, and a client over the
// guard's limit is refused (blocked), not failed.
func TestMCPThroughTheGuard(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		doc := `name: mcp-via-guard
target: {service: guard+ioc, env: {PROVIDER_LATENCY_SCALE: "0", RATE_LIMIT_SCALE: "0", REQUEST_RATE_LIMIT: "15", BURST_MULTIPLIER: "1"}}
clients: {count: 4}
requests:
  - {name: analyze, kind: mcp, path: /mcp, tool: analyze_iocs, arguments: '{"ioc_string": {{ioc}}}', generate: {min: 1, max: 1}}
outcomes: {success: ["200-399"], blocked: [429, 403]}
phases: [{kind: constant, rate: 40, duration: 2s}]
`
		s, err := scenarios.Parse("mcp-via-guard.yaml", "", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		// 80 calls from 4 clients = 20 each; the guard allows 15 requests a minute per
		// client, and the session's set-up (initialize, initialized) counts too. So
		// each client gets fewer than 15 calls through and the rest are refused.
		sum := res.Summary
		if sum.Requests != 80 || sum.ErrorCount != 0 {
			t.Fatalf("requests %d, errors %d %v, want 80 and none", sum.Requests, sum.ErrorCount, sum.Errors)
		}
		if sum.SuccessCount == 0 || sum.SuccessCount >= 4*15 {
			t.Errorf("%d calls got through the guard, want some and fewer than 60 (4 clients × 15)", sum.SuccessCount)
		}
		if sum.BlockedCount != 80-sum.SuccessCount {
			t.Errorf("blocked %d, want the other %d (429/403 from the guard, never errors)", sum.BlockedCount, 80-sum.SuccessCount)
		}
	})
}

// MCP sessions reach an HTTPS target with the run's TLS settings (--ca,
// --insecure), like the load itself: here the real IOC service behind a
// TLS-terminating proxy with a certificate no system trusts.
func TestMCPOverHTTPSUsesTheRunsTLS(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		url, stop, err := ioc.StartLocal(context.Background(), map[string]string{"PROVIDER_LATENCY_SCALE": "0", "RATE_LIMIT_SCALE": "0"})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		upstream, _ := neturl.Parse(url)
		front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(upstream))
		defer front.Close()
		front.Config.ErrorLog = log.New(io.Discard, "", 0)
		doc := `name: mcp-tls
target: {url: "` + front.URL + `"}
requests:
  - {name: good, kind: mcp, path: /mcp, tool: analyze_iocs, arguments: '{"ioc_string": {{ioc}}}', generate: {min: 1, max: 1}}
phases: [{kind: constant, rate: 20, duration: 1s}]
`
		s, err := scenarios.Parse("mcp-tls.yaml", "", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), s, wired(Options{})); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("without --insecure or --ca: error %v, want the certificate named", err)
		}
		res, err := Run(context.Background(), s, wired(Options{TLS: &tls.Config{InsecureSkipVerify: true}}))
		if err != nil {
			t.Fatalf("with --insecure: %v", err)
		}
		if good := res.Endpoint("good"); good.Requests != 20 || good.SuccessRate != 1 {
			t.Errorf("with --insecure: %d requests, success %.2f, errors %v", good.Requests, good.SuccessRate, good.Errors)
		}
	})
}
