package results

import "testing"

func TestNoteDroppedIterations(t *testing.T) {
	var g Generator
	g.NoteDroppedIterations(0)
	if g.Saturated || g.DroppedIterations != 0 || len(g.Reasons) != 0 {
		t.Fatalf("no drops changed the generator: %+v", g)
	}
	g.NoteDroppedIterations(7)
	if !g.Saturated || g.DroppedIterations != 7 || len(g.Reasons) != 1 ||
		g.Reasons[0] != "k6 dropped 7 iterations: it could not start them on schedule" {
		t.Fatalf("7 drops: %+v", g)
	}
}
