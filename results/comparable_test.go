package results

import (
	"reflect"
	"testing"
)

func TestMismatches(t *testing.T) {
	env := Environment{OS: "linux", Arch: "amd64", CPUModel: "Xeon", CPUs: 8, ScenarioHash: "abc", Hostname: "a"}
	other := env
	other.Hostname, other.GoVersion, other.Target = "b", "go1.99", "http://elsewhere" // not part of the rule
	if m := Mismatches("s", env, "s", other); len(m) != 0 {
		t.Fatalf("same scenario and machine: %v", m)
	}
	moved := env
	moved.CPUs, moved.Arch = 4, "arm64"
	got := Mismatches("s", env, "t", moved)
	want := []Mismatch{{"scenario", "s", "t"}, {"architecture", "amd64", "arm64"}, {"CPU count", "8", "4"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s := got[2].String(); s != `CPU count differs: "8" vs "4"` {
		t.Fatalf("String() = %s", s)
	}
	e := HistoryEntry{Scenario: "s", Environment: env}
	if !e.Comparable("s", other) || e.Comparable("s", moved) || e.Comparable("t", env) {
		t.Fatal("HistoryEntry.Comparable does not follow Mismatches")
	}
}
