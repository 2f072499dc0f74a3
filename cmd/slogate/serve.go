package main

import "github.com/spf13/cobra"

// newServeCmd is the parent of the bundled services' commands
// (serve_echo.go, serve_guard.go, serve_ioc.go; newRootCmd adds them).
func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run a bundled reference service (guard, ioc)",
	}
}
