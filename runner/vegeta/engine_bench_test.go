package vegeta

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
	"github.com/slogate/slogate/runner/plan"
	"github.com/slogate/slogate/scenarios"
)

// answerOK answers every request at once, in memory: what is left is the
// generator's own cost per request (pacing, due times, the mix, recording).
type answerOK struct{}

func (answerOK) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}, nil
}

// BenchmarkEngine runs b.N requests through the engine at a rate no
// generator holds (1M req/s: the pacer never waits) against answerOK, and
// reports the process's CPU time per request (user+sys), which a shared
// machine's load disturbs less than wall time.
func BenchmarkEngine(b *testing.B) {
	for _, kind := range []struct {
		name, phase string
		meanRate    float64
	}{
		{"constant", "kind: constant, rate: 1000000", 1e6},
		{"sine", "kind: sine, rate: 1000000, amplitude: 500000, period: 100ms", 1e6},
		{"step", "kind: step, from: 500000, to: 1000000, steps: 10", 0.75e6},
		{"burst", "kind: burst, rate: 500000, burst_rate: 1000000, burst_every: 100ms, burst_duration: 20ms", 0.6e6},
	} {
		b.Run(kind.name, func(b *testing.B) {
			// About b.N requests at the phase's mean rate.
			dur := time.Duration(float64(b.N)/kind.meanRate*float64(time.Second)) + time.Millisecond
			s, err := scenarios.Parse("bench.yaml", ".", fmt.Appendf(nil, `name: bench
target: {url: "http://127.0.0.1:1/"}
requests: [{name: home, path: /}]
phases: [{name: main, %s, duration: %s}]
`, kind.phase, dur))
			if err != nil {
				b.Fatal(err)
			}
			schedule := plan.NewSchedule(s)
			mix, err := plan.NewMix(s, s.Target.URL)
			if err != nil {
				b.Fatal(err)
			}
			job := plan.Job{
				Scenario: s, Schedule: schedule, Mix: mix, BaseURL: s.Target.URL,
				Recorder:   results.NewRecorder(results.Plan{Phases: schedule.PhaseSpecs(), Endpoints: mix.Endpoints()}),
				MaxWorkers: 64, Timeout: 5 * time.Second, Drain: 5 * time.Second, Transport: answerOK{},
			}
			cpu := func() time.Duration {
				var ru syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
				return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			b.ResetTimer()
			before := cpu()
			stats, err := Run(context.Background(), job)
			used := cpu() - before
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(used.Nanoseconds())/float64(max(stats.Sent, 1)), "cpu-ns/req")
			b.ReportMetric(float64(stats.Sent)/float64(b.N), "sent/op")
		})
	}
}
