package report

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// The Jenkins/Ant JUnit schema (junit-10.xsd / Ant's JUnitReport), read
// with every attribute as a raw string and a presence flag, so the test can
// say which required attribute is missing rather than get a zero value.
type xsdSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Suites  []xsdSuite `xml:"testsuite"`
	Other   []xsdAny   `xml:",any"`
}

type xsdSuite struct {
	Attrs      []xml.Attr `xml:",any,attr"`
	Properties *xsdProps  `xml:"properties"`
	Cases      []xsdCase  `xml:"testcase"`
	SystemOut  *string    `xml:"system-out"`
	SystemErr  *string    `xml:"system-err"`
	Other      []xsdAny   `xml:",any"`
}

type xsdProps struct {
	Props []struct {
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"property"`
}

type xsdCase struct {
	Attrs   []xml.Attr `xml:",any,attr"`
	Failure []xsdMsg   `xml:"failure"`
	Error   []xsdMsg   `xml:"error"`
	Skipped []xsdMsg   `xml:"skipped"`
	Other   []xsdAny   `xml:",any"`
}

type xsdMsg struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Text  string     `xml:",chardata"`
}

type xsdAny struct {
	XMLName xml.Name
}

func attr(attrs []xml.Attr, name string) (string, bool) {
	for _, a := range attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

var (
	xsdInt      = regexp.MustCompile(`^\d+$`)
	xsdDecimal  = regexp.MustCompile(`^\d+(\.\d+)?$`)
	xsdDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`) // Ant: ISO 8601, no zone
)

// validateJUnit checks a document against the schema's shape: the element
// nesting, every required attribute present and well-typed, no unknown
// child elements, and tests/failures/errors/skipped equal to what the test
// cases hold. It returns the parsed suite for further checks.
func validateJUnit(t *testing.T, doc []byte) xsdSuite {
	t.Helper()
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("JUnit report does not start with an XML declaration")
	}
	var root xsdSuites
	if err := xml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("JUnit report is not well-formed XML with a <testsuites> root: %v\n%s", err, doc)
	}
	if len(root.Other) > 0 {
		t.Errorf("<testsuites> has elements the schema does not allow: %v", root.Other)
	}
	if len(root.Suites) != 1 {
		t.Fatalf("want one <testsuite> per run, got %d", len(root.Suites))
	}
	s := root.Suites[0]
	for _, a := range []struct {
		name string
		re   *regexp.Regexp
	}{
		{"name", nil}, {"tests", xsdInt}, {"failures", xsdInt}, {"errors", xsdInt}, {"skipped", xsdInt},
		{"time", xsdDecimal}, {"timestamp", xsdDateTime}, {"hostname", nil}, {"id", xsdInt}, {"package", nil},
	} {
		v, ok := attr(s.Attrs, a.name)
		switch {
		case !ok:
			t.Errorf("<testsuite> lacks required attribute %q", a.name)
		case a.re != nil && !a.re.MatchString(v):
			t.Errorf("<testsuite %s=%q>: not a valid value", a.name, v)
		case a.re == nil && strings.TrimSpace(v) == "":
			t.Errorf("<testsuite %s>: empty (the schema wants a non-empty token)", a.name)
		}
	}
	if len(s.Other) > 0 {
		t.Errorf("<testsuite> has elements the schema does not allow: %v", s.Other)
	}
	if s.Properties != nil {
		for _, p := range s.Properties.Props {
			if _, ok := attr(p.Attrs, "name"); !ok {
				t.Error("<property> without name")
			}
			if _, ok := attr(p.Attrs, "value"); !ok {
				t.Error("<property> without value")
			}
		}
	}
	var failures, errs, skipped int
	for _, c := range s.Cases {
		name, ok := attr(c.Attrs, "name")
		if !ok || name == "" {
			t.Errorf("<testcase> without a name: %v", c.Attrs)
		}
		if _, ok := attr(c.Attrs, "classname"); !ok {
			t.Errorf("<testcase name=%q> lacks classname", name)
		}
		if v, ok := attr(c.Attrs, "time"); !ok || !xsdDecimal.MatchString(v) {
			t.Errorf("<testcase name=%q> time=%q", name, v)
		}
		if len(c.Other) > 0 {
			t.Errorf("<testcase name=%q> has elements the schema does not allow: %v", name, c.Other)
		}
		if len(c.Failure)+len(c.Error)+len(c.Skipped) > 1 {
			t.Errorf("<testcase name=%q> has more than one of failure/error/skipped", name)
		}
		for _, m := range append(append([]xsdMsg{}, c.Failure...), c.Skipped...) {
			if v, _ := attr(m.Attrs, "message"); v == "" {
				t.Errorf("<testcase name=%q>: failure/skipped without a message", name)
			}
		}
		failures += len(c.Failure)
		errs += len(c.Error)
		skipped += len(c.Skipped)
	}
	count := func(attrs []xml.Attr, name string) int {
		v, _ := attr(attrs, name)
		n, _ := strconv.Atoi(v)
		return n
	}
	for _, level := range []struct {
		what  string
		attrs []xml.Attr
	}{{"testsuite", s.Attrs}, {"testsuites", root.Attrs}} {
		if got := count(level.attrs, "tests"); got != len(s.Cases) {
			t.Errorf("<%s tests=%d>, it holds %d test cases", level.what, got, len(s.Cases))
		}
		if got := count(level.attrs, "failures"); got != failures {
			t.Errorf("<%s failures=%d>, %d cases failed", level.what, got, failures)
		}
		if got := count(level.attrs, "errors"); got != errs {
			t.Errorf("<%s errors=%d>, %d cases errored", level.what, got, errs)
		}
	}
	// The skipped count lives on <testsuite>: junit-10.xsd has no skipped
	// attribute on <testsuites> (see junit_xsd_test.go).
	if got := count(s.Attrs, "skipped"); got != skipped {
		t.Errorf("<testsuite skipped=%d>, %d cases skipped", got, skipped)
	}
	return s
}

func TestJUnitOneCasePerObjective(t *testing.T) {
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, true))
	var buf bytes.Buffer
	if err := Write(&buf, "junit", r); err != nil {
		t.Fatal(err)
	}
	s := validateJUnit(t, buf.Bytes())
	if got := len(s.Cases); got != len(r.SLO.Objectives) {
		t.Fatalf("%d test cases for %d objectives", got, len(r.SLO.Objectives))
	}
	if v, _ := attr(s.Attrs, "failures"); v != "2" {
		t.Errorf("failures = %s, want 2 (p99 and error_rate)", v)
	}
	if v, _ := attr(s.Attrs, "skipped"); v != "1" {
		t.Errorf("skipped = %s, want 1 (the inconclusive p999)", v)
	}
	if v, _ := attr(s.Attrs, "time"); v != "23.000" {
		t.Errorf("time = %s, want the run's 23.000 s", v)
	}
	want := map[string]string{
		"p50 < 50ms (run)":             "pass",
		"p99 < 200ms (run)":            "failure",
		"p99 < 40ms (phase steady)":    "pass",
		"p999 < 300ms (run)":           "skipped",
		"max < 5s (run)":               "pass",
		"error_rate < 0.1% (run)":      "failure",
		"block_rate < 10% | odd (run)": "pass",
	}
	for _, c := range s.Cases {
		name, _ := attr(c.Attrs, "name")
		got := "pass"
		switch {
		case len(c.Failure) > 0:
			got = "failure"
			msg, _ := attr(c.Failure[0].Attrs, "message")
			if !strings.Contains(msg, "measured") || !strings.Contains(c.Failure[0].Text, "objective:") {
				t.Errorf("%s: failure message %q / text %q do not say what was measured", name, msg, c.Failure[0].Text)
			}
		case len(c.Skipped) > 0:
			got = "skipped"
			if msg, _ := attr(c.Skipped[0].Attrs, "message"); !strings.Contains(msg, "need >= 5000 requests") {
				t.Errorf("%s: skipped message %q lacks the reason", name, msg)
			}
		}
		if want[name] != got {
			t.Errorf("test case %q: %s, want %s", name, got, want[name])
		}
		delete(want, name)
	}
	for name := range want {
		t.Errorf("no test case %q", name)
	}
	if s.SystemOut == nil || !strings.Contains(*s.SystemOut, "scenario synthetic-guard") {
		t.Error("<system-out> lacks the text summary")
	}
}

func TestJUnitRunVerdictWithoutFailedObjective(t *testing.T) {
	for _, tc := range []struct {
		verdict   string
		wantTests int
		wantFail  string
		wantSkip  string
	}{
		{"pass", 1, "0", "0"},
		{"inconclusive", 2, "0", "1"}, // generator saturated: not green
		{"fail", 2, "1", "0"},
	} {
		r := syntheticRun(t, 10*time.Millisecond, 1, false)
		r.SLO = &results.SLOReport{Verdict: tc.verdict, Reasons: []string{"generator saturated: 91% of the asked rate"},
			Objectives: []results.ObjectiveResult{{Name: "p99", Objective: "p99 < 200ms", Scope: results.RunScope(), Value: 20, Unit: "ms", Verdict: "pass"}}}
		var buf bytes.Buffer
		if err := Write(&buf, "junit", r); err != nil {
			t.Fatal(err)
		}
		s := validateJUnit(t, buf.Bytes())
		if len(s.Cases) != tc.wantTests {
			t.Errorf("verdict %s: %d test cases, want %d", tc.verdict, len(s.Cases), tc.wantTests)
		}
		if v, _ := attr(s.Attrs, "failures"); v != tc.wantFail {
			t.Errorf("verdict %s: failures=%s, want %s", tc.verdict, v, tc.wantFail)
		}
		if v, _ := attr(s.Attrs, "skipped"); v != tc.wantSkip {
			t.Errorf("verdict %s: skipped=%s, want %s", tc.verdict, v, tc.wantSkip)
		}
		if tc.wantTests == 2 && !strings.Contains(buf.String(), "generator saturated") {
			t.Errorf("verdict %s: the reason is not in the report", tc.verdict)
		}
	}
}

func TestJUnitWithoutSLO(t *testing.T) {
	r := syntheticRun(t, 10*time.Millisecond, 1, false)
	r.StartedAt = time.Time{}
	r.Environment.Hostname = ""
	var buf bytes.Buffer
	if err := Write(&buf, "junit", r); err != nil {
		t.Fatal(err)
	}
	// An empty suite is still a valid document (timestamp is then absent,
	// so only check well-formedness and counts here).
	var root xsdSuites
	if err := xml.Unmarshal(buf.Bytes(), &root); err != nil {
		t.Fatal(err)
	}
	if len(root.Suites) != 1 || len(root.Suites[0].Cases) != 0 {
		t.Errorf("want one empty suite, got %+v", root)
	}
	if v, _ := attr(root.Suites[0].Attrs, "hostname"); v == "" {
		t.Error("hostname must not be empty")
	}
}
