package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/slogate/slogate/results"
)

// writeComparisonText renders a comparison as an aligned table for a
// terminal. A result's text form is results.WriteText.
func writeComparisonText(w io.Writer, c *results.Comparison) error {
	fmt.Fprintf(w, "base: %s\nnew:  %s\n", describeSide(c.Base), describeSide(c.New))
	fmt.Fprintf(w, "method: %s · %s intervals of the change NEW/BASE − 1 · improvement > 0 means NEW is better\n", c.Method, ciLevel(c))
	if c.Verdict != "" {
		fmt.Fprintf(w, "verdict: %s\n", strings.ToUpper(c.Verdict))
	}
	for _, reason := range c.Reasons {
		fmt.Fprintf(w, "  - %s\n", reason)
	}
	for _, warn := range c.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nMETRIC\tSCOPE\tBASE\tNEW\tCHANGE\tIMPROVEMENT\tCI OF CHANGE\tSIGNIFICANT\tVERDICT\tNOTE")
	for i := range c.Metrics {
		d := &c.Metrics[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Metric, d.Scope,
			results.FormatValue(d.Base, d.Unit), results.FormatValue(d.New, d.Unit), signedPct(d.DeltaPct), signedPct(d.ImprovementPct),
			ciText(d), significanceText(d), strings.ToUpper(d.Verdict), d.Note)
	}
	return tw.Flush()
}

func describeSide(ref results.RunRef) string {
	s := runLabel(ref)
	if len(ref.Files) > 0 && !strings.Contains(s, ref.Files[0]) {
		s += " (" + strings.Join(ref.Files, ", ") + ")"
	}
	if ref.Scenario != "" && ref.Scenario != ref.Label {
		s += " · scenario " + ref.Scenario
	}
	if !ref.StartedAt.IsZero() {
		s += " · started " + ref.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return s
}
