package runner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/slogate/slogate/runner/scrape"
)

// StartFunc starts a bundled service on loopback and returns its base URL
// and a function that stops it.
type StartFunc func(ctx context.Context, env map[string]string) (baseURL string, stop func(), err error)

// Services are the bundled services scenarios can name as their target
// (target.service), by name. The program builds the value (cmd/slogate's
// main: echo, guard, ioc) and passes it in Options.
type Services map[string]StartFunc

// Started is a running bundled service: its base URL, the /metrics
// endpoints it exposes (scraped during a run), and how to stop it.
type Started struct {
	URL     string
	Metrics []scrape.Target
	Stop    func()
}

// exposesMetrics names the bundled services that serve Prometheus metrics
// at /metrics (the echo upstream does not).
var exposesMetrics = map[string]bool{"guard": true, "ioc": true}

func started(name, url string, stop func()) Started {
	st := Started{URL: url, Stop: stop}
	if exposesMetrics[name] {
		st.Metrics = []scrape.Target{{URL: url + "/metrics", Job: name}}
	}
	return st
}

// Start starts the named bundled service. "guard+ioc", unless the value
// names it itself, starts the IOC service and the guard in front of it
// (UPSTREAM_URL); both are scraped.
func (s Services) Start(ctx context.Context, name string, env map[string]string) (Started, error) {
	fn, ok := s[name]
	guard, ioc := s["guard"], s["ioc"]
	if name == "guard+ioc" && !ok && guard != nil && ioc != nil {
		iocURL, stopIOC, err := ioc(ctx, env)
		if err != nil {
			return Started{}, fmt.Errorf("starting ioc: %w", err)
		}
		genv := map[string]string{}
		for k, v := range env {
			genv[k] = v
		}
		genv["UPSTREAM_URL"] = iocURL
		url, stopGuard, err := guard(ctx, genv)
		if err != nil {
			stopIOC()
			return Started{}, fmt.Errorf("starting guard: %w", err)
		}
		// The IOC service first: closing its MCP sessions ends the streams the
		// guard proxies, so the guard's graceful shutdown has nothing to wait for
		// (the other way round it sometimes waited out its 5 s grace).
		st := started("guard", url, func() { stopIOC(); stopGuard() })
		st.Metrics = append(st.Metrics, started("ioc", iocURL, nil).Metrics...)
		return st, nil
	}
	if !ok {
		return Started{}, fmt.Errorf("bundled service %q is not available in this build", name)
	}
	url, stop, err := fn(ctx, env)
	if err != nil {
		return Started{}, fmt.Errorf("starting %s: %w", name, err)
	}
	return started(name, url, stop), nil
}

// EchoHandler answers every request with 200 "ok" after delay.
func EchoHandler(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// StartEcho starts a minimal upstream on 127.0.0.1 that answers every path
// with 200 "ok" after DELAY_MS milliseconds (default 0).
func StartEcho(_ context.Context, env map[string]string) (string, func(), error) {
	delay := time.Duration(0)
	if v, ok := env["DELAY_MS"]; ok {
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil || ms < 0 {
			return "", nil, fmt.Errorf("echo: DELAY_MS=%q is not a number of milliseconds", v)
		}
		delay = time.Duration(ms * float64(time.Millisecond))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: EchoHandler(delay), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
