package vegeta

import (
	"sync/atomic"
	"time"

	"github.com/slogate/slogate/runner/plan"
)

// dueBook remembers the due time the pacer computed for each of its last
// hits, so that a request's due time is computed once: the pacer computes
// it to wait for it, and the transport (is the worker cap holding the
// schedule back?) and the result loop (latency = done − due) read it back.
// Schedule.Due solves ∫r = i numerically for sine phases (a few hundred
// nanoseconds), so computing it up to three times per request was
// measurable.
//
// Request seq lives in slot seq mod len(slots), tagged with seq. vegeta
// hands out sequence numbers only to ticks the pacer has sent, so seq's
// slot is written before anyone asks for it; a request that outlives
// len(slots) later hits (a slow answer at a high rate) finds another tag
// and its due time is computed again. A miss costs time, never correctness.
//
// One writer (vegeta's pacing goroutine), any number of readers. The writer
// invalidates the tag, stores the due time, then stores the tag; a reader
// that sees the same tag before and after reading the due time read the
// due time written with that tag (sequence numbers are never reused).
type dueBook struct {
	schedule *plan.Schedule
	slots    []dueSlot
	mask     int64
}

type dueSlot struct {
	seq atomic.Int64
	due atomic.Int64
}

// newDueBook keeps the last 2^k ≥ size hits.
func newDueBook(schedule *plan.Schedule, size int) *dueBook {
	n := 1
	for n < size {
		n <<= 1
	}
	b := &dueBook{schedule: schedule, slots: make([]dueSlot, n), mask: int64(n - 1)}
	for i := range b.slots {
		b.slots[i].seq.Store(-1)
	}
	return b
}

// next computes the due time of hit seq and keeps it (the pacer's call).
func (b *dueBook) next(seq int64) time.Duration {
	due, _ := b.schedule.Due(seq)
	s := &b.slots[seq&b.mask]
	s.seq.Store(-1)
	s.due.Store(int64(due))
	s.seq.Store(seq)
	return due
}

// due returns when request seq was due: kept by the pacer, or computed.
func (b *dueBook) due(seq int64) time.Duration {
	s := &b.slots[seq&b.mask]
	if s.seq.Load() == seq {
		due := s.due.Load()
		if s.seq.Load() == seq {
			return time.Duration(due)
		}
	}
	due, _ := b.schedule.Due(seq)
	return due
}
