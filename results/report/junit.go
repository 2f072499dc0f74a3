package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/slogate/slogate/results"
)

// The JUnit XML shape CI servers read (Jenkins, GitLab, GitHub test
// reporters): the Ant/Jenkins schema, <testsuites> → <testsuite> →
// <testcase> with an optional <failure> or <skipped>.
//
// <testsuites> has no skipped attribute in the Jenkins schema (junit-10.xsd
// rejects it): the skipped count is on <testsuite> only.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  cdata           `xml:"system-out"`
}

// cdata keeps multi-line text readable in the XML (newlines are not
// escaped as &#xA;); encoding/xml splits any "]]>" inside it.
type cdata struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// writeJUnit renders a result as one <testsuite> with one <testcase> per SLO
// objective (named objective + scope): a failed objective is a <failure>,
// an inconclusive one is <skipped> with the reason, and the suite's time is
// the run's duration. When the run's verdict is worse than its objectives
// say (the generator saturated, the run was cut short), one more test case,
// "run verdict", carries the reasons so CI does not show green.
func writeJUnit(w io.Writer, r *results.Result) error {
	classname := "slogate." + junitName(r.Scenario)
	suite := junitSuite{
		Name:     "slogate " + r.Scenario,
		Time:     fmt.Sprintf("%.3f", r.DurationS),
		Hostname: r.Environment.Hostname,
		Package:  "slogate",
	}
	if suite.Hostname == "" {
		suite.Hostname = "localhost"
	}
	if !r.StartedAt.IsZero() {
		// The Ant schema's timestamp is an ISO 8601 date-time without zone.
		suite.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	suite.Properties = []junitProperty{
		{Name: "scenario", Value: r.Scenario},
		{Name: "engine", Value: r.Engine},
		{Name: "target", Value: r.Environment.Target},
		{Name: "requests", Value: fmt.Sprint(r.Summary.Requests)},
		{Name: "partial", Value: fmt.Sprint(r.Partial)},
	}
	var text bytes.Buffer
	if err := results.WriteText(&text, r); err != nil {
		return err
	}
	suite.SystemOut = cdata{text.String()}

	if r.SLO != nil {
		suite.Properties = append(suite.Properties, junitProperty{Name: "verdict", Value: r.SLO.Verdict})
		if r.SLO.Score != nil {
			suite.Properties = append(suite.Properties, junitProperty{Name: "score", Value: fmt.Sprintf("%.1f", *r.SLO.Score)})
		}
		worst := verdictPass
		for i := range r.SLO.Objectives {
			o := &r.SLO.Objectives[i]
			tc := junitCase{Name: objectiveLabel(o), Classname: classname, Time: "0"}
			value := results.FormatValue(o.Value, o.Unit)
			switch o.Verdict {
			case verdictPass:
			case verdictFail:
				tc.Failure = &junitMessage{
					Message: fmt.Sprintf("%s: measured %s", o.Objective, value),
					Type:    "SLOViolation",
					Text:    objectiveFailureText(o, value),
				}
				worst = verdictFail
			default:
				msg := o.Detail
				if msg == "" {
					msg = o.Verdict
				}
				tc.Skipped = &junitMessage{Message: fmt.Sprintf("%s: %s", o.Verdict, msg)}
				if worst == verdictPass {
					worst = verdictInconclusive
				}
			}
			suite.Cases = append(suite.Cases, tc)
		}
		if unexplained(r.SLO.Verdict, worst) {
			tc := junitCase{Name: "run verdict (" + r.SLO.Verdict + ")", Classname: classname, Time: "0"}
			msg := strings.Join(r.SLO.Reasons, "; ")
			if msg == "" {
				msg = "the run's verdict is " + r.SLO.Verdict
			}
			if r.SLO.Verdict == verdictFail {
				tc.Failure = &junitMessage{Message: msg, Type: "RunVerdict"}
			} else {
				tc.Skipped = &junitMessage{Message: msg}
			}
			suite.Cases = append(suite.Cases, tc)
		}
	}
	for _, tc := range suite.Cases {
		suite.Tests++
		switch {
		case tc.Failure != nil:
			suite.Failures++
		case tc.Skipped != nil:
			suite.Skipped++
		}
	}
	doc := junitSuites{
		Name: "slogate", Tests: suite.Tests, Failures: suite.Failures,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JUnit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// unexplained reports whether the run verdict is worse than the worst
// objective verdict, so the reason would be invisible in the test cases.
// A "warning" (a weighted score below pass) is explained by the failed
// objectives it comes from.
func unexplained(run, worstObjective string) bool {
	switch run {
	case verdictFail:
		return worstObjective != verdictFail
	case verdictInconclusive:
		return worstObjective == verdictPass
	}
	return false
}

func objectiveFailureText(o *results.ObjectiveResult, value string) string {
	var lines []string
	lines = append(lines, fmt.Sprintf("objective: %s", o.Objective))
	lines = append(lines, fmt.Sprintf("scope:     %s", o.Scope))
	lines = append(lines, fmt.Sprintf("measured:  %s", value))
	if o.Baseline != nil {
		lines = append(lines, fmt.Sprintf("baseline:  %s", results.FormatValue(*o.Baseline, o.Unit)))
	}
	if o.Key {
		lines = append(lines, "key objective: its failure fails the run")
	}
	if o.Detail != "" {
		lines = append(lines, "detail:    "+o.Detail)
	}
	return strings.Join(lines, "\n")
}

// junitName keeps a scenario name usable as a Java-style class name segment.
func junitName(s string) string {
	if s == "" {
		return "run"
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}
