package plan

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slogate/slogate/scenarios"
)

// MaxMCPSessions bounds how many MCP sessions a run opens before the load,
// over all its MCP requests: one per simulated client identity, each MCP
// request getting an equal share at most (identities beyond it share
// sessions round-robin).
const MaxMCPSessions = 1000

// mcpSessionCounts returns how many sessions each MCP request (by index)
// opens: min(its clients, its share of MaxMCPSessions), at least one.
func mcpSessionCounts(s *scenarios.Scenario) map[int]int {
	var mcp []int
	for e := range s.Requests {
		if s.Requests[e].Kind == "mcp" {
			mcp = append(mcp, e)
		}
	}
	counts := map[int]int{}
	for _, e := range mcp {
		clients := &s.Clients
		if rc := s.Requests[e].Clients; rc != nil {
			clients = rc
		}
		counts[e] = max(1, min(clients.Count, MaxMCPSessions/len(mcp)))
	}
	return counts
}

// MCPSessions holds one real MCP session (initialize handshake done by the
// go-sdk client over streamable HTTP) per simulated client of each MCP
// request. During the load, tools/call requests are plain HTTP POSTs that
// carry the session's Mcp-Session-Id, so the generator's hot path stays a
// single round trip.
type MCPSessions struct {
	mix      *Mix
	sessions map[int][]mcpSession // by endpoint
}

type mcpSession struct {
	id, version string
	cs          *mcp.ClientSession
}

// identityTransport adds a fixed client identity header.
type identityTransport struct {
	base          http.RoundTripper
	header, value string
}

func (t *identityTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.header != "" {
		r = r.Clone(r.Context())
		r.Header.Set(t.header, t.value)
	}
	return t.base.RoundTrip(r)
}

// OpenMCPSessions initializes the sessions for every MCP request of s;
// tlsConfig (nil: Go's defaults) is the run's HTTPS settings (--ca,
// --insecure), so sessions reach the same targets as the load.
func OpenMCPSessions(ctx context.Context, s *scenarios.Scenario, mix *Mix, tlsConfig *tls.Config, proxy func(*http.Request) (*url.URL, error)) (*MCPSessions, error) {
	ms := &MCPSessions{mix: mix, sessions: map[int][]mcpSession{}}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	base := &http.Transport{MaxIdleConnsPerHost: 64, TLSClientConfig: tlsConfig, Proxy: proxy}
	defer base.CloseIdleConnections()
	counts := mcpSessionCounts(s)
	for e := range s.Requests {
		r := &s.Requests[e]
		n, ok := counts[e]
		if !ok {
			continue
		}
		clients := &s.Clients
		block := 0
		if r.Clients != nil {
			clients, block = r.Clients, e+1
		}
		list := make([]mcpSession, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				rt := &identityTransport{base: base}
				if clients.Count > 0 {
					rt.header, rt.value = clients.Header, IdentityAddress(block, uint64(i))
				}
				client := mcp.NewClient(&mcp.Implementation{Name: "slogate", Version: "v1"}, nil)
				cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
					Endpoint: mix.URL(e), HTTPClient: &http.Client{Transport: rt}, DisableStandaloneSSE: true, MaxRetries: -1,
				}, nil)
				if err != nil {
					errs[i] = err
					return
				}
				version := ""
				if ir := cs.InitializeResult(); ir != nil {
					version = ir.ProtocolVersion
				}
				list[i] = mcpSession{id: cs.ID(), version: version, cs: cs}
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				ms.Close()
				return nil, fmt.Errorf("opening MCP session %d for request %q at %s: %w", i, r.Name, mix.URL(e), err)
			}
		}
		ms.sessions[e] = list
	}
	return ms, nil
}

// Decorate adds the session headers of seq's client to an MCP request.
func (ms *MCPSessions) Decorate(req *http.Request, seq int64, e int) {
	list := ms.sessions[e]
	if len(list) == 0 {
		return
	}
	idx := ms.mix.ClientIndex(seq, e)
	s := list[idx%uint64(len(list))]
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
	if s.version != "" {
		req.Header.Set("Mcp-Protocol-Version", s.version)
	}
}

// MCPFailure inspects a tools/call response (JSON or an SSE stream of
// JSON-RPC messages) and returns why it failed, or "" when it succeeded: an
// HTTP 200 that carries a JSON-RPC error or a tool result with isError is
// an error, not a success.
func MCPFailure(body []byte) string {
	compact := bytes.ReplaceAll(body, []byte(" "), nil)
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return ""
	case bytes.Contains(compact, []byte(`"isError":true`)):
		return "mcp: tool returned isError"
	case bytes.Contains(compact, []byte(`"error":{`)) && !bytes.Contains(compact, []byte(`"result":`)):
		return "mcp: JSON-RPC error"
	}
	return ""
}

// Close ends every session (the client sends DELETE to the server).
func (ms *MCPSessions) Close() {
	for _, list := range ms.sessions {
		for _, s := range list {
			if s.cs != nil {
				_ = s.cs.Close()
			}
		}
	}
}
