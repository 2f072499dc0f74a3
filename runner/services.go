package runner

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/guardstub/ioc"
)

// StartFunc starts a bundled service on loopback and returns its base URL
// and a function that stops it.
type StartFunc func(ctx context.Context, env map[string]string) (baseURL string, stop func(), err error)

var (
	servicesMu sync.Mutex
	services   = map[string]StartFunc{
		"echo": StartEcho,
		// In a run the guard's own log ("client blocked") is noise in
		// slogate's output; what it did is in the result (block rate).
		"guard": guard.LocalStarter(guard.WithLogger(slog.New(slog.DiscardHandler))),
		"ioc":   ioc.StartLocal,
	}
)

// RegisterService makes a bundled service available to scenarios.
func RegisterService(name string, fn StartFunc) {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	services[name] = fn
}

// StartService starts the named bundled service. "guard+ioc" starts the
// IOC service and the guard in front of it (UPSTREAM_URL).
func StartService(ctx context.Context, name string, env map[string]string) (string, func(), error) {
	servicesMu.Lock()
	fn, ok := services[name]
	guard, ioc := services["guard"], services["ioc"]
	servicesMu.Unlock()
	if name == "guard+ioc" && !ok && guard != nil && ioc != nil {
		iocURL, stopIOC, err := ioc(ctx, env)
		if err != nil {
			return "", nil, fmt.Errorf("starting ioc: %w", err)
		}
		genv := map[string]string{}
		for k, v := range env {
			genv[k] = v
		}
		genv["UPSTREAM_URL"] = iocURL
		url, stopGuard, err := guard(ctx, genv)
		if err != nil {
			stopIOC()
			return "", nil, fmt.Errorf("starting guard: %w", err)
		}
		// The IOC service first: closing its MCP sessions ends the streams the
		// guard proxies, so the guard's graceful shutdown has nothing to wait for
		// (the other way round it sometimes waited out its 5 s grace).
		return url, func() { stopIOC(); stopGuard() }, nil
	}
	if !ok {
		return "", nil, fmt.Errorf("bundled service %q is not available in this build", name)
	}
	url, stop, err := fn(ctx, env)
	if err != nil {
		return "", nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return url, stop, nil
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
