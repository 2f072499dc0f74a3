package plan

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/scenarios"
)

// Every request of every phase belongs to exactly one segment of a
// sequence, and each segment sends within one request of its exact share
// of every phase.
func TestSegmentOwnershipPartitionsEveryPhase(t *testing.T) {
	for _, sequence := range []string{"0,1/4,1/2,3/4,1", "0,1/3,1", "0,0.1,0.35,1", "0,25%,1", "0,1"} {
		points := strings.Split(sequence, ",")
		var segs []*Segment
		for i := 1; i < len(points); i++ {
			seg, err := ParseSegment(points[i-1]+":"+points[i], sequence)
			if err != nil {
				t.Fatalf("%s: %v", sequence, err)
			}
			segs = append(segs, seg)
		}
		s := &scenarios.Scenario{Phases: []scenarios.Phase{
			{Name: "a", Kind: "constant", Rate: 97, Duration: scenarios.Duration(3 * time.Second)},
			{Name: "b", Kind: "constant", Rate: 13, Duration: scenarios.Duration(time.Second)},
			{Name: "c", Kind: "constant", Rate: 401, Duration: scenarios.Duration(2 * time.Second)},
		}}
		whole := NewSchedule(s)
		owner := make([]int, whole.Total())
		for i := range owner {
			owner[i] = -1
		}
		var sum int64
		for si, seg := range segs {
			sc := whole.Segmented(seg)
			sum += sc.Total()
			for k := int64(0); k < sc.Total(); k++ {
				g := sc.Global(k)
				if owner[g] != -1 {
					t.Fatalf("%s: request %d in segments %d and %d", sequence, g, owner[g], si)
				}
				owner[g] = si
				due, phase := sc.Due(k)
				wdue, wphase := whole.Due(g)
				if due != wdue || phase != wphase {
					t.Fatalf("%s: request %d due %v/%d in the shard, %v/%d in the whole run", sequence, g, due, phase, wdue, wphase)
				}
				if k > 0 {
					if prev, _ := sc.Due(k - 1); prev > due {
						t.Fatalf("%s: shard dues not monotonic at %d", sequence, k)
					}
				}
			}
			specs, wspecs := sc.PhaseSpecs(), whole.PhaseSpecs()
			for p := range specs {
				exact := seg.Fraction() * float64(wspecs[p].Planned)
				if math.Abs(float64(specs[p].Planned)-exact) > 1 {
					t.Errorf("%s segment %s phase %d: %d requests, exact share %.2f", sequence, seg.Value, p, specs[p].Planned, exact)
				}
			}
		}
		if sum != whole.Total() {
			t.Errorf("%s: shards plan %d requests, the run %d", sequence, sum, whole.Total())
		}
		for g, o := range owner {
			if o == -1 {
				t.Fatalf("%s: request %d in no segment", sequence, g)
			}
		}
	}
}

func TestParseSegment(t *testing.T) {
	seg, err := ParseSegment("0.25:50%", "0,1/4,1/2,3/4,1")
	if err != nil {
		t.Fatal(err)
	}
	if seg.Value != "1/4:1/2" || seg.Sequence != "0,1/4,1/2,3/4,1" {
		t.Errorf("got %q in %q", seg.Value, seg.Sequence)
	}
	if seg, err = ParseSegment("1/4:1/2", ""); err != nil || seg.Sequence != "0,1/4,1/2,1" {
		t.Errorf("filled sequence: %v %v", seg, err)
	}
	for _, bad := range [][2]string{{"1/2:1/4", ""}, {"x", ""}, {"0:1/3", "0,1/4,1"}, {"0:1/4", "0,1/4,1/2"}, {"1/4:1/4", ""}} {
		if _, err := ParseSegment(bad[0], bad[1]); err == nil {
			t.Errorf("%q in %q accepted", bad[0], bad[1])
		}
	}
}
