package results

import "fmt"

// NoteDroppedIterations records k6's dropped_iterations: an arrival-rate
// executor drops an iteration it cannot start on schedule rather than start
// it late, so any drop means the generator did not hold the asked rate and
// the run is saturated (inconclusive), with the reason said once, here.
// n ≤ 0 changes nothing.
func (g *Generator) NoteDroppedIterations(n int64) {
	if n <= 0 {
		return
	}
	g.DroppedIterations = n
	g.Saturated = true
	g.Reasons = append(g.Reasons, fmt.Sprintf("k6 dropped %d iterations: it could not start them on schedule", n))
}
