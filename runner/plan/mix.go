package plan

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/slogate/slogate/scenarios"
	"github.com/slogate/slogate/scenarios/corpus"
)

// splitmix64 is a fast, well-mixed hash of a counter (Steele et al. 2014).
// The mix is a pure function of seq, so any engine or shard sending request
// seq sends the same endpoint, identity and body.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Mix builds the HTTP request for each sequence number.
type Mix struct {
	scenario    *scenarios.Scenario
	base        *url.URL
	urls        []string
	cumWeights  []uint64
	totalWeight uint64
	headers     []http.Header
	hosts       []string // a scenario's Host header, taken out of headers
	names       []string
}

// NewMix prepares the request mix of s against baseURL (used for requests
// given by path; requests with a full url ignore it).
func NewMix(s *scenarios.Scenario, baseURL string) (*Mix, error) {
	base, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("target url %q: %w", baseURL, err)
	}
	m := &Mix{scenario: s, base: base}
	for i := range s.Requests {
		r := &s.Requests[i]
		u := r.URL
		if u == "" {
			u = joinPath(base, r.Path)
		}
		m.urls = append(m.urls, u)
		m.totalWeight += uint64(r.Weight)
		m.cumWeights = append(m.cumWeights, m.totalWeight)
		h := http.Header{}
		for k, v := range r.Headers {
			h.Set(k, v)
		}
		if h.Get("User-Agent") == "" {
			h.Set("User-Agent", UserAgent) // one name on every engine's transport
		}
		// user:password@ in the URL is HTTP basic authentication, as in
		// curl, k6 and net/http's Client (a Transport, which the engines
		// use, would drop it; fasthttp would send it): set once, here.
		if pu, err := url.Parse(u); err == nil && pu.User != nil && h.Get("Authorization") == "" {
			pw, _ := pu.User.Password()
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(pu.User.Username()+":"+pw)))
		}
		// Host is not a header to HTTP clients (net/http sends req.Host,
		// fasthttp the URL's host): the mix keeps it apart (Host).
		m.hosts = append(m.hosts, h.Get("Host"))
		h.Del("Host")
		if r.Kind == "mcp" {
			h.Set("Content-Type", "application/json")
			h.Set("Accept", "application/json, text/event-stream")
		} else if r.Generate != nil && h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		m.headers = append(m.headers, h)
		m.names = append(m.names, r.Name)
	}
	return m, nil
}

// joinPath is the URL of a request given by path (and maybe a query)
// against the target's URL: the target's path comes first, its query is
// kept and the request's own query appended ("http://h/v1?key=k" and
// "/users?page=2" give "http://h/v1/users?key=k&page=2").
func joinPath(base *url.URL, pathAndQuery string) string {
	b := *base
	path, query, _ := strings.Cut(pathAndQuery, "?")
	q := b.RawQuery
	if q != "" && query != "" {
		q += "&"
	}
	q += query
	b.RawQuery, b.ForceQuery, b.Fragment, b.RawFragment = "", false, "", ""
	b.Path, b.RawPath = strings.TrimSuffix(b.Path, "/"), strings.TrimSuffix(b.RawPath, "/")
	if q == "" {
		return b.String() + path
	}
	return b.String() + path + "?" + q
}

// Endpoints lists the request names in scenario order.
func (m *Mix) Endpoints() []string { return m.names }

// Endpoint picks the request of the mix for seq, by weight.
func (m *Mix) Endpoint(seq int64) int {
	if len(m.cumWeights) == 1 {
		return 0
	}
	x := splitmix64(uint64(seq)) % m.totalWeight
	lo, hi := 0, len(m.cumWeights)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if m.cumWeights[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Identity returns the simulated client address for seq on endpoint e, or
// "" when the scenario simulates no clients. A request's own clients block
// draws from its own block of addresses (10.<e+1>.x.y), so attackers and
// legitimate users never share an identity; the scenario-wide clients use
// 10.0.x.y.
func (m *Mix) Identity(seq int64, e int) (header, value string) {
	c := &m.scenario.Clients
	block := 0
	if rc := m.scenario.Requests[e].Clients; rc != nil {
		c, block = rc, e+1
	}
	if c.Count == 0 {
		return "", ""
	}
	return c.Header, IdentityAddress(block, m.ClientIndex(seq, e))
}

// ClientIndex returns which simulated client (0-based, within its block)
// sends request seq on endpoint e.
func (m *Mix) ClientIndex(seq int64, e int) uint64 {
	c := &m.scenario.Clients
	if rc := m.scenario.Requests[e].Clients; rc != nil {
		c = rc
	}
	if c.Count == 0 {
		return 0
	}
	return splitmix64(uint64(seq)^0x5bd1e995) % uint64(c.Count)
}

// IdentityAddress is the address of client idx in a block: 10.B.x.y for
// small blocks; large counts spill into the next octets deterministically.
func IdentityAddress(block int, idx uint64) string {
	b := (uint64(block) + idx>>16) % 256
	return "10." + strconv.FormatUint(b, 10) + "." + strconv.FormatUint((idx>>8)&0xff, 10) + "." + strconv.FormatUint(idx&0xff, 10)
}

// Body returns the request body for seq on endpoint e (nil for none).
func (m *Mix) Body(seq int64, e int) []byte {
	r := &m.scenario.Requests[e]
	if r.Kind == "mcp" {
		args := r.Arguments
		if r.Generate != nil {
			args = expand(args, r.Generate, seq)
		}
		return []byte(`{"jsonrpc":"2.0","id":` + strconv.FormatInt(seq+1, 10) +
			`,"method":"tools/call","params":{"name":` + quote(r.Tool) + `,"arguments":` + args + `}}`)
	}
	if r.Generate != nil {
		return []byte(expand(r.Generate.Template, r.Generate, seq))
	}
	return r.BodyBytes
}

// expand fills {{iocs}} (a JSON list) and {{ioc}} (one JSON string) from
// the corpus, deterministically for seq.
func expand(tmpl string, g *scenarios.Generate, seq int64) string {
	var list []string
	if g.Hot > 0 {
		n := g.Min
		if g.Max > g.Min {
			n += int(splitmix64(uint64(seq)^0xa5a5) % uint64(g.Max-g.Min+1))
		}
		for k := 0; k < n; k++ {
			list = append(list, corpus.Hot(uint64(seq)*1_000_003+uint64(k), g.Hot))
		}
	} else {
		list = corpus.Pick(uint64(seq), g.Min, g.Max)
	}
	if strings.Contains(tmpl, "{{iocs}}") {
		b, _ := json.Marshal(list)
		tmpl = strings.ReplaceAll(tmpl, "{{iocs}}", string(b))
	}
	if strings.Contains(tmpl, "{{ioc}}") {
		one := ""
		if len(list) > 0 {
			one = list[0]
		}
		tmpl = strings.ReplaceAll(tmpl, "{{ioc}}", quote(one))
	}
	return tmpl
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Request builds the HTTP request for seq; it also returns the endpoint.
// extra adds headers (an MCP session id, for example).
func (m *Mix) Request(ctx context.Context, seq int64) (*http.Request, int, error) {
	e := m.Endpoint(seq)
	r := &m.scenario.Requests[e]
	body := m.Body(seq, e)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, m.urls[e], rd)
	if err != nil {
		return nil, e, err
	}
	req.Header = m.headers[e].Clone()
	if host := m.hosts[e]; host != "" {
		req.Host = host
	}
	if h, v := m.Identity(seq, e); h != "" {
		req.Header.Set(h, v)
	}
	return req, e, nil
}

// UserAgent is the User-Agent of every request a scenario does not give
// one (fasthttp's Client.Name says the same).
const UserAgent = "slogate"

// Kind returns the request kind ("http" or "mcp") of endpoint e.
func (m *Mix) Kind(e int) string { return m.scenario.Requests[e].Kind }

// Host returns the Host a scenario gives endpoint e, or "" (the URL's).
func (m *Mix) Host(e int) string { return m.hosts[e] }

// Header returns the fixed headers of endpoint e (shared: read, never
// modify); Identity adds the per-request client header.
func (m *Mix) Header(e int) http.Header { return m.headers[e] }

// Method returns the HTTP method of endpoint e.
func (m *Mix) Method(e int) string { return m.scenario.Requests[e].Method }

// URL returns the absolute URL of endpoint e.
func (m *Mix) URL(e int) string { return m.urls[e] }
