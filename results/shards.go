package results

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// ShardSet is what CheckShards found about the shards of one run.
type ShardSet struct {
	// Sequence is the run's segment sequence ("0,1/4,1/2,3/4,1").
	Sequence string
	// Held are the shards' segments, in the sequence's order; Missing the
	// sequence's segments no shard holds.
	Held, Missing []string
	// Partial names the shards that were interrupted ("1/4:1/2 (b.json)").
	Partial []string
}

// Complete reports whether the shards hold the whole run and none was cut
// short: only then may their merge pass.
func (s ShardSet) Complete() bool { return len(s.Missing) == 0 && len(s.Partial) == 0 }

// Segment is the merged result's segment: what the shards hold of the run
// ("0:1" when complete), the sequence, and what is missing.
func (s ShardSet) Segment() *Segment {
	return &Segment{Value: joinRanges(s.Held), Sequence: s.Sequence, Missing: s.Missing}
}

// CheckShards checks that shards (read from the files names) are shards of
// one run: one scenario (hash), one segment sequence, and no segment held
// twice or overlapping another. A result without a segment holds the whole
// run ("0:1" of "0,1"). Segments of the sequence that no shard holds are
// reported as Missing, not as an error: the merge is then inconclusive.
func CheckShards(names []string, shards []*Result) (ShardSet, error) {
	var set ShardSet
	if len(shards) == 0 {
		return set, fmt.Errorf("no shards")
	}
	type held struct {
		from, to *big.Rat
		value    string
		name     string
	}
	var segs []held
	for i, r := range shards {
		seg := r.Segment
		if seg == nil {
			seg = &Segment{Value: "0:1", Sequence: "0,1"}
		}
		if h, h0 := r.Environment.ScenarioHash, shards[0].Environment.ScenarioHash; h != h0 || r.Scenario != shards[0].Scenario {
			return set, fmt.Errorf("%s is a shard of scenario %q (hash %s), %s of %q (hash %s): shards of different scenarios do not merge",
				names[i], r.Scenario, h, names[0], shards[0].Scenario, h0)
		}
		if i == 0 {
			set.Sequence = seg.Sequence
		} else if seg.Sequence != set.Sequence {
			return set, fmt.Errorf("%s has the segment sequence %s, %s has %s: the shards of one run name one sequence (--segment-sequence)",
				names[i], seg.Sequence, names[0], set.Sequence)
		}
		from, to, err := parseSegmentRange(seg.Value)
		if err != nil {
			return set, fmt.Errorf("%s: %w", names[i], err)
		}
		segs = append(segs, held{from, to, seg.Value, names[i]})
		if r.Partial {
			set.Partial = append(set.Partial, seg.Value+" ("+names[i]+")")
		}
	}
	sequence, err := parseSequence(set.Sequence)
	if err != nil {
		return set, fmt.Errorf("%s: %w", names[0], err)
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].from.Cmp(segs[j].from) < 0 })
	for i := 1; i < len(segs); i++ {
		a, b := segs[i-1], segs[i]
		switch {
		case a.from.Cmp(b.from) == 0 && a.to.Cmp(b.to) == 0:
			return set, fmt.Errorf("segment %s is held twice (%s and %s): a duplicated shard", b.value, a.name, b.name)
		case b.from.Cmp(a.to) < 0:
			return set, fmt.Errorf("segments %s (%s) and %s (%s) overlap", a.value, a.name, b.value, b.name)
		}
	}
	heldBy := map[string]bool{}
	for _, s := range segs {
		heldBy[s.from.RatString()+":"+s.to.RatString()] = true
	}
	for _, s := range segs {
		found := false
		for i := 0; i+1 < len(sequence); i++ {
			if sequence[i].Cmp(s.from) == 0 && sequence[i+1].Cmp(s.to) == 0 {
				found = true
			}
		}
		if !found {
			return set, fmt.Errorf("%s: segment %s is not one of its sequence %s", s.name, s.value, set.Sequence)
		}
	}
	for i := 0; i+1 < len(sequence); i++ {
		v := sequence[i].RatString() + ":" + sequence[i+1].RatString()
		if heldBy[v] {
			set.Held = append(set.Held, v)
		} else {
			set.Missing = append(set.Missing, v)
		}
	}
	return set, nil
}

func parseSegmentRange(v string) (from, to *big.Rat, err error) {
	f, t, ok := strings.Cut(v, ":")
	from, ok1 := new(big.Rat).SetString(f)
	to, ok2 := new(big.Rat).SetString(t)
	if !ok || !ok1 || !ok2 || from.Sign() < 0 || to.Cmp(from) <= 0 || to.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, nil, fmt.Errorf("segment %q: want FROM:TO, 0 ≤ FROM < TO ≤ 1", v)
	}
	return from, to, nil
}

func parseSequence(v string) ([]*big.Rat, error) {
	var out []*big.Rat
	for _, p := range strings.Split(v, ",") {
		r, ok := new(big.Rat).SetString(p)
		if !ok || (len(out) > 0 && r.Cmp(out[len(out)-1]) <= 0) {
			return nil, fmt.Errorf("segment sequence %q: want increasing fractions from 0 to 1", v)
		}
		out = append(out, r)
	}
	if len(out) < 2 || out[0].Sign() != 0 || out[len(out)-1].Cmp(big.NewRat(1, 1)) != 0 {
		return nil, fmt.Errorf("segment sequence %q: want increasing fractions from 0 to 1", v)
	}
	return out, nil
}

// joinRanges writes held segments (in order) as their contiguous unions:
// "0:1/4", "1/4:1/2" → "0:1/2"; gaps separate ranges with commas.
func joinRanges(held []string) string {
	var out []string
	for _, h := range held {
		from, to, _ := strings.Cut(h, ":")
		if n := len(out); n > 0 {
			if _, prevTo, _ := strings.Cut(out[n-1], ":"); prevTo == from {
				pf, _, _ := strings.Cut(out[n-1], ":")
				out[n-1] = pf + ":" + to
				continue
			}
		}
		out = append(out, h)
	}
	return strings.Join(out, ",")
}
