package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	k6cmd "go.k6.io/k6/cmd"

	k6engine "github.com/slogate/slogate/runner/k6"
	"github.com/slogate/slogate/scenarios"
)

func newK6Cmd() *cobra.Command {
	return &cobra.Command{
		Use:   "k6 [k6 arguments...]",
		Short: "The linked k6 (" + k6engine.K6Version() + ") with slogate's extensions: k6/x/slogate and --out slogate=FILE",
		Long: `slogate k6 ... is k6 itself, with two extensions compiled in:

  k6/x/slogate      JS module: a slogate scenario's weighted request mix, simulated
                    client identities and IOC corpus in a k6 script
  --out slogate=F   output: every request into slogate's HDR recorder, written as a
                    slogate.result/v1 file that 'slogate check' gates

Everything after 'k6' goes to k6 unchanged ('slogate k6 version', 'slogate k6 run
script.js', 'slogate k6 inspect script.js'). Invoked under the name k6 (a symlink),
the slogate binary is exactly this k6.`,
		DisableFlagParsing: true,
		Run: func(_ *cobra.Command, args []string) {
			runK6As("slogate k6", args)
		},
	}
}

// runK6 is runK6As under the name k6 (a symlink named k6).
func runK6(args []string) { runK6As("k6", args) }

// helpChildEnv marks the child that prints k6's help for runK6As.
const helpChildEnv = "SLOGATE_K6_HELP_CHILD"

// runK6As hands the process to k6's CLI with args; it never returns (k6
// ends in os.Exit). Automatic extension resolution and the usage report
// are off unless the caller set them.
//
// k6 writes its help and examples with the executable's base name
// ("slogate run -u 5 ..."), which is slogate's own run command, and
// os.Executable resolves a k6 symlink to slogate too. A help request is
// therefore run in a child whose output is rewritten to name the command
// the user typed (name: "slogate k6" or "k6").
func runK6As(name string, args []string) {
	if wantsHelp(args) && os.Getenv(helpChildEnv) == "" {
		os.Exit(k6Help(name, args))
	}
	for _, kv := range k6engine.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, set := os.LookupEnv(k); !set {
			_ = os.Setenv(k, v)
		}
	}
	os.Args = append([]string{"k6"}, args...) // k6 reads os.Args itself
	k6cmd.Execute()
	os.Exit(0) // not reached: Execute exits
}

// invokedAsK6 reports whether the binary runs under the name k6 (a
// symlink or a copy in a k6 runner image).
func invokedAsK6(argv0 string) bool {
	base := argv0
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	return strings.TrimSuffix(base, ".exe") == "k6"
}

// scriptScenario stands in for the scenario of `slogate run --engine k6
// --script my.js` without one (scenarios.ForScript): the script decides the
// load (its own k6 scenarios become the result's phases), the objectives
// come from --slo or the defaults.
func scriptScenario(script, target string, rate float64) (*scenarios.Scenario, error) {
	if rate > 0 {
		return nil, errors.New("--rate/--duration do not apply to --script: the script's options decide the load (or give a scenario too)")
	}
	data, err := os.ReadFile(script)
	if err != nil {
		return nil, fmt.Errorf("--script: %w", err)
	}
	return scenarios.ForScript(script, data, target)
}

// wantsHelp reports whether k6 would print help for args: a -h/--help
// flag, the help command, or no arguments at all.
func wantsHelp(args []string) bool {
	if len(args) == 0 || args[0] == "help" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" {
			return true
		}
	}
	return false
}

// k6Help runs `slogate k6 ARGS` in a child and prints its output with
// k6's name for the binary ("slogate ") replaced by name; it returns the
// child's exit code.
func k6Help(name string, args []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "slogate k6:", err)
		return ExitBadInput
	}
	cmd := exec.Command(self, append([]string{"k6"}, args...)...)
	cmd.Env = append(os.Environ(), helpChildEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "slogate k6:", err)
			return ExitBadInput
		}
		code = ee.ExitCode()
	}
	base := filepath.Base(self)
	_, _ = os.Stdout.WriteString(renameBinary(stdout.String(), base, name))
	_, _ = os.Stderr.WriteString(renameBinary(stderr.String(), base, name))
	return code
}

// renameBinary replaces the binary's base name where k6's help uses it as
// a command (followed by a space or a quote) with name.
func renameBinary(text, base, name string) string {
	if base == name {
		return text
	}
	r := strings.NewReplacer(base+" ", name+" ", base+"\"", name+"\"", base+"\n", name+"\n")
	return r.Replace(text)
}

// k6ScriptHint refuses a k6 script given to `slogate run` as a scenario,
// saying how to run it.
func k6ScriptHint(arg string) error {
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".js", ".mjs", ".cjs", ".ts":
		return fmt.Errorf("%s is a k6 script, not a scenario: run it with `slogate k6 run %s` (stock k6) "+
			"or `slogate run --engine k6 --script %s` (gated by slogate's objectives and its thresholds)", arg, arg, arg)
	}
	return nil
}
