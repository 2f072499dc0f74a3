package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

func TestFormats(t *testing.T) {
	if got, want := Formats(), []string{"text", "markdown", "json", "junit", "html"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	if got, want := ComparisonFormats(), []string{"text", "markdown", "json", "html"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ComparisonFormats() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		in         string
		comparison bool
		want       string
		wantErr    bool
	}{
		{"text", false, "text", false},
		{"MD", false, "markdown", false},
		{" Markdown ", false, "markdown", false},
		{"xml", false, "junit", false},
		{"html", true, "html", false},
		{"junit", true, "", true}, // a comparison has no objectives
		{"pdf", false, "", true},
		{"", false, "", true},
	} {
		got, err := NormalizeFormat(tc.in, tc.comparison)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("NormalizeFormat(%q, %v) = %q, %v; want %q, error %v", tc.in, tc.comparison, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Errorf("NormalizeFormat(%q): error %v is not ErrFormat", tc.in, err)
		}
	}
}

func TestWriteRejectsUnknownFormatAndNil(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, false))
	var buf bytes.Buffer
	if err := Write(&buf, "pdf", r); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "text, markdown, json, junit, html") {
		t.Errorf("Write(pdf) error = %v, want ErrFormat listing the formats", err)
	}
	if err := WriteComparison(&buf, "junit", &results.Comparison{}, nil, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("WriteComparison(junit) error = %v, want ErrFormat", err)
	}
	if err := Write(&buf, "text", nil); err == nil {
		t.Error("Write(nil result) succeeded")
	}
	if err := WriteComparison(&buf, "text", nil, nil, nil); err == nil {
		t.Error("WriteComparison(nil) succeeded")
	}
	if buf.Len() != 0 {
		t.Errorf("a rejected report wrote %d bytes", buf.Len())
	}
}

func TestTextIsResultsWriteText(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, false))
	var got, want bytes.Buffer
	if err := Write(&got, "text", r); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteText(&want, r); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("text report differs from results.WriteText")
	}
}

func TestJSONRoundTrips(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, false))
	var buf bytes.Buffer
	if err := Write(&buf, "json", r); err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(buf.Bytes())
	if err != nil {
		t.Fatalf("JSON report is not a readable result: %v", err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Error("JSON report does not decode to the same result")
	}
	if strings.Contains(buf.String(), `\u003c`) {
		t.Error(`JSON report escapes "<" (objectives like "p99 < 200ms" should stay readable)`)
	}

	c := syntheticComparison(r, r)
	buf.Reset()
	if err := WriteComparison(&buf, "json", c, nil, nil); err != nil {
		t.Fatal(err)
	}
	var cback results.Comparison
	if err := json.Unmarshal(buf.Bytes(), &cback); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&cback, c) {
		t.Error("comparison JSON does not decode to the same comparison")
	}
	for _, field := range []string{`"metric"`, `"base"`, `"new"`, `"delta_pct"`, `"improvement_pct"`, `"ci_low_pct"`, `"ci_high_pct"`, `"significant"`, `"verdict"`} {
		if !strings.Contains(buf.String(), field) {
			t.Errorf("comparison JSON lacks DESIGN.md field %s", field)
		}
	}
}

func TestMarkdownResult(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, true))
	var buf bytes.Buffer
	if err := Write(&buf, "markdown", r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## ❌ slogate: synthetic-guard — FAIL",
		"| ✅ | p50 < 50ms | run |",
		"| ❌ | p99 < 200ms **(key)** ×2 | run |",
		"| ✅ | p99 < 40ms | phase steady |",
		"| ⚠️ | p999 < 300ms | run |",
		"need >= 5000 requests to judge p999",
		"| ❌ | error_rate < 0.1% | run |",
		`block_rate < 10% \| odd`, // a pipe in a cell is escaped
		"**Verdict: ❌ FAIL (score 50.0)**",
		"- key objective p99 < 200ms failed",
		"**Error budget** (30-day SLO window",
		"| availability | error_rate < 0.1% | 99.9% |",
		"** 🔥 |", // burning faster than 1×
		"### Phases and endpoints",
		"| phase warm-up (warm-up, not measured) |",
		"| phase burst | 1600 | 160 req/s |",
		"| endpoint home |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q\n%s", want, md)
		}
	}
	// Every table row has the header's cell count: a stray pipe would break it.
	checkMarkdownTables(t, md)
}

func TestMarkdownComparison(t *testing.T) {
	base := syntheticRun(t, 20*time.Millisecond, 1, false)
	cur := syntheticRun(t, 10*time.Millisecond, 2, false)
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "markdown", syntheticComparison(base, cur), base, cur); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## slogate compare: base → new",
		"2 significantly better · 1 significantly worse",
		"> ⚠️ target env differs: DELAY_MS 20 → 10",
		"| 95% CI of change |",
		"| ✅ | p50 | run |",
		"| **+", // significant improvements in bold
		"| [-53.0%, -47.0%] | yes (p=0.003) |",
		"| ⚠️ | p999 | run |",
		"| – | – | need >= 5000 requests per side",
		"| ➖ | throughput | run |",
		"| ❌ | error_rate | phase burst |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comparison Markdown lacks %q\n%s", want, md)
		}
	}
	checkMarkdownTables(t, md)
}

func TestTextComparison(t *testing.T) {
	base := syntheticRun(t, 20*time.Millisecond, 1, false)
	cur := syntheticRun(t, 10*time.Millisecond, 2, false)
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "text", syntheticComparison(base, cur), nil, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"base: base (base.json) · scenario synthetic-guard", "warning: target env differs", "IMPROVEMENT", "BETTER", "NO CHANGE", "INCONCLUSIVE", "[-53.0%, -47.0%]"} {
		if !strings.Contains(out, want) {
			t.Errorf("text comparison lacks %q\n%s", want, out)
		}
	}
}

// checkMarkdownTables asserts every row of every pipe table has as many
// cells as its header.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	cells := func(line string) int {
		line = strings.ReplaceAll(line, `\|`, "")
		return strings.Count(line, "|") - 1
	}
	want := -1
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		if want < 0 {
			want = cells(line)
			continue
		}
		if got := cells(line); got != want {
			t.Errorf("Markdown row has %d cells, header has %d: %s", got, want, line)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"p99 < 200ms":       "p99 < 200ms",
		"a|b":               `a\|b`,
		"<script>x":         "&lt;script>x",
		"line\nbreak":       "line break",
		"x <= 1 and y >= 2": "x <= 1 and y >= 2",
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A run that passes on its weighted score although an objective failed is
// never shown as a clean pass: Markdown, HTML and text say it failed.
func TestPassWithFailedObjectiveIsNotAllGreen(t *testing.T) {
	r := syntheticRun(t, 10*time.Millisecond, 1, false)
	score := 99.9
	r.SLO = &results.SLOReport{
		Verdict: "pass", Score: &score, PassMark: 90, WarningMark: 90,
		Objectives: []results.ObjectiveResult{
			{Name: "p50", Objective: "p50 < 50ms", Scope: results.RunScope(), Unit: "ms", Verdict: "pass", Weight: 2000},
			{Name: "max", Objective: "max < 1ms", Scope: results.RunScope(), Unit: "ms", Verdict: "fail", Weight: 1},
		},
	}
	want := map[string][]string{
		"markdown": {"## ⚠️ slogate: synthetic-guard — PASS (score 99.9 ≥ 90) with 1 failing objective", "**Verdict: ⚠️ PASS (score 99.9 ≥ 90) with 1 failing objective**"},
		"html":     {`<span class="badge warning" id="verdict">PASS (score 99.9 ≥ 90) with 1 failing objective</span>`},
		"text":     {"VERDICT: PASS (score 99.9 ≥ 90) with 1 failing objective"},
		"junit":    {`failures="1"`, `type="SLOViolation"`},
	}
	for format, wants := range want {
		var buf bytes.Buffer
		if err := Write(&buf, format, r); err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q", format, w)
			}
		}
		if strings.Contains(buf.String(), "✅ slogate") || strings.Contains(buf.String(), `class="badge pass" id="verdict"`) {
			t.Errorf("%s shows a clean pass", format)
		}
	}
}
