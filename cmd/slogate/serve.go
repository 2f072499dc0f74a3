package main

import "github.com/spf13/cobra"

// serveCmd is the parent of the bundled services' commands
// (serve_guard.go, serve_ioc.go add themselves to it).
var serveCmd = &cobra.Command{
	Use:   "serve",
	Short: "Run a bundled reference service (guard, ioc)",
}

func init() { rootCmd.AddCommand(serveCmd) }
