package k8s

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// crdSchema loads the openAPIV3Schema of the TestRun CRD of k6-operator
// v1.6.0 (testdata/k6-operator, see its README) for the version v1alpha1.
func crdSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/k6-operator/k6.io_testruns.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Group    string `yaml:"group"`
			Names    struct{ Kind string }
			Versions []struct {
				Name   string `yaml:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	if crd.Spec.Group != "k6.io" || crd.Spec.Names.Kind != "TestRun" {
		t.Fatalf("not the TestRun CRD: %s %s", crd.Spec.Group, crd.Spec.Names.Kind)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == "v1alpha1" {
			return v.Schema.OpenAPIV3Schema
		}
	}
	t.Fatal("no v1alpha1 in the CRD")
	return nil
}

// objectMeta are the metadata fields the generated manifests may use (the
// API server validates metadata as ObjectMeta, not by the CRD's schema).
var objectMeta = map[string]bool{"name": true, "namespace": true, "labels": true, "annotations": true, "generateName": true}

// validate checks v against the subset of OpenAPI v3 that CRD structural
// schemas use, the way the API server does with
// kubectl apply --validate=strict: an object field the schema does not
// declare is an error (unless x-kubernetes-preserve-unknown-fields or
// additionalProperties allow it). It returns every violation, by path.
func validate(path string, s map[string]any, v any) []string {
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	if v == nil {
		if b, _ := s["nullable"].(bool); !b {
			fail("null")
		}
		return errs
	}
	if b, _ := s["x-kubernetes-int-or-string"].(bool); b {
		switch x := v.(type) {
		case int:
		case string:
			if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
				fail("%q does not match %s", x, p)
			}
		default:
			fail("want an integer or a string, got %T", v)
		}
		return errs
	}
	if alts, ok := s["anyOf"].([]any); ok {
		matched := false
		for _, sub := range alts {
			if len(validate(path, sub.(map[string]any), v)) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			fail("matches none of anyOf")
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			fail("%v not in enum %v", v, enum)
		}
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, got %T", v)
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		preserve, _ := s["x-kubernetes-preserve-unknown-fields"].(bool)
		for _, r := range asList(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				fail("required field %q missing", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := path + "." + k
			if p, ok := props[k]; ok {
				errs = append(errs, validate(sub, p.(map[string]any), m[k])...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case map[string]any:
				errs = append(errs, validate(sub, ap, m[k])...)
				continue
			case bool:
				if ap {
					continue
				}
			}
			if !preserve {
				errs = append(errs, sub+": unknown field")
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			fail("want an array, got %T", v)
			return errs
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range l {
			if items != nil {
				errs = append(errs, validate(fmt.Sprintf("%s[%d]", path, i), items, x)...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want a string, got %T (%v)", v, v)
			return errs
		}
		if n, ok := s["maxLength"].(int); ok && len(str) > n {
			fail("longer than %d", n)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	case "integer":
		n, ok := v.(int)
		if !ok {
			fail("want an integer, got %T (%v)", v, v)
			return errs
		}
		if s["format"] == "int32" && (n < math.MinInt32 || n > math.MaxInt32) {
			fail("%d out of int32", n)
		}
		if min, ok := s["minimum"].(int); ok && n < min {
			fail("%d below %d", n, min)
		}
	case "number":
		switch v.(type) {
		case int, float64:
		default:
			fail("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, got %T (%v)", v, v)
		}
	case "":
	default:
		fail("schema type %q not supported by this validator", typ)
	}
	return errs
}

func asList(v any) []any { l, _ := v.([]any); return l }

// validateTestRun validates a TestRun document: metadata as ObjectMeta,
// the rest by the CRD's schema.
func validateTestRun(t *testing.T, schema map[string]any, doc map[string]any) []string {
	t.Helper()
	var errs []string
	if m, ok := doc["metadata"].(map[string]any); ok {
		for k := range m {
			if !objectMeta[k] {
				errs = append(errs, "metadata."+k+": unknown field")
			}
		}
		if n, _ := m["name"].(string); n == "" {
			errs = append(errs, "metadata.name missing")
		}
	} else {
		errs = append(errs, "metadata missing")
	}
	if doc["apiVersion"] != "k6.io/v1alpha1" || doc["kind"] != "TestRun" {
		errs = append(errs, fmt.Sprintf("apiVersion/kind %v/%v", doc["apiVersion"], doc["kind"]))
	}
	rest := map[string]any{}
	for k, v := range doc {
		if k != "metadata" {
			rest[k] = v
		}
	}
	return append(errs, validate("", schema, rest)...)
}

// decodeDocs splits the multi-document YAML into its documents.
func decodeDocs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var docs []map[string]any
	for i := 0; i < 10; i++ {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

func TestValidatorRejectsWhatStrictValidationRejects(t *testing.T) {
	schema := crdSchema(t)
	good := func() map[string]any {
		return map[string]any{
			"apiVersion": "k6.io/v1alpha1", "kind": "TestRun",
			"metadata": map[string]any{"name": "x"},
			"spec": map[string]any{
				"parallelism": 4,
				"script":      map[string]any{"configMap": map[string]any{"name": "x", "file": "test.js"}},
				"runner": map[string]any{"image": "i", "resources": map[string]any{
					"limits": map[string]any{"cpu": "1", "memory": 1024}}},
			},
		}
	}
	if errs := validateTestRun(t, schema, good()); len(errs) > 0 {
		t.Fatalf("a valid TestRun refused: %v", errs)
	}
	cases := map[string]func(d map[string]any){
		"unknown spec field":   func(d map[string]any) { d["spec"].(map[string]any)["parallelizm"] = 4 },
		"unknown runner field": func(d map[string]any) { d["spec"].(map[string]any)["runner"].(map[string]any)["imagee"] = "i" },
		"string parallelism":   func(d map[string]any) { d["spec"].(map[string]any)["parallelism"] = "4" },
		"missing parallelism":  func(d map[string]any) { delete(d["spec"].(map[string]any), "parallelism") },
		"missing configMap name": func(d map[string]any) {
			delete(d["spec"].(map[string]any)["script"].(map[string]any)["configMap"].(map[string]any), "name")
		},
		"bad cleanup": func(d map[string]any) { d["spec"].(map[string]any)["cleanup"] = "always" },
		"bad quantity": func(d map[string]any) {
			d["spec"].(map[string]any)["runner"].(map[string]any)["resources"].(map[string]any)["limits"].(map[string]any)["cpu"] = "lots"
		},
		"unknown metadata": func(d map[string]any) { d["metadata"].(map[string]any)["nmae"] = "x" },
		"args not a list":  func(d map[string]any) { d["spec"].(map[string]any)["args"] = "--out x" },
		"env entry unknown": func(d map[string]any) {
			d["spec"].(map[string]any)["runner"].(map[string]any)["env"] = []any{map[string]any{"name": "A", "val": "b"}}
		},
	}
	for name, mutate := range cases {
		d := good()
		mutate(d)
		if errs := validateTestRun(t, schema, d); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, errs)
		}
	}
}
