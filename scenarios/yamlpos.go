package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a loading error that names the file, line and field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Msg
}

// positions remembers the line of every key of a YAML mapping, so that
// validation errors can point at the offending field.
type positions struct {
	line int
	keys map[string]int
}

// decodeKnown decodes a mapping node into v (a pointer to a struct),
// rejecting keys that v has no field for. yaml.v3's KnownFields does not
// reach into types with their own UnmarshalYAML, so each of ours calls this.
func decodeKnown(n *yaml.Node, v any) error {
	if n.Kind == yaml.MappingNode {
		known := map[string]bool{}
		t := reflect.TypeOf(v).Elem()
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				known[name] = true
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !known[k.Value] {
				names := make([]string, 0, len(known))
				for name := range known {
					names = append(names, name)
				}
				sort.Strings(names)
				return fmt.Errorf("line %d: unknown field %q (known: %s)", k.Line, k.Value, strings.Join(names, ", "))
			}
		}
	}
	return n.Decode(v)
}

func (p *positions) capture(n *yaml.Node) {
	p.line = n.Line
	p.keys = map[string]int{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.keys[n.Content[i].Value] = n.Content[i].Line
		}
	}
}

// mappingValue returns the value node of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Line returns the line of key, or of the mapping itself when key is absent.
func (p positions) Line(key string) int {
	if l, ok := p.keys[key]; ok {
		return l
	}
	return p.line
}

// Duration is a time.Duration written as "5s", "1m30s" or "250ms".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (write e.g. 30s, 2m, 250ms)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
