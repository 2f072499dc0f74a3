package plan

import (
	"fmt"
	"testing"

	"github.com/slogate/slogate/scenarios"
)

// BenchmarkScheduleDue is the cost of one due time by phase kind; the
// vegeta engine computes it once per request (its pacer), so this is the
// schedule's share of the generator's CPU per request.
func BenchmarkScheduleDue(b *testing.B) {
	for _, kind := range []struct{ name, phase string }{
		{"constant", "kind: constant, rate: 5000"},
		{"ramp", "kind: ramp, from: 1000, to: 9000"},
		{"step", "kind: step, from: 1000, to: 9000, steps: 10"},
		{"sine", "kind: sine, rate: 5000, amplitude: 2000, period: 10s"},
		{"burst", "kind: burst, rate: 2000, burst_rate: 20000, burst_every: 10s, burst_duration: 2s"},
	} {
		b.Run(kind.name, func(b *testing.B) {
			s, err := scenarios.Parse("bench.yaml", ".", fmt.Appendf(nil, `name: bench
target: {url: "http://127.0.0.1:1/"}
requests: [{name: home, path: /}]
phases: [{name: main, %s, duration: 60s}]
`, kind.phase))
			if err != nil {
				b.Fatal(err)
			}
			sc := NewSchedule(s)
			total := sc.Total()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sc.Due(int64(i) % total)
			}
		})
	}
}
