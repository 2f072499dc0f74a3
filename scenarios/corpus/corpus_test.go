package corpus

import (
	"slices"
	"testing"
)

func TestCorpusShape(t *testing.T) {
	c := IOCs()
	if len(c) != Size {
		t.Fatalf("len = %d, want %d", len(c), Size)
	}
	seen := map[string]bool{}
	for _, v := range c {
		if seen[v] {
			t.Fatalf("duplicate %q", v)
		}
		seen[v] = true
	}
	if !slices.Equal(c, generate()) {
		t.Error("corpus is not deterministic")
	}
	if c[0] != "8.8.8.8" {
		t.Errorf("hot set must come first, got %q", c[0])
	}
}

func TestPick(t *testing.T) {
	for seq := range uint64(500) {
		lo, hi := int(seq%7), int(seq%7)+int(seq%50)
		got := Pick(seq, lo, hi)
		if len(got) < lo || len(got) > hi {
			t.Fatalf("Pick(%d, %d, %d) has %d entries", seq, lo, hi, len(got))
		}
		if !slices.Equal(got, Pick(seq, lo, hi)) {
			t.Fatalf("Pick(%d) not deterministic", seq)
		}
		seen := map[string]bool{}
		for _, v := range got {
			if seen[v] {
				t.Fatalf("Pick(%d) repeats %q", seq, v)
			}
			seen[v] = true
		}
	}
	if n := len(Pick(1, 1000, 1000)); n != 1000 {
		t.Errorf("large pick has %d", n)
	}
	if n := len(Pick(1, 5, 2)); n != 5 {
		t.Errorf("max < min gives %d, want min", n)
	}
	if n := len(Pick(1, 0, 1<<30)); n > Size {
		t.Errorf("pick larger than the corpus: %d", n)
	}
	// About hotShare of a long run of single picks come from the hot set.
	hot := 0
	for seq := range uint64(10000) {
		if slices.Index(IOCs()[:HotSize], Pick(seq, 1, 1)[0]) >= 0 {
			hot++
		}
	}
	if share := float64(hot) / 10000; share < 0.18 || share > 0.24 {
		t.Errorf("hot share = %.3f, want about %.2f (+ uniform hits on the hot set)", share, hotShare)
	}
}

func TestHot(t *testing.T) {
	seen := map[string]bool{}
	for seq := range uint64(2000) {
		v := Hot(seq, 50)
		if slices.Index(IOCs()[:50], v) < 0 {
			t.Fatalf("Hot(%d, 50) = %q is not among the first 50", seq, v)
		}
		seen[v] = true
	}
	if len(seen) != 50 {
		t.Errorf("Hot over 2000 requests reached %d of 50 entries", len(seen))
	}
	if Hot(3, 0) != IOCs()[0] {
		t.Error("n clamps to 1")
	}
}
