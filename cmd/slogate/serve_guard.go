package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/guardstub/guard"
)

func newServeGuardCmd() *cobra.Command {
	var addr, upstreamAddr string
	cmd := &cobra.Command{
		Use:   "guard",
		Short: "Run the bundled DDoS guard (rate-limiting reverse proxy, default :8080)",
		Long: `Run the bundled DDoS guard: a reverse proxy that rate-limits each client with a
sliding window, blocks repeat offenders, scores clients with a deterministic risk
model, and forwards the rest to UPSTREAM_URL, or to its own demo upstream
(/, /healthz, /api/test, /api/docs, POST /api/heavy, /api/slow) when unset.

Configuration comes from the environment, with the seed's names:
  ` + strings.Join(guard.EnvNames(), "\n  ") + `

Endpoints: /health, /healthz, /metrics (Prometheus), /admin/state and
/admin/blocklist (X-Admin-Token = ADMIN_API_KEY), everything else is proxied.
Stops gracefully on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := guard.ConfigFromEnv(os.LookupEnv)
			if err != nil {
				return badInput(fmt.Errorf("serve guard: %w", err))
			}
			if cmd.Flags().Changed("upstream-addr") {
				cfg.DemoUpstreamAddr = upstreamAddr
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveGuard(ctx, cmd, cfg, addr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "listen address of the guard")
	cmd.Flags().StringVar(&upstreamAddr, "upstream-addr", "127.0.0.1:0",
		"listen address of the demo upstream when UPSTREAM_URL is unset (overrides DEMO_UPSTREAM_ADDR)")
	return cmd
}

func serveGuard(ctx context.Context, cmd *cobra.Command, cfg guard.Config, addr string) error {
	g, err := guard.New(cfg)
	if err != nil {
		return badInput(fmt.Errorf("serve guard: %w", err))
	}
	defer g.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return badInput(fmt.Errorf("serve guard: --addr %q: %w", addr, err))
	}
	srv := g.HTTPServer(ln.Addr().String())
	fmt.Fprintf(cmd.ErrOrStderr(), "slogate guard listening on http://%s (upstream %s)\n", ln.Addr(), g.UpstreamURL())
	fmt.Fprintf(cmd.ErrOrStderr(), "slogate guard: %s\n", cfg.XFFTrustNote())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve guard: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "slogate guard shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	<-served
	return nil
}
