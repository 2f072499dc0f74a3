package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var listenAddr = regexp.MustCompile(`127\.0\.0\.1:[1-9][0-9]*`)

// startServe starts `slogate serve ARGS` with extra environment and returns the
// process and the address it reports listening on (its first stderr line that
// names a loopback port).
func startServe(t *testing.T, env []string, args ...string) (*exec.Cmd, string, func() string) {
	t.Helper()
	cmd := exec.Command(slogateBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 64)
	var all strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	logs := func() string { <-done; return all.String() }
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, "listening") {
				if a := listenAddr.FindString(l); a != "" {
					return cmd, a, logs
				}
			}
		case <-done:
			t.Fatalf("serve %v exited before listening: %s", args, all.String())
		case <-deadline:
			t.Fatalf("serve %v: no listening line in 20 s", args)
		}
	}
}

// stopServe sends SIGTERM and wants exit code 0 within 15 s.
func stopServe(t *testing.T, cmd *exec.Cmd, logs func() string) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v; stderr:\n%s", err, logs())
		}
	case <-time.After(15 * time.Second):
		t.Error("did not stop within 15 s of SIGTERM")
	}
}

func fetch(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeCommandsAnswerAndStopOnSIGTERM(t *testing.T) {
	cases := []struct {
		name   string
		env    []string
		args   []string
		probes [][4]string // method, path, body, substring of the 200 answer
	}{
		{"guard", []string{"LOG_LEVEL=WARN"}, []string{"guard", "--addr", "127.0.0.1:0", "--upstream-addr", "127.0.0.1:0"}, [][4]string{
			{"GET", "/health", "", `"healthy"`},
			{"GET", "/api/test", "", `{"message":"test"}`}, // through the proxy to the demo upstream
			{"POST", "/api/heavy", `{"x":1}`, `{"ok":true}`},
			{"GET", "/metrics", "", `ddos_requests_total{action="allowed"} 2`},
		}},
		{"ioc", []string{"PROVIDER_LATENCY_SCALE=0"}, []string{"ioc", "--addr", "127.0.0.1:0"}, [][4]string{
			{"GET", "/health", "", "healthy"},
			{"POST", "/analyze", `{"iocs": ["8.8.8.8", "example.com"]}`, "example.com"},
		}},
		{"echo", nil, []string{"echo", "--addr", "127.0.0.1:0"}, [][4]string{
			{"GET", "/", "", "ok"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, addr, logs := startServe(t, c.env, c.args...)
			for _, p := range c.probes {
				status, body := fetch(t, p[0], "http://"+addr+p[1], p[2])
				if status != http.StatusOK || !strings.Contains(body, p[3]) {
					t.Errorf("%s %s: %d %q, want 200 containing %q", p[0], p[1], status, body[:min(len(body), 300)], p[3])
				}
			}
			stopServe(t, cmd, logs)
		})
	}
}

func TestServeBadEnvironmentIsExit2(t *testing.T) {
	for _, c := range []struct {
		env, service, want string
	}{
		{"REQUEST_RATE_LIMIT=lots", "guard", "REQUEST_RATE_LIMIT"},
		{"CACHE_TTL=-5", "ioc", "CACHE_TTL"},
	} {
		cmd := exec.Command(slogateBin, "serve", c.service, "--addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), c.env)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("%s with %s: exit %d %q, want exit 2 naming %s", c.service, c.env, code, out, c.want)
		}
	}
}

func TestServeIOCStopsPromptlyWithAnMCPSessionOpen(t *testing.T) {
	cmd, addr, logs := startServe(t, []string{"PROVIDER_LATENCY_SCALE=0"}, "ioc", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "slogate-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if _, err := session.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The session's server-to-client stream stays open. Shutdown gives requests in
	// flight 10 s; an idle MCP stream must not hold the process for that long.
	start := time.Now()
	stopServe(t, cmd, logs)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("serve ioc took %v to stop with an MCP session open (the 10 s grace is for analyses, not idle streams)", d.Round(time.Millisecond))
	}
}

// serve guard trusts no peer's X-Forwarded-For by default (the in-process guard
// trusts loopback): it says so at start with the setting that would, and once
// more when a peer's X-Forwarded-For is ignored, not once per request.
func TestServeGuardSaysHowToTrustXForwardedFor(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      []string
		startHas string
		ignored  int
	}{
		{"untrusted", []string{"TRUSTED_PROXIES="}, "TRUSTED_PROXIES=127.0.0.1/32", 1},
		{"trusted", []string{"TRUSTED_PROXIES=127.0.0.1/32"}, "trusted from TRUSTED_PROXIES=127.0.0.1/32", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, addr, logs := startServe(t, c.env, "guard", "--addr", "127.0.0.1:0", "--upstream-addr", "127.0.0.1:0")
			client := &http.Client{Timeout: 10 * time.Second}
			for i := range 5 {
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/test", nil)
				req.Header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(10+i))
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			stopServe(t, cmd, logs)
			out := logs()
			if !strings.Contains(out, c.startHas) {
				t.Errorf("start-up output lacks %q:\n%s", c.startHas, out)
			}
			if n := strings.Count(out, "X-Forwarded-For ignored"); n != c.ignored {
				t.Errorf("\"X-Forwarded-For ignored\" printed %d times for 5 requests, want %d:\n%s", n, c.ignored, out)
			}
		})
	}
}
