package slo

import (
	"fmt"

	"github.com/slogate/slogate/results"
)

// JudgeComparison sets the comparison's one verdict, the verdict every
// output shows and the exit code follows: inconclusive (exit 3) when a
// compared run is unreliable (saturated generator, interrupted; see
// Unreliable) unless force accepts it; otherwise worse when any metric is
// significantly worse, better when any is significantly better, else no
// change.
func JudgeComparison(c *results.Comparison, runs []*results.Result, force bool) {
	c.Verdict, c.Reasons = "", nil
	if !force {
		unreliable := 0
		for _, r := range runs {
			if Unreliable(r) {
				unreliable++
			}
		}
		if unreliable > 0 {
			c.Verdict = Inconclusive
			c.Reasons = append(c.Reasons, fmt.Sprintf("%d of the %d compared runs saturated the load generator or were interrupted (see the warnings); --force accepts them", unreliable, len(runs)))
			return
		}
	}
	better, worse := 0, 0
	for i := range c.Metrics {
		switch c.Metrics[i].Verdict {
		case Better:
			better++
		case Worse:
			worse++
		}
	}
	switch {
	case worse > 0:
		c.Verdict = Worse
	case better > 0:
		c.Verdict = Better
	default:
		c.Verdict = NoChange
	}
}
