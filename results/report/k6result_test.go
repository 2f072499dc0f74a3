package report

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slogate/slogate/results"
)

// Small axis ranges (a short k6 script run) get clean tick labels.
func TestLinearTicksSmallSteps(t *testing.T) {
	var got []string
	for _, tk := range (linearTicks{}).Ticks(0, 1.1) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if want := []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ticks 0..1.1: %v, want %v", got, want)
	}
}

// A k6 script result: the versions line names k6, the asked rate of a
// closed model is unknown, the generator line has no vegeta workers.
func TestK6ResultFacts(t *testing.T) {
	r := &results.Result{Engine: "k6", Environment: results.Environment{Slogate: "dev", GoVersion: "go1.x", Vegeta: "v12.13.0", K6: "v1.8.1"},
		Generator: results.Generator{SentReqs: 1}}
	if v := versionsLine(r); !strings.Contains(v, "k6 v1.8.1") || strings.Contains(v, "vegeta") {
		t.Errorf("versions line %q", v)
	}
	if a := askedSub(r); !strings.Contains(a, "unknown") {
		t.Errorf("asked %q", a)
	}
	if g := generatorLine(&r.Generator); strings.Contains(g, "workers") || !strings.Contains(g, "unknown") {
		t.Errorf("generator line %q", g)
	}
	r.Engine = "vegeta"
	if v := versionsLine(r); !strings.Contains(v, "vegeta v12.13.0") {
		t.Errorf("vegeta versions line %q", v)
	}
}
