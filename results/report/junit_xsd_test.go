package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// junitXSD is the Jenkins xUnit plugin's JUnit schema (see the file's
// header for its origin and licence).
const junitXSD = "testdata/junit-10.xsd"

// junitVariants are JUnit reports of the shapes slogate writes: failures,
// skipped (inconclusive) objectives, a run-verdict case, no SLO at all.
func junitVariants(t *testing.T) map[string][]byte {
	t.Helper()
	partial := syntheticRun(t, 10*time.Millisecond, 2, false)
	partial.Partial = true
	partial.SLO = &results.SLOReport{Verdict: "inconclusive", Reasons: []string{"the run was interrupted"}, Objectives: []results.ObjectiveResult{
		{Name: "p50", Objective: "p50 < 50ms", Scope: results.RunScope(), Unit: "ms", Verdict: "pass"},
	}}
	out := map[string][]byte{}
	for name, r := range map[string]*results.Result{
		"fail-and-skipped": withSLO(syntheticRun(t, 10*time.Millisecond, 1, true)),
		"run-verdict":      partial,
		"no-slo":           syntheticRun(t, 10*time.Millisecond, 3, false),
	} {
		var buf bytes.Buffer
		if err := Write(&buf, "junit", r); err != nil {
			t.Fatal(err)
		}
		out[name] = buf.Bytes()
	}
	return out
}

// TestJUnitValidatesAgainstJenkinsSchema runs the real validator, xmllint,
// on every shape of report (`apt-get install libxml2-utils`).
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found (apt-get install -y libxml2-utils); TestJUnitUsesOnlySchemaAttributes still checks the attributes")
	}
	dir := t.TempDir()
	for name, doc := range junitVariants(t) {
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--schema", junitXSD, p).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate against %s: %v\n%s", name, junitXSD, err, out)
		}
	}
}

// TestJUnitUsesOnlySchemaAttributes checks without any tool what the schema
// says of elements and attributes: every element is declared, uses only its
// declared attributes and has its required ones.
func TestJUnitUsesOnlySchemaAttributes(t *testing.T) {
	schema := readSchemaAttributes(t)
	for name, doc := range junitVariants(t) {
		dec := xml.NewDecoder(bytes.NewReader(doc))
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			start, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			attrs, declared := schema[start.Name.Local]
			if !declared {
				t.Errorf("%s: element <%s> is not in the schema", name, start.Name.Local)
				continue
			}
			seen := map[string]bool{}
			for _, a := range start.Attr {
				seen[a.Name.Local] = true
				if _, ok := attrs[a.Name.Local]; !ok {
					t.Errorf("%s: <%s %s=...>: the schema has no such attribute", name, start.Name.Local, a.Name.Local)
				}
			}
			for a, required := range attrs {
				if required && !seen[a] {
					t.Errorf("%s: <%s> lacks its required attribute %s", name, start.Name.Local, a)
				}
			}
		}
	}
}

// readSchemaAttributes reads the XSD's top-level element declarations:
// element name → attribute name → required.
func readSchemaAttributes(t *testing.T) map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(junitXSD)
	if err != nil {
		t.Fatal(err)
	}
	type attribute struct {
		Name string `xml:"name,attr"`
		Use  string `xml:"use,attr"`
	}
	var doc struct {
		Types []struct {
			Name  string      `xml:"name,attr"`
			Attrs []attribute `xml:"attribute"`
		} `xml:"complexType"`
		Elements []struct {
			Name    string `xml:"name,attr"`
			Type    string `xml:"type,attr"`
			Complex struct {
				Attrs []attribute `xml:"attribute"`
			} `xml:"complexType"`
		} `xml:"element"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", junitXSD, err)
	}
	named := map[string][]attribute{}
	for _, ct := range doc.Types {
		named[ct.Name] = ct.Attrs
	}
	out := map[string]map[string]bool{}
	for _, e := range doc.Elements {
		attrs := e.Complex.Attrs
		if e.Type != "" {
			attrs = named[e.Type]
		}
		out[e.Name] = map[string]bool{}
		for _, a := range attrs {
			out[e.Name][a.Name] = a.Use == "required"
		}
	}
	if len(out["testsuites"]) == 0 || !out["testsuite"]["name"] {
		t.Fatalf("%s: schema not read (%v)", junitXSD, out)
	}
	return out
}
