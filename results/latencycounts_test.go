package results

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// The paged counts must rebuild exactly the histogram a full one records:
// same encoding, same summary, for values on every bucket edge and spread
// over the whole range.
func TestLatencyCountsMatchHDR(t *testing.T) {
	edges := []int64{-5, 0, 1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 2050, 4095, 4096, 4097,
		1 << 20, 1<<20 + 1, 1<<21 - 1, histHighestUs - 1, histHighestUs, histHighestUs + 1, 1 << 40}
	rng := rand.New(rand.NewPCG(1, 2))
	values := append([]int64(nil), edges...)
	for range 200000 {
		// log-uniform over 1 µs .. 1 h, so every octave is hit
		values = append(values, int64(1<<uint(rng.IntN(33)))+rng.Int64N(1<<20))
	}
	var c latencyCounts
	full := NewHistogram()
	for _, us := range values {
		d := time.Duration(us) * time.Microsecond
		c.record(d)
		recordDuration(full, d)
	}
	got, want := c.histogram(), full
	ge, _ := EncodeHistogram(got)
	we, _ := EncodeHistogram(want)
	if ge != we {
		t.Fatalf("encodings differ: paged %d counts, full %d", got.TotalCount(), want.TotalCount())
	}
	if LatencyFrom(got) != LatencyFrom(want) {
		t.Fatalf("summaries differ: %+v vs %+v", LatencyFrom(got), LatencyFrom(want))
	}
	for _, q := range []float64{50, 99, 99.9} {
		if a, b := c.quantileMs(q), QuantileMs(want, q); a != b {
			t.Fatalf("p%v: %v vs %v", q, a, b)
		}
	}
}

// slotValue inverts slot on every bucket: a bucket's lowest value maps back
// to the bucket, and the value one below it to the bucket before.
func TestSlotRoundTrip(t *testing.T) {
	last := slot(histHighestUs)
	for s := 1; s <= last; s++ {
		v := slotValue(s)
		if slot(v) != s {
			t.Fatalf("slot(slotValue(%d)=%d) = %d", s, v, slot(v))
		}
		if v > 1 && slot(v-1) != s-1 {
			t.Fatalf("slot(%d) = %d, want %d", v-1, slot(v-1), s-1)
		}
	}
	if last/pageSize >= countPages {
		t.Fatalf("1 h lands on page %d of %d", last/pageSize, countPages)
	}
}

// An entry's cost follows the latencies it saw, not the histogram's range:
// 1000 answers between 0.5 and 20 ms touch a few pages, not all 92.
func TestLatencyCountsPagesFollowTheSpread(t *testing.T) {
	var c latencyCounts
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		c.record(500*time.Microsecond + time.Duration(rng.Int64N(int64(19500*time.Microsecond))))
	}
	pages := 0
	for _, p := range c.pages {
		if p != nil {
			pages++
		}
	}
	// 0.5..20 ms spans the exact range's upper half and octaves 2^10..2^14 µs:
	// at most 2 + 5*4 pages.
	if pages > 22 {
		t.Fatalf("%d pages of %d allocated for a 0.5..20 ms spread", pages, countPages)
	}
}

// BenchmarkRecorderEntryCost reports the heap a recorder holds per request
// entry after a run that spreads 200 answers over each of 64 entries.
func BenchmarkRecorderEntryCost(b *testing.B) {
	const entries = 64
	names := make([]string, entries)
	for i := range names {
		names[i] = "e" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	var perEntry float64
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: time.Minute}}, Endpoints: names})
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range entries * 200 {
			lat := time.Millisecond + time.Duration(rng.Int64N(int64(10*time.Millisecond)))
			rec.Record(Sample{Endpoint: i % entries, Due: time.Duration(i) * time.Millisecond, Latency: lat, ServiceLatency: lat})
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / entries
		runtime.KeepAlive(rec)
	}
	b.ReportMetric(perEntry, "B/entry")
}

// BenchmarkRecord is the recorder's per-request cost on the generator's hot
// path: one sample into the run, its phase, its entry and its second.
func BenchmarkRecord(b *testing.B) {
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "p", Duration: time.Hour}}, Endpoints: []string{"a", "b"}})
	rng := rand.New(rand.NewPCG(7, 8))
	lat := make([]time.Duration, 4096)
	for i := range lat {
		lat[i] = time.Millisecond + time.Duration(rng.Int64N(int64(20*time.Millisecond)))
	}
	b.ResetTimer()
	for i := range b.N {
		l := lat[i%len(lat)]
		rec.Record(Sample{Endpoint: i & 1, Due: time.Duration(i) * 50 * time.Microsecond, Latency: l, ServiceLatency: l, Lateness: 10 * time.Microsecond, Status: 200})
	}
}
