package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slogate/slogate/scenarios"
)

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION")
			for _, b := range scenarios.List() {
				desc := b.Description
				if b.Err != nil {
					desc = "INVALID: " + b.Err.Error()
				}
				fmt.Fprintf(tw, "%s\t%s\n", b.Name, desc)
			}
			return tw.Flush()
		},
	}
}
