package yamlfile

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Count int       `yaml:"count"`
	Pos   Positions `yaml:"-"`
}

type outer struct {
	Name    string            `yaml:"name"`
	Headers map[string]string `yaml:"headers"`
	Inner   *inner            `yaml:"inner"`
	List    []inner           `yaml:"list"`
	Pos     Positions         `yaml:"-"`
}

func decodeDoc(t *testing.T, doc string, v any) error {
	t.Helper()
	root, err := Root("f.yaml", []byte(doc), Kind{Empty: "empty", Holds: "one"})
	if err != nil {
		return err
	}
	return InFile("f.yaml", 0, Decode(root, v, ""))
}

func TestDecodeKeepsPositions(t *testing.T) {
	var o outer
	doc := "name: a\nheaders:\n  X-A: 1\n  X.B: 2\ninner: {count: 3}\nlist:\n  - count: 1\n  -\n    count: 2\n"
	if err := decodeDoc(t, doc, &o); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want int
	}{{"name", 1}, {"headers", 2}, {"headers.X-A", 3}, {"headers.X.B", 4}, {"headers.X-C", 2}, {"inner", 5}, {"absent", 1}} {
		if got := o.Pos.Line(c.key); got != c.want {
			t.Errorf("Line(%q) = %d, want %d", c.key, got, c.want)
		}
	}
	if o.Inner == nil || o.Inner.Count != 3 || o.Inner.Pos.Line("count") != 5 {
		t.Errorf("inner %+v", o.Inner)
	}
	if len(o.List) != 2 || o.List[1].Count != 2 || o.List[1].Pos.Line("count") != 9 {
		t.Errorf("list %+v", o.List)
	}
}

func TestDecodeErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"name: a\nlist:\n  - {count: 1, cuont: 2}\n", `f.yaml: line 3: unknown field "cuont" in list[0] (known: count)`},
		{"inner: {count: x}\n", "f.yaml: line 1: inner.count: cannot unmarshal !!str `x` into int"},
		{"name: a\nname: b\n", "f.yaml: line 2: name: given twice (first at line 1)"},
		{"list: {count: 1}\n", "f.yaml: line 1: list: want a list, not a mapping"},
		{"inner: 3\n", `f.yaml: line 1: inner: want a mapping of count, not int "3"`},
		{"", "f.yaml: empty"},
		{"name: a\n---\nname: b\n", "f.yaml: line 2: a second YAML document (after ---): one"},
		{"name: a\n---\n  b: [\n", "(in a second YAML document)"},
	}
	for _, c := range cases {
		var o outer
		err := decodeDoc(t, c.doc, &o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.doc, err, c.want)
		}
	}
	for _, doc := range []string{"name: a\n---\n", "name: a\n---\n# nothing\n---\n", "inner: ~\n"} {
		var o outer
		if err := decodeDoc(t, doc, &o); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		err  Error
		want string
	}{
		{Error{File: "s.yaml", Line: 4, Field: "phases[0].rate", Msg: "must be > 0"}, "s.yaml: line 4: phases[0].rate: must be > 0"},
		{Error{File: "s.yaml", Msg: "empty scenario document"}, "s.yaml: empty scenario document"},
		{Error{Field: "rate", Msg: "must be > 0"}, "rate: must be > 0"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	var n yaml.Node
	err := yaml.Unmarshal([]byte("a: [\n"), &n)
	if e := InFile("x.yaml", 0, err).(*Error); e.Line == 0 || e.File != "x.yaml" || strings.HasPrefix(e.Msg, "yaml:") {
		t.Errorf("yaml error not turned into an Error: %+v", e)
	}
}
