package guard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"
)

// LocalTrustedProxies is TRUSTED_PROXIES for StartLocal when env does not set it:
// slogate, on the same host, simulates many clients through X-Forwarded-For.
const LocalTrustedProxies = "127.0.0.1/32,::1/128"

// StartLocal starts a guard on 127.0.0.1:0 (and its demo upstream, unless env has
// UPSTREAM_URL) configured from env, a map of the seed's variable names (missing
// = defaults; TRUSTED_PROXIES defaults to LocalTrustedProxies). It returns the
// base URL ("http://127.0.0.1:PORT") and a stop func that shuts both down; stop
// is idempotent and also runs when ctx ends.
func StartLocal(ctx context.Context, env map[string]string) (baseURL string, stop func(), err error) {
	return startLocal(ctx, env, nil)
}

// LocalStarter is StartLocal with options for the guard it starts, e.g.
// WithLogger(slog.New(slog.DiscardHandler)) to keep its log ("client blocked")
// out of a quiet run's output.
func LocalStarter(opts ...Option) func(ctx context.Context, env map[string]string) (baseURL string, stop func(), err error) {
	return func(ctx context.Context, env map[string]string) (string, func(), error) {
		return startLocal(ctx, env, opts)
	}
}

func startLocal(ctx context.Context, env map[string]string, opts []Option) (baseURL string, stop func(), err error) {
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["TRUSTED_PROXIES"]; !ok {
		env["TRUSTED_PROXIES"] = LocalTrustedProxies
	}
	cfg, err := ConfigFromEnv(MapLookup(env))
	if err != nil {
		return "", nil, fmt.Errorf("guard env: %w", err)
	}
	g, err := New(cfg, opts...)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = g.Close()
		return "", nil, fmt.Errorf("guard listen: %w", err)
	}
	srv := g.HTTPServer(ln.Addr().String())
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("guard server stopped", "err", err)
		}
	}()
	stopped := make(chan struct{})
	stop = sync.OnceFunc(func() {
		close(stopped)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
		<-served
		_ = g.Close()
	})
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-stopped:
		}
	}()
	return "http://" + ln.Addr().String(), stop, nil
}
