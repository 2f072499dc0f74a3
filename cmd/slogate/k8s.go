package main

import (
	"github.com/spf13/cobra"

	"github.com/slogate/slogate/runner/k8s"
	"github.com/slogate/slogate/scenarios"
)

// newK8sCmd is `slogate k8s`: manifests for running slogate on Kubernetes.
func newK8sCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Kubernetes manifests for a distributed run on k6-operator",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newK8sTestRunCmd())
	return cmd
}

func newK8sTestRunCmd() *cobra.Command {
	var o k8s.Options
	cmd := &cobra.Command{
		Use:   "testrun SCENARIO --parallelism N",
		Short: "Print a ConfigMap, a k6-operator TestRun and a merge Job for SCENARIO (multi-document YAML)",
		Long: `Print, on stdout, the manifests of a distributed run of SCENARIO on k6-operator:
a ConfigMap with the k6 script slogate generates for the scenario, a TestRun
(k6.io/v1alpha1) whose N runners each run one execution segment and write their
shard to the PVC with --out slogate=FILE, and a suspended Job that runs
"slogate merge" over the shards: start it once the TestRun has finished
(kubectl wait --for=jsonpath='{.status.stage}'=finished testrun/NAME); its exit
code is the global verdict. See docs/distributed.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := scenarios.Resolve(args[0])
			if err != nil {
				return badInput(err)
			}
			o.Scenario = s
			out, err := k8s.Manifests(o)
			if k8s.IsBadInput(err) {
				return badInput(err)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Parallelism, "parallelism", 0, "runners (execution segments), 1..1000")
	f.StringVar(&o.Image, "image", k8s.DefaultImage, "runner and merge image: slogate, answering as k6")
	f.StringVar(&o.Namespace, "namespace", "", "namespace of every manifest (default: kubectl's)")
	f.StringVar(&o.PVC, "pvc", k8s.DefaultPVC, "PersistentVolumeClaim (ReadWriteMany) the shards and the merged result go to")
	f.StringVar(&o.Name, "name", "", "TestRun name (default slogate-<scenario>)")
	f.StringVar(&o.Target, "target", "", "base URL the runners send to (default: the scenario's target.url)")
	_ = cmd.MarkFlagRequired("parallelism")
	return cmd
}
