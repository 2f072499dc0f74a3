package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/runner"
)

// newServeEchoCmd is `slogate serve echo`: a minimal upstream (200 "ok"
// after --delay) used by benchmarks as a fixed, cheap target.
func newServeEchoCmd() *cobra.Command {
	var addr string
	var delay time.Duration
	cmd := &cobra.Command{
		Use:   "echo",
		Short: "Minimal target answering 200 ok after --delay (for benchmarks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if delay < 0 {
				return badInput(errors.New("--delay must be >= 0"))
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return badInput(fmt.Errorf("--addr %s: %w", addr, err))
			}
			srv := &http.Server{Handler: runner.EchoHandler(delay), ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			fmt.Fprintf(cmd.ErrOrStderr(), "echo target listening on %s\n", ln.Addr())
			select {
			case err := <-errc:
				return badInput(err)
			case <-ctx.Done():
			}
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(shut)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8081", "listen address")
	cmd.Flags().DurationVar(&delay, "delay", 0, "answer after this long")
	return cmd
}
