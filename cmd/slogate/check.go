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
		Long: `Gate an existing result on SLOs without re-running anything. The objectives
are --slo's; without it, the ones the run was judged by (its scenario's slo block
or --slo file, kept in the result as slo.definition); for a run judged by the
default objectives, the defaults.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := results.Read(args[0])
			if err != nil {
				return badInput(err)
			}
			set, err := judgedBy(sloFile, args[:1], []*results.Result{res})
			if err != nil {
				return badInput(err)
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
	cmd.Flags().StringVar(&sloFile, "slo", "", "SLO file (default: the objectives the run was judged by, kept in the result; else the seed objectives)")
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

// judgedBy picks the objectives to judge existing results by: --slo's;
// else the ones the runs were judged by (slo.definition), which must be
// the same in every result; else, for runs judged by the defaults, the
// defaults. Never the defaults in place of a run's own objectives: that
// would gate a run on looser (or other) objectives than its own.
func judgedBy(sloFile string, paths []string, rs []*results.Result) (*slo.Set, error) {
	if sloFile != "" {
		return slo.LoadFile(sloFile)
	}
	definition := func(r *results.Result) string {
		if r.SLO == nil {
			return ""
		}
		return r.SLO.Definition
	}
	def := definition(rs[0])
	for i, r := range rs[1:] {
		if definition(r) != def {
			return nil, fmt.Errorf("%s and %s were judged by different objectives: give the ones to judge by with --slo", paths[0], paths[i+1])
		}
	}
	if def == "" {
		return slo.Default(), nil
	}
	return slo.FromDefinition(paths[0]+": slo.definition", def)
}
