package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
			runK6(args)
		},
	}
}

func init() { rootCmd.AddCommand(newK6Cmd()) }

// runK6 hands the process to k6's CLI with args; it never returns (k6 ends
// in os.Exit). Automatic extension resolution and the usage report are off
// unless the caller set them.
func runK6(args []string) {
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
// --script my.js` without one: the script decides the load (its own k6
// scenarios become the result's phases), the objectives come from --slo or
// the defaults. Its File is the script (k6engine.IsPlaceholder) and its
// Hash fingerprints the script's content, so baselines of another script
// are refused.
func scriptScenario(script, target string, rate float64) (*scenarios.Scenario, error) {
	if rate > 0 {
		return nil, errors.New("--rate/--duration do not apply to --script: the script's options decide the load (or give a scenario too)")
	}
	data, err := os.ReadFile(script)
	if err != nil {
		return nil, fmt.Errorf("--script: %w", err)
	}
	if target == "" {
		target = k6engine.NoTarget
	}
	s, err := scenarios.Adhoc(target, 1, time.Second)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	s.Name = strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	s.File = script
	s.Hash = "k6-script-" + hex.EncodeToString(sum[:8])
	return s, nil
}
