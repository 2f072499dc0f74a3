package ioc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// StartLocal starts the service on 127.0.0.1:0 with its configuration from env
// (the seed's names, see ConfigFromEnv; missing = defaults; the process
// environment is not read) and returns "http://127.0.0.1:PORT" and a stop func.
// The service also stops when ctx ends. stop is idempotent and waits up to 5 s
// for requests in flight before cutting them.
func StartLocal(ctx context.Context, env map[string]string) (baseURL string, stop func(), err error) {
	cfg, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return "", nil, fmt.Errorf("ioc service env: %w", err)
	}
	svc, err := New(cfg)
	if err != nil {
		return "", nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		_ = svc.Close()
		return "", nil, fmt.Errorf("ioc service: listen on 127.0.0.1: %w", err)
	}
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			svc.log.Error("ioc service stopped", "err", err)
		}
	}()
	var once sync.Once
	done := make(chan struct{})
	stop = func() {
		once.Do(func() {
			close(done)
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = svc.Close() // cancels long analyses so Shutdown need not wait for them
			if srv.Shutdown(sctx) != nil {
				_ = srv.Close()
			}
			<-served
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return "http://" + ln.Addr().String(), stop, nil
}
