package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/guardstub/ioc"
)

func newServeIOCCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "ioc",
		Short: "Run the bundled threat-intel IOC service (REST /analyze, /batch, MCP /mcp, /metrics)",
		Long: `Run the bundled threat-intel IOC service, configured from the environment:
CACHE_TTL, CACHE_MAX_SIZE, MAX_RETRIES, REQUEST_TIMEOUT, RETRY_BACKOFF,
VIRUSTOTAL_RATE_LIMIT (/min), OTX_RATE_LIMIT (/h), ABUSEIPDB_RATE_LIMIT (/day),
IPINFO_RATE_LIMIT (/30 days), RATE_LIMIT_SCALE, CIRCUIT_BREAKER_THRESHOLD,
CIRCUIT_BREAKER_COOLDOWN, MAX_WORKERS, BATCH_SIZE, PROVIDER_LATENCY_SCALE,
PROVIDER_ERROR_RATE, PROVIDER_SEED, IOC_DETECTION (strict|original),
MAX_BODY_BYTES, ANALYZE_MAX_IOCS, BATCH_MAX_IOCS, COMPRESS_RESPONSES,
MCP_SESSION_TIMEOUT (idle, default 300), MCP_MAX_SESSIONS (default 4096),
MCP_MAX_SESSIONS_PER_CLIENT (by peer address, default 1024). Durations are seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := ioc.ConfigFromEnv(os.LookupEnv)
			if err != nil {
				return badInput(err)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			svc, err := ioc.New(cfg, ioc.WithLogger(logger))
			if err != nil {
				return badInput(err)
			}
			defer svc.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return badInput(fmt.Errorf("--addr %s: %w", addr, err))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveIOC(ctx, ln, svc, logger)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8000", "listen address")
	return cmd
}

// serveIOC serves until ctx ends, then shuts down: new connections stop at once,
// MCP sessions are closed (ending their idle streams), analyses in flight get
// 10 s to finish before they are cancelled.
func serveIOC(ctx context.Context, ln net.Listener, svc *ioc.Service, logger *slog.Logger) error {
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(svc.CloseSessions)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("IOC service listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	_ = svc.Close()
	if err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
