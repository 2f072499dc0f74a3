package plan

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"go.k6.io/k6/lib"
)

// maxSegmentLCD bounds the striping cycle of a segment sequence (the least
// common denominator of its segments): 0.333 gives 1000, which is fine; a
// sequence of many unrelated decimals is refused rather than tabulated.
const maxSegmentLCD = 1 << 20

// Segment is this process's share of a run split across processes, in
// k6's execution-segment terms (`--execution-segment 1/4:1/2` within
// `--execution-segment-sequence 0,1/4,1/2,3/4,1`). Within each phase, the
// phase's request j belongs to exactly one segment of the sequence: the one
// k6's striping gives position j mod LCD (lib.ExecutionTuple's striped
// offsets), so the shards of one sequence together send every request once
// and each sends within one request of its exact fraction of every phase.
type Segment struct {
	Value    string // the segment, as k6 prints it ("1/4:1/2")
	Sequence string // the whole sequence, as k6 prints it ("0,1/4,1/2,3/4,1")
	// owned are the positions in [0, lcd) that belong to the segment, sorted.
	owned    []int64
	lcd      int64
	fraction float64
}

// ParseSegment parses a segment and an optional sequence in k6's syntax
// (fractions, decimals or percents: "0:1/4", "0.25:0.5", "50%:75%"). Without
// a sequence the segment is striped within k6's filled sequence of it
// ("1/4:1/2" alone: "0,1/4,1/2,1"), as k6 does; shards meant to be merged
// must name one sequence.
func ParseSegment(value, sequence string) (*Segment, error) {
	seg, err := lib.NewExecutionSegmentFromString(value)
	if err != nil {
		return nil, fmt.Errorf("segment %q: %w", value, err)
	}
	var seq lib.ExecutionSegmentSequence
	if sequence != "" {
		if seq, err = lib.NewExecutionSegmentSequenceFromString(sequence); err != nil {
			return nil, fmt.Errorf("segment sequence %q: %w", sequence, err)
		}
		if !seq.IsFull() {
			return nil, fmt.Errorf("segment sequence %q: it must run from 0 to 1", sequence)
		}
		if _, err := seq.FindSegmentPosition(seg); err != nil {
			return nil, fmt.Errorf("segment %s is not one of the sequence %s", seg, seq)
		}
	}
	if seg.FloatLength() == 0 {
		return nil, fmt.Errorf("segment %q is empty", value)
	}
	if lcd := lib.GetFilledExecutionSegmentSequence(&seq, seg).LCD(); lcd > maxSegmentLCD || lcd <= 0 {
		return nil, fmt.Errorf("segment sequence %s: its striping cycle (%d) is too long: use simpler fractions", seq, lcd)
	}
	tuple, err := lib.NewExecutionTuple(seg, &seq)
	if err != nil {
		return nil, err
	}
	start, offsets, lcd := tuple.GetStripedOffsets()
	s := &Segment{
		Value:    seg.String(),
		Sequence: tuple.Sequence.ExecutionSegmentSequence.String(),
		lcd:      lcd,
		fraction: seg.FloatLength(),
	}
	// offsets[k] is the distance to the next owned position; the last one
	// wraps to the next cycle's start.
	for pos, k := start, 0; k < len(offsets); k++ {
		s.owned = append(s.owned, pos)
		pos += offsets[k]
	}
	if len(s.owned) == 0 {
		return nil, errors.New("segment owns no request")
	}
	return s, nil
}

// Fraction is the segment's length (0 < f ≤ 1).
func (s *Segment) Fraction() float64 {
	if s == nil {
		return 1
	}
	return s.fraction
}

// Count is how many of the positions 0..n-1 belong to the segment.
func (s *Segment) Count(n int64) int64 {
	if s == nil {
		return n
	}
	m := int64(len(s.owned))
	rest := n % s.lcd
	return (n/s.lcd)*m + int64(sort.Search(len(s.owned), func(i int) bool { return s.owned[i] >= rest }))
}

// Nth is the position of the segment's k-th (0-based) request.
func (s *Segment) Nth(k int64) int64 {
	if s == nil {
		return k
	}
	m := int64(len(s.owned))
	return (k/m)*s.lcd + s.owned[k%m]
}

// Owns reports whether position j belongs to the segment.
func (s *Segment) Owns(j int64) bool {
	if s == nil {
		return true
	}
	r := j % s.lcd
	i := sort.Search(len(s.owned), func(i int) bool { return s.owned[i] >= r })
	return i < len(s.owned) && s.owned[i] == r
}

// SegmentBounds parses a segment in k6's syntax and returns its bounds as
// exact fractions.
func SegmentBounds(value string) (from, to *big.Rat, err error) {
	seg, err := lib.NewExecutionSegmentFromString(value)
	if err != nil {
		return nil, nil, err
	}
	f, t, _ := strings.Cut(seg.String(), ":")
	from, ok1 := new(big.Rat).SetString(f)
	to, ok2 := new(big.Rat).SetString(t)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("segment %q: want FROM:TO", value)
	}
	return from, to, nil
}
