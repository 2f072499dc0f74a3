package results

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestScopeStringAndParse(t *testing.T) {
	for _, c := range []struct {
		scope Scope
		text  string
	}{
		{RunScope(), "run"},
		{PhaseScope("steady"), "phase steady"},
		{PhaseScope("ramp up"), "phase ramp up"}, // a name with a space
		{EndpointScope("home"), "endpoint home"},
		{EndpointScope("GET /api/x"), "endpoint GET /api/x"},
		{Scope{Kind: ScopeScriptThreshold}, "k6 threshold"},
		{Scope{Kind: ScopeScript}, "k6 script"},
		{Scope{}, ""},
	} {
		if got := c.scope.String(); got != c.text {
			t.Errorf("%#v.String() = %q, want %q", c.scope, got, c.text)
		}
		if got := parseScope(c.text); got != c.scope {
			t.Errorf("parseScope(%q) = %#v, want %#v", c.text, got, c.scope)
		}
	}
	// Any text comes back unchanged, even one no slogate wrote.
	for _, text := range []string{"phase", "phase ", "endpoint", "class gold", "k6 threshold x", " run", "phase  two"} {
		if got := parseScope(text).String(); got != text {
			t.Errorf("parseScope(%q).String() = %q", text, got)
		}
	}
	if !(Scope{}).IsZero() || (Scope{}).OrRun() != RunScope() || PhaseScope("p").OrRun() != PhaseScope("p") {
		t.Error("the zero scope is unset and defaults to the run")
	}
}

// A scope is written as its text, "scope", exactly as before, plus the
// structured "phase" or "endpoint"; both read back to the same scope.
func TestScopeJSON(t *testing.T) {
	for _, c := range []struct {
		scope Scope
		want  map[string]any // the scope's keys in the JSON object
	}{
		{RunScope(), map[string]any{"scope": "run"}},
		{PhaseScope("steady"), map[string]any{"scope": "phase steady", "phase": "steady"}},
		{EndpointScope("home"), map[string]any{"scope": "endpoint home", "endpoint": "home"}},
		{Scope{Kind: ScopeScript}, map[string]any{"scope": "k6 script"}},
		{Scope{}, map[string]any{"scope": ""}},
	} {
		o := ObjectiveResult{Name: "p99", Objective: "p99 < 200ms", Scope: c.scope, Unit: "ms", Verdict: VerdictPass}
		d := MetricDelta{Metric: "p99", Scope: c.scope, Unit: "ms", Verdict: ChangeNoChange}
		for _, row := range []any{o, d} {
			data, err := json.Marshal(row)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, k := range []string{"scope", "phase", "endpoint"} {
				if v, ok := m[k]; ok {
					got[k] = v
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%T %s: scope keys %v, want %v (%s)", row, c.scope, got, c.want, data)
			}
			back := reflect.New(reflect.TypeOf(row))
			if err := json.Unmarshal(data, back.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), row) {
				t.Errorf("%T %s: read back %+v, want %+v", row, c.scope, back.Elem().Interface(), row)
			}
		}
	}

	// The rows escape as the encoder around them asks, as before: "<"
	// escaped by json.Marshal, kept by an encoder told not to.
	o := ObjectiveResult{Objective: "p99 < 200ms", Scope: PhaseScope("a<b")}
	data, _ := json.Marshal(o)
	if !bytes.Contains(data, []byte(`p99 \u003c 200ms`)) || !bytes.Contains(data, []byte(`"phase":"a\u003cb"`)) {
		t.Errorf("json.Marshal: %s", data)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `p99 < 200ms`) || strings.Contains(buf.String(), `\u003c`) {
		t.Errorf("encoder without HTML escaping: %s", buf.String())
	}
}

// Result and comparison files written before the structured scope fields
// still read, their scopes taken from the text.
func TestScopeReadsOldFiles(t *testing.T) {
	rec := NewRecorder(Plan{Phases: []PhaseSpec{{Name: "steady", Duration: 2 * time.Second, Planned: 4}}, Endpoints: []string{"home"}})
	for i := 0; i < 4; i++ {
		rec.Record(Sample{Due: time.Duration(i) * time.Second / 2, Latency: time.Millisecond, Outcome: OutcomeSuccess, Status: 200})
	}
	r := rec.Result(Finish{Scenario: "s", Engine: "vegeta", StartedAt: time.Now(), Elapsed: 2 * time.Second})
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// As an older slogate wrote it: scope text only.
	var old map[string]any
	if err := json.Unmarshal([]byte(`{"verdict": "pass", "objectives": [
		{"name": "a", "objective": "p99 < 200ms", "scope": "run", "value": 1, "unit": "ms", "verdict": "pass"},
		{"name": "b", "objective": "p99 < 200ms", "scope": "phase steady", "value": 1, "unit": "ms", "verdict": "pass"},
		{"name": "c", "objective": "p99 < 200ms", "scope": "endpoint home", "value": 1, "unit": "ms", "verdict": "pass"},
		{"name": "d", "objective": "p(95)<200", "scope": "k6 threshold", "value": 1, "unit": "ms", "verdict": "pass"}]}`), &old); err != nil {
		t.Fatal(err)
	}
	doc["slo"] = old
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Scope{RunScope(), PhaseScope("steady"), EndpointScope("home"), {Kind: ScopeScriptThreshold}}
	for i, o := range back.SLO.Objectives {
		if o.Scope != want[i] {
			t.Errorf("objective %d: scope %#v, want %#v", i, o.Scope, want[i])
		}
	}

	var c Comparison
	if err := json.Unmarshal([]byte(`{"schema": "slogate.compare/v1", "base": {"label": "base"}, "new": {"label": "new"},
		"warnings": ["compared with --force although OS differs: \"linux\" vs \"darwin\""],
		"metrics": [
		{"metric": "p50", "scope": "run", "unit": "ms", "verdict": "no change"},
		{"metric": "p50", "scope": "phase steady", "unit": "ms", "verdict": "better"},
		{"metric": "p50", "scope": "endpoint GET /x", "unit": "ms", "verdict": "inconclusive"}]}`), &c); err != nil {
		t.Fatal(err)
	}
	want = []Scope{RunScope(), PhaseScope("steady"), EndpointScope("GET /x")}
	for i, m := range c.Metrics {
		if m.Scope != want[i] {
			t.Errorf("row %d: scope %#v, want %#v", i, m.Scope, want[i])
		}
	}
	if len(c.Warnings) != 1 {
		t.Errorf("warnings %v", c.Warnings)
	}
}
