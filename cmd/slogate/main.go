// Command slogate drives open-model HTTP load, checks the result against SLOs
// and compares it with a baseline. See README.md and DESIGN.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes are a contract users script against (DESIGN.md).
const (
	ExitPass         = 0
	ExitFail         = 1
	ExitBadInput     = 2
	ExitInconclusive = 3
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput wraps err so that the process exits with code 2.
func badInput(err error) error { return &exitError{code: ExitBadInput, err: err} }

// withCode wraps err so that the process exits with the given code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

var rootCmd = &cobra.Command{
	Use:           "slogate",
	Short:         "Load testing and SLO verification with honest latency and before/after statistics",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if invokedAsK6(os.Args[0]) {
		runK6(os.Args[1:]) // exactly k6, with slogate's extensions
	}
	os.Exit(execute(os.Args[1:]))
}

func execute(args []string) int {
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	if err == nil {
		return ExitPass
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "slogate:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors (unknown flag, wrong args) are usage errors.
	fmt.Fprintln(os.Stderr, "slogate:", err)
	return ExitBadInput
}
