// Command slogate drives open-model HTTP load, checks the result against SLOs
// and compares it with a baseline. See README.md and DESIGN.md.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/guardstub/ioc"
	"github.com/slogate/slogate/runner"
	fastengine "github.com/slogate/slogate/runner/fast"
	k6engine "github.com/slogate/slogate/runner/k6"
	vegetaengine "github.com/slogate/slogate/runner/vegeta"
	"github.com/slogate/slogate/slo/gate"
)

// Exit codes are a contract users script against (DESIGN.md); package
// gate declares them.
const (
	ExitPass         = int(gate.ExitPass)
	ExitFail         = int(gate.ExitFail)
	ExitBadInput     = int(gate.ExitBadInput)
	ExitInconclusive = int(gate.ExitInconclusive)
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

// wiring is what the program offers a run: the load engines --engine
// picks from and the bundled services a scenario's target.service names.
// main builds it; nothing registers itself at init.
type wiring struct {
	engines  runner.Engines
	services runner.Services
	// isolated are the same services as child processes (target.isolate).
	isolated runner.Services
}

// newWiring is slogate's own wiring: the vegeta, k6 and fast engines, and the
// echo, guard and IOC services.
func newWiring() wiring {
	return wiring{
		engines: runner.Engines{"vegeta": vegetaengine.Run, "k6": k6engine.Run, "fast": fastengine.Run},
		services: runner.Services{
			"echo": runner.StartEcho,
			// In a run the guard's own log ("client blocked") is noise in
			// slogate's output; what it did is in the result (block rate).
			"guard": guard.LocalStarter(guard.WithLogger(slog.New(slog.DiscardHandler))),
			"ioc":   ioc.StartLocal,
		},
		isolated: isolatedServices(),
	}
}

// isolatedServices run `slogate serve NAME` as child processes of this
// binary, on loopback ports of their own.
func isolatedServices() runner.Services {
	exe, err := os.Executable()
	if err != nil {
		return runner.Services{}
	}
	local := map[string]string{"TRUSTED_PROXIES": guard.LocalTrustedProxies}
	return runner.Services{
		"echo":  runner.ChildService(exe, []string{"serve", "echo", "--addr", "127.0.0.1:0"}, nil, nil),
		"guard": runner.ChildService(exe, []string{"serve", "guard", "--addr", "127.0.0.1:0"}, local, nil),
		"ioc":   runner.ChildService(exe, []string{"serve", "ioc", "--addr", "127.0.0.1:0"}, nil, nil),
	}
}

// newRootCmd builds the whole command tree.
func newRootCmd(w wiring) *cobra.Command {
	root := &cobra.Command{
		Use:           "slogate",
		Short:         "Load testing and SLO verification with honest latency and before/after statistics",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	serve := newServeCmd()
	serve.AddCommand(newServeEchoCmd(), newServeGuardCmd(), newServeIOCCmd())
	root.AddCommand(
		newRunCmd(w),
		newCapacityCmd(w),
		newCheckCmd(),
		newCompareCmd(),
		newReportCmd(),
		newHistoryCmd(),
		newScenariosCmd(),
		serve,
		newK6Cmd(),
		newK8sCmd(),
		newMergeCmd(),
	)
	return root
}

func main() {
	if invokedAsK6(os.Args[0]) {
		runK6(os.Args[1:]) // exactly k6, with slogate's extensions
	}
	os.Exit(execute(newRootCmd(newWiring()), os.Args[1:]))
}

func execute(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := root.Execute()
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
