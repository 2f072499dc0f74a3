package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/slo"
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
			rep := slo.EvaluateWithThresholds(res, set, evalOptions(baseline, res))
			res.SLO = &rep
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				if err := writeJSON(out, rep); err != nil {
					return err
				}
			case "text":
				results.WriteVerdict(out, &rep)
			default:
				return badInput(fmt.Errorf("--format %q: want text or json", format))
			}
			return verdictExit(rep.Verdict)
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
