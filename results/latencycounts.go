package results

import (
	"math/bits"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// latencyCounts holds the counts of one HDR histogram with slogate's geometry
// (1 µs .. 1 h, 3 significant digits) in pages that are allocated only when a
// value first lands in them. A full histogram keeps all ~23,500 counters
// (188 KB); a scenario entry that saw a few hundred requests between 0.5 and
// 20 ms touches a handful of 2 KB pages. That is what makes a scope (a phase
// or a request entry, three histograms each) cheap: its cost grows with the
// spread of its latencies, never with the number of entries asked for.
//
// The bucketing is HdrHistogram's own, so histogram() rebuilds exactly the
// histogram that recording the same values in a full one would give (same
// counts, same encoding; tested against hdrhistogram-go):
//
//	a value v < 1024 µs is its own bucket;
//	for v in [2^k, 2^(k+1)) with k ≥ 10 the bucket width is 2^(k-10):
//	v is kept as its top 11 bits, m = v >> (k-10), m in [1024, 2048),
//	and stands for the bucket's lowest value m << (k-10).
//
// (3 significant digits means 2^11 = 2048 sub-buckets of which the upper
// 1024 repeat in every octave; values below 2048 are exact, as in HDR.)
type latencyCounts struct {
	pages [countPages]*[pageSize]int64
	total int64
}

const (
	pageSize    = 256
	octaveSize  = 1024 // buckets per octave from 2^10 up (and below 2^10 in all)
	lowOctaves  = 1    // the exact range [0, 1024) is one "octave" of buckets
	topBit      = 31   // 1 h = 3.6e9 µs < 2^32
	octaves     = lowOctaves + topBit - 10 + 1
	pagesPerOct = octaveSize / pageSize
	countPages  = octaves * pagesPerOct
)

// slot returns the bucket number of us (clamped into 1 µs .. 1 h).
func slot(us int64) int {
	if us < histLowestUs {
		us = histLowestUs
	}
	if us > histHighestUs {
		us = histHighestUs
	}
	if us < octaveSize {
		return int(us)
	}
	k := bits.Len64(uint64(us)) - 1 // 2^k <= us < 2^(k+1), k >= 10
	shift := k - 10
	m := int(us>>shift) - octaveSize // 0 .. 1023
	return (k-10+lowOctaves)*octaveSize + m
}

// slotValue is the lowest value of bucket s, the inverse of slot.
func slotValue(s int) int64 {
	if s < octaveSize {
		return int64(s)
	}
	oct := s/octaveSize - lowOctaves // k - 10
	m := int64(s%octaveSize + octaveSize)
	return m << oct
}

// record counts one duration (clamped into the trackable range).
func (c *latencyCounts) record(d time.Duration) {
	s := slot(int64(d / time.Microsecond))
	p := c.pages[s/pageSize]
	if p == nil {
		p = new([pageSize]int64)
		c.pages[s/pageSize] = p
	}
	p[s%pageSize]++
	c.total++
}

// histogram builds the full HDR histogram of what was recorded.
func (c *latencyCounts) histogram() *hdrhistogram.Histogram {
	h := NewHistogram()
	for pi, p := range c.pages {
		if p == nil {
			continue
		}
		for i, n := range p {
			if n != 0 {
				_ = h.RecordValues(slotValue(pi*pageSize+i), n) // in range by construction
			}
		}
	}
	return h
}

// quantileMs is QuantileMs of histogram(), for the live progress line.
func (c *latencyCounts) quantileMs(q float64) float64 {
	if c.total == 0 {
		return 0
	}
	return QuantileMs(c.histogram(), q)
}
