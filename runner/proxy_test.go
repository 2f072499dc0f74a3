package runner

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slogate/slogate/scenarios"
)

// forwardProxy is a real HTTP forward proxy on loopback: absolute-URI
// requests are forwarded (plain http targets), CONNECT opens a tunnel
// (https targets). It tunnels to loopback addresses only and remembers
// the local address of every connection it opened, so a target can tell
// a request that came through it from one that did not.
type forwardProxy struct {
	srv      *httptest.Server
	forwards atomic.Int64
	connects atomic.Int64
	auth     sync.Map // Proxy-Authorization values seen
	mu       sync.Mutex
	upstream map[string]bool // local addresses of the tunnels' connections
}

func startForwardProxy(t *testing.T) *forwardProxy {
	t.Helper()
	p := &forwardProxy{upstream: map[string]bool{}}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetXForwarded() }}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.auth.Store(r.Header.Get("Proxy-Authorization"), true)
		host, _, _ := net.SplitHostPort(r.Host)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			http.Error(w, "this test proxy goes to loopback only", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodConnect {
			if !r.URL.IsAbs() {
				http.Error(w, "not a proxy request", http.StatusBadRequest)
				return
			}
			p.forwards.Add(1)
			rp.ServeHTTP(w, r)
			return
		}
		p.connects.Add(1)
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		p.upstream[up.LocalAddr().String()] = true
		p.mu.Unlock()
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(up, brw)
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(c, up)
		c.Close()
		up.Close()
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// tunnelled reports whether a target's request came in on one of the
// proxy's tunnels.
func (p *forwardProxy) tunnelled(r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.upstream[r.RemoteAddr]
}

// Every request goes through the proxy the run was given (--proxy, or the
// environment's): plain http forwarded, https through a CONNECT tunnel,
// with the proxy's credentials; the result names the proxy without its
// password, since its latency is in every figure. The fast engine leaves
// fasthttp (no proxies) for net/http.
func TestRequestsThroughAProxy(t *testing.T) {
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		p := startForwardProxy(t)
		proxyURL, _ := url.Parse(p.srv.URL)
		proxyURL.User = url.UserPassword("loadtest", "s3cret-pw")
		var viaProxy, direct atomic.Int64
		count := func(proxied bool) {
			if proxied {
				viaProxy.Add(1)
			} else {
				direct.Add(1)
			}
		}
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			count(r.Header.Get("X-Forwarded-For") != "") // the forwarding proxy adds it
		}))
		defer plain.Close()
		secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			count(p.tunnelled(r))
		}))
		defer secure.Close()
		for _, tc := range []struct {
			name, url string
			forwards  bool
		}{{"http", plain.URL, true}, {"https", secure.URL, false}} {
			t.Run(tc.name, func(t *testing.T) {
				viaProxy.Store(0)
				direct.Store(0)
				p.forwards.Store(0)
				p.connects.Store(0)
				s := scenarioFor(t, tc.url, "phases:\n  - {kind: constant, rate: 40, duration: 500ms}\n")
				res, err := Run(context.Background(), s, wired(Options{
					TLS: &tls.Config{InsecureSkipVerify: true}, Proxy: http.ProxyURL(proxyURL),
				}))
				if err != nil {
					t.Fatal(err)
				}
				if res.Summary.SuccessCount != 20 || viaProxy.Load() != 20 || direct.Load() != 0 {
					t.Errorf("success %d, at the target %d through the proxy and %d not, want 20, 20, 0: %v",
						res.Summary.SuccessCount, viaProxy.Load(), direct.Load(), res.Summary.Errors)
				}
				if tc.forwards && p.forwards.Load() != 20 {
					t.Errorf("the proxy forwarded %d requests, want 20", p.forwards.Load())
				}
				if !tc.forwards && p.connects.Load() == 0 {
					t.Error("no CONNECT tunnel through the proxy")
				}
				if _, ok := p.auth.Load("Basic bG9hZHRlc3Q6czNjcmV0LXB3"); !ok { // loadtest:s3cret-pw
					t.Error("the proxy never got the credentials of the proxy URL")
				}
				if want := proxyURL.Redacted(); res.Generator.Proxy != want || res.Generator.Transport != "net/http" {
					t.Errorf("generator proxy %q over %q, want %q over net/http", res.Generator.Proxy, res.Generator.Transport, want)
				}
				b, _ := json.Marshal(res)
				if strings.Contains(string(b), "s3cret-pw") {
					t.Error("the result holds the proxy's password")
				}
			})
		}
		t.Run("no proxy", func(t *testing.T) {
			p.forwards.Store(0)
			s := scenarioFor(t, plain.URL, "phases:\n  - {kind: constant, rate: 40, duration: 250ms}\n")
			noProxy := func(*http.Request) (*url.URL, error) { return nil, nil } // NO_PROXY matched
			res, err := Run(context.Background(), s, wired(Options{Proxy: noProxy}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary.SuccessCount != 10 || p.forwards.Load() != 0 || res.Generator.Proxy != "" {
				t.Errorf("success %d, forwarded %d, generator proxy %q: want 10, 0, none", res.Summary.SuccessCount, p.forwards.Load(), res.Generator.Proxy)
			}
		})
	})
}

// The fast engine speaks HTTP/2 to an https target that offers it (ALPN)
// and says so in the result; the vegeta engine stays on HTTP/1.1 and says
// that. The caller's TLS settings are not changed by it.
func TestHTTP2WhereTheTargetOffersIt(t *testing.T) {
	var mu sync.Mutex
	protos := map[string]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.Proto]++
		mu.Unlock()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		fast := strings.HasSuffix(t.Name(), "/fast")
		mu.Lock()
		clear(protos)
		mu.Unlock()
		cfg := &tls.Config{InsecureSkipVerify: true}
		s := scenarioFor(t, srv.URL, "phases:\n  - {kind: constant, rate: 40, duration: 500ms}\n")
		res, err := Run(context.Background(), s, wired(Options{TLS: cfg}))
		if err != nil {
			t.Fatal(err)
		}
		want := "HTTP/1.1"
		if fast {
			want = "HTTP/2.0"
		}
		mu.Lock()
		got := protos[want]
		mu.Unlock()
		if res.Summary.SuccessCount != 20 || got != 20 || !slices.Equal(res.Generator.Protocols, []string{want}) {
			t.Errorf("success %d, %d requests in %s at the target (%v), result protocols %v: want 20, 20, [%s]",
				res.Summary.SuccessCount, got, want, protos, res.Generator.Protocols, want)
		}
		if len(cfg.NextProtos) != 0 {
			t.Errorf("the caller's TLS config was changed: NextProtos %v", cfg.NextProtos)
		}
		s = scenarioFor(t, plain.URL, "phases:\n  - {kind: constant, rate: 40, duration: 250ms}\n")
		res, err = Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Generator.Protocols, []string{"HTTP/1.1"}) {
			t.Errorf("plain http: result protocols %v, want [HTTP/1.1]", res.Generator.Protocols)
		}
	})
}

// A target URL with user:password@ and a query: every engine sends the
// request under the target's path with both queries and HTTP basic
// authentication (curl's, k6's and net/http's Client's reading of it),
// and nothing in the result holds the password.
func TestTargetURLWithCredentialsAndQuery(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		mu.Lock()
		seen[r.RequestURI+" "+user+":"+pw]++
		mu.Unlock()
	}))
	defer srv.Close()
	target := strings.Replace(srv.URL, "http://", "http://loadtest:s3cret-pw@", 1) + "/base?k=v"
	eachEngine(t, func(t *testing.T, wired func(Options) Options) {
		mu.Lock()
		clear(seen)
		mu.Unlock()
		doc := "name: creds\ntarget: {url: " + strconv.Quote(target) + "}\nrequests:\n  - {name: x, path: \"/x?y=1\"}\nphases:\n  - {kind: constant, rate: 40, duration: 250ms}\n"
		s, err := scenarios.Parse("creds.yaml", "", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), s, wired(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := seen["/base/x?k=v&y=1 loadtest:s3cret-pw"]
		mu.Unlock()
		if res.Summary.SuccessCount != 10 || got != 10 {
			t.Errorf("success %d, %d requests as /base/x?k=v&y=1 with basic authentication (seen %v), want 10 and 10", res.Summary.SuccessCount, got, seen)
		}
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), "s3cret-pw") || !strings.Contains(res.Environment.Target, "loadtest:xxxxx@") {
			t.Errorf("the result holds the password, or does not name the target redacted (%q)", res.Environment.Target)
		}
	})
	s, err := scenarios.Adhoc(target, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if name := s.Requests[0].Name; strings.Contains(name, "s3cret-pw") {
		t.Errorf("the ad-hoc request is named %q: the password is in it", name)
	}
}
