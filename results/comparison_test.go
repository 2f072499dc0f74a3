package results

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// A warning is written twice: its text in "warnings", as before, and
// {kind, text} in "warning_list". A file without the list still reads.
func TestComparisonWarnings(t *testing.T) {
	c := &Comparison{Schema: ComparisonSchema, Metrics: []MetricDelta{}}
	c.Warn(WarningMismatch, `compared with --force although OS differs: "linux" vs "darwin"`)
	c.Warn(WarningTooFewRuns, "need >= 4 runs per side to detect a difference at alpha level 0.05 (have 2 and 2): no metric is judged")
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Warnings    []string         `json:"warnings"`
		WarningList []map[string]any `json:"warning_list"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	wantText := []string{`compared with --force although OS differs: "linux" vs "darwin"`,
		"need >= 4 runs per side to detect a difference at alpha level 0.05 (have 2 and 2): no metric is judged"}
	if !reflect.DeepEqual(doc.Warnings, wantText) {
		t.Errorf("warnings %q, want %q", doc.Warnings, wantText)
	}
	wantList := []map[string]any{
		{"kind": "mismatch", "text": wantText[0]},
		{"kind": "too-few-runs", "text": wantText[1]},
	}
	if !reflect.DeepEqual(doc.WarningList, wantList) {
		t.Errorf("warning_list %v, want %v", doc.WarningList, wantList)
	}
	var back Comparison
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("read back %+v, want %+v", back, *c)
	}

	// Without warnings neither field is written, as before.
	data, _ = json.Marshal(&Comparison{Schema: ComparisonSchema})
	if strings.Contains(string(data), "warning") {
		t.Errorf("no warnings: %s", data)
	}
	// An older file: text only.
	var old Comparison
	if err := json.Unmarshal([]byte(`{"schema": "slogate.compare/v1", "warnings": ["A/B sides: OS differs"], "metrics": []}`), &old); err != nil {
		t.Fatal(err)
	}
	if len(old.Warnings) != 1 || old.WarningList != nil {
		t.Errorf("old file: %+v", old)
	}
}
