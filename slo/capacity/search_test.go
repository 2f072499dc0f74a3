package capacity

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// queue simulates a single-server target of capacity n req/s behind a
// generator that can send at most genLimit req/s, gated on p99 < 200 ms:
// p99 = 10 ms · (1 + 5ρ/(1−ρ)) under the capacity, unbounded at and past it.
// The highest passing rate is ρ = 19/24 of n. The clock advances by each
// step's duration.
type queue struct {
	n, genLimit float64
	now         time.Time
	steps       int
}

func (q *queue) measure(_ context.Context, rate float64, d time.Duration) (Step, error) {
	q.now = q.now.Add(d)
	q.steps++
	st := Step{Summary: results.Summary{Requests: int64(rate * d.Seconds()), RequestRateRPS: math.Min(rate, q.genLimit)}}
	if q.genLimit > 0 && rate > q.genLimit {
		st.Verdict, st.GeneratorSaturated = results.VerdictInconclusive, true
		return st, nil
	}
	rho := rate / q.n
	p99 := math.Inf(1)
	if rho < 1 {
		p99 = 10 * (1 + 5*rho/(1-rho))
	}
	st.Summary.LatencyMs.P99 = math.Min(p99, 60_000)
	if p99 < 200 {
		st.Verdict = results.VerdictPass
	} else {
		st.Verdict = results.VerdictFail
		st.LimitedBy = &LimitedBy{Objective: "p99 < 200ms", RateRPS: rate, Value: st.Summary.LatencyMs.P99, Unit: "ms"}
	}
	return st, nil
}

func TestSearchFindsTheCapacityWithinItsBudget(t *testing.T) {
	for _, n := range []float64{300, 1000, 7000} {
		q := &queue{n: n, now: time.Unix(0, 0)}
		budget := 10 * time.Minute
		s, err := Run(context.Background(), Config{MaxRate: 20000, StepDuration: 10 * time.Second, Budget: budget, Now: func() time.Time { return q.now }}, q.measure)
		if err != nil {
			t.Fatal(err)
		}
		want := n * 19 / 24
		if !s.Found() || !s.Confirmed || math.Abs(s.CapacityRPS-want) > 0.10*want {
			t.Fatalf("n=%v: capacity %v (confirmed %v, %s), want %v ± 10%%", n, s.CapacityRPS, s.Confirmed, s.Stopped, want)
		}
		if s.CapacityRPS > want {
			t.Fatalf("n=%v: capacity %v above the highest passing rate %v", n, s.CapacityRPS, want)
		}
		if used := q.now.Sub(time.Unix(0, 0)); used > budget {
			t.Fatalf("n=%v: the search used %v of a %v budget", n, used, budget)
		}
		if s.LimitedBy == nil || s.LimitedBy.Objective != "p99 < 200ms" {
			t.Fatalf("limited by %+v", s.LimitedBy)
		}
		if s.KneeRPS == 0 || s.KneeRPS > n {
			t.Fatalf("knee %v for capacity %v", s.KneeRPS, n)
		}
	}
}

// A target faster than the generator gives no capacity figure: the answer is
// generator-bound at the generator's rate.
func TestSearchGeneratorBound(t *testing.T) {
	q := &queue{n: 1e6, genLimit: 3000, now: time.Unix(0, 0)}
	s, err := Run(context.Background(), Config{MaxRate: 50000, Now: func() time.Time { return q.now }}, q.measure)
	if err != nil {
		t.Fatal(err)
	}
	if s.Found() || !s.GeneratorBound || s.GeneratorLimitRPS != 3000 || s.CapacityRPS != 0 {
		t.Fatalf("%+v", s)
	}
}

// The budget ends the search between steps with the best bound known.
func TestSearchHonoursItsBudget(t *testing.T) {
	q := &queue{n: 5000, now: time.Unix(0, 0)}
	budget := 45 * time.Second
	s, err := Run(context.Background(), Config{StartRate: 100, MaxRate: 20000, StepDuration: 10 * time.Second, Budget: budget, Now: func() time.Time { return q.now }}, q.measure)
	if err != nil {
		t.Fatal(err)
	}
	if used := q.now.Sub(time.Unix(0, 0)); used > budget {
		t.Fatalf("used %v of %v", used, budget)
	}
	if s.Confirmed || s.CapacityRPS != 800 || s.Stopped != "budget exhausted while rising" {
		t.Fatalf("capacity %v confirmed %v stopped %q, want the unconfirmed 800 of four rising steps", s.CapacityRPS, s.Confirmed, s.Stopped)
	}
}

func TestPlan(t *testing.T) {
	rows := Plan(1000, 0.3, []float64{3000, 10000, 100})
	want := []int{5, 15, 1}
	for i, r := range rows {
		if r.Instances != want[i] {
			t.Errorf("load %v: %d instances, want %d", r.LoadRPS, r.Instances, want[i])
		}
	}
	if Plan(0, 0.3, []float64{1}) != nil || Plan(10, 1, []float64{1}) != nil {
		t.Error("a plan without a capacity or with 100% headroom")
	}
}
