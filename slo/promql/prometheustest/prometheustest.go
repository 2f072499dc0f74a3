// Package prometheustest starts a real Prometheus server on loopback for
// tests, in the style of net/http/httptest: the Debian/upstream `prometheus`
// binary with a scrape configuration the test gives, its own data directory,
// stopped (by its PID) when the test ends.
//
// Without the binary the test is skipped with how to install it, except in CI
// (CI set), where a missing binary fails: CI installs it.
package prometheustest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running Prometheus.
type Server struct {
	URL string // http://127.0.0.1:PORT
	cmd *exec.Cmd
	log *bytes.Buffer
}

// Options configure the server.
type Options struct {
	// Scrape lists the targets' /metrics URLs, scraped every ScrapeInterval.
	Scrape         []string
	ScrapeInterval time.Duration // default 1 s
	// RemoteWriteReceiver enables /api/v1/write.
	RemoteWriteReceiver bool
}

// Start runs Prometheus until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no prometheus binary in CI (.ci/run installs the Debian package prometheus)")
		}
		t.Skip("no prometheus binary (apt-get install -y prometheus; .ci/run does)")
	}
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = time.Second
	}
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\nscrape_configs:\n", o.ScrapeInterval, o.ScrapeInterval)
	for i, raw := range o.Scrape {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "  - job_name: job%d\n    scheme: %s\n    metrics_path: %q\n    static_configs:\n      - targets: [%q]\n", i, u.Scheme, u.Path, u.Host)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	args := []string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn"}
	if o.RemoteWriteReceiver {
		args = append(args, "--web.enable-remote-write-receiver")
	}
	s := &Server{URL: "http://" + addr, log: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-exited
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && s.scrapedAll(ctx, len(o.Scrape)) {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited: %s", s.log.String())
		case <-ctx.Done():
			t.Fatalf("prometheus not ready (or its targets not scraped) in 60 s: %s", s.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scrapedAll reports whether every scrape target has been scraped up: a new
// Prometheus applies its targets only after its first discovery round (up
// to 5 s), and a test's window must not start before that.
func (s *Server) scrapedAll(ctx context.Context, n int) bool {
	if n == 0 {
		return true
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/query?query=count(up%3D%3D1)", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) == 0 {
		return false
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	return v == fmt.Sprint(n)
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
