package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
	"github.com/slogate/slogate/slo/gate"
)

func newCheckCmd() *cobra.Command {
	var sloFile, baselineFile, format, historyDir string
	cmd := &cobra.Command{
		Use:   "check RESULT.json",
		Short: "Gate an existing result on SLOs without re-running anything",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := results.Read(args[0])
			if err != nil {
				return badInput(err)
			}
			set := slo.Default()
			if sloFile != "" {
				if set, err = slo.LoadFile(sloFile); err != nil {
					return badInput(err)
				}
			}
			baseline, err := resolveBaseline(baselineFile, historyDir, res.Scenario, res.Environment, res.StartedAt, cmd.ErrOrStderr())
			if err != nil {
				return badInput(err)
			}
			// The gate's last stage without files: evaluate, show, exit code.
			out := cmd.OutOrStdout()
			stage := &gate.Stage{
				Criteria: gate.Criteria{Objectives: set, Baseline: baseline},
				Show: func(res *results.Result, _ string) error {
					switch format {
					case "json":
						return writeJSON(out, res.SLO)
					case "text":
						results.WriteVerdict(out, res.SLO)
						return nil
					default:
						return fmt.Errorf("--format %q: want text or json", format)
					}
				},
			}
			return exitWith(stage.Finish(res))
		},
	}
	cmd.Flags().StringVar(&sloFile, "slo", "", "SLO file (default: the seed objectives)")
	cmd.Flags().StringVar(&baselineFile, "baseline", "", "baseline for regression budgets: a result file, last-pass or median-of:N (from the history)")
	cmd.Flags().StringVar(&historyDir, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
