package vegeta

import (
	"sync"
	"testing"

	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// Readers racing the pacer always get the schedule's due time: from the
// book while the slot still holds their request, computed once it was
// reused by a later hit (a book of 16 slots wraps constantly here).
func TestDueBookAgreesWithSchedule(t *testing.T) {
	s, err := scenarios.Parse("due.yaml", ".", []byte(`name: due
target: {url: "http://127.0.0.1:1/"}
requests: [{name: home, path: /}]
phases:
  - {name: wave, kind: sine, rate: 2000, amplitude: 1000, period: 1s, duration: 2s}
  - {name: steps, kind: step, from: 100, to: 3000, steps: 5, duration: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	schedule := plan.NewSchedule(s)
	book := newDueBook(schedule, 16)
	total := schedule.Total()
	sent := make(chan int64, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range sent {
				want, _ := schedule.Due(seq)
				if got := book.due(seq); got != want {
					t.Errorf("due(%d) = %v, want %v", seq, got, want)
				}
				if seq > 16 { // an old request, long overwritten
					old := seq - 17
					if want, _ := schedule.Due(old); book.due(old) != want {
						t.Errorf("due(%d) after reuse = %v, want %v", old, book.due(old), want)
					}
				}
			}
		}()
	}
	for seq := int64(0); seq < total; seq++ {
		want, _ := schedule.Due(seq)
		if got := book.next(seq); got != want {
			t.Fatalf("next(%d) = %v, want %v", seq, got, want)
		}
		sent <- seq
	}
	close(sent)
	wg.Wait()
}
