package slo

import (
	"reflect"
	"testing"
)

// A set written as a result's definition reads back as the same
// objectives (every field a user can write, each kind of threshold and
// scope) and scoring; the defaults write no definition.
func TestDefinitionRoundTrip(t *testing.T) {
	set, err := loadSet(t, `objectives:
  - {metric: p99, threshold: "< 200ms", key: true, weight: 3}
  - {metric: block_rate, threshold: "1%..10%", phase: attack}
  - {metric: throughput, threshold: ">= 97%"}
  - {name: login errors, metric: error_rate, threshold: "< 0.1%", endpoint: login}
  - {metric: p95, budget: "<=+10%"}
  - {name: rss, promql: 'max(process_resident_memory_bytes) / 1e6', threshold: "< 512", over: run}
scoring: {pass: 90, warning: 75}
`)
	if err != nil {
		t.Fatal(err)
	}
	def := set.Definition()
	back, err := FromDefinition("r.json: slo.definition", def)
	if err != nil {
		t.Fatalf("%v\n%s", err, def)
	}
	if back.Scoring != set.Scoring {
		t.Errorf("scoring %+v, want %+v", back.Scoring, set.Scoring)
	}
	if len(back.Objectives) != len(set.Objectives) {
		t.Fatalf("%d objectives back, want %d\n%s", len(back.Objectives), len(set.Objectives), def)
	}
	for i := range set.Objectives {
		a, b := set.Objectives[i], back.Objectives[i]
		a.Line, b.Line = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("objective %d: %+v back, want %+v", i, b, a)
		}
	}
	if d := Default().Definition(); d != "" {
		t.Errorf("the defaults wrote a definition: %q", d)
	}
	if _, err := FromDefinition("r.json: slo.definition", "objectives: [{metric: p99, threshold: nope}]"); err == nil {
		t.Error("a broken definition was accepted")
	}
}
