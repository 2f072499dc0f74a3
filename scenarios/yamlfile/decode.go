package yamlfile

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Positions is where a mapping and its keys were written. A struct that
// Decode fills keeps its own in a field of this type (tagged yaml:"-"), so
// validation after decoding can point at the line of a field. The entries
// of a Go map field are kept too, as "FIELD.KEY" (headers.X-Api-Key).
type Positions struct {
	line int
	keys map[string]int
}

// At returns the positions of node n: its own line and, when it is a
// mapping, the line of each key.
func At(n *yaml.Node) Positions {
	p := Positions{line: n.Line}
	if n.Kind == yaml.MappingNode {
		p.keys = make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.keys[n.Content[i].Value] = n.Content[i].Line
		}
	}
	return p
}

// Line returns the line of key ("url", or "headers.X-Api-Key"); for an
// absent key, the line of the field before its first dot, else the line
// of the mapping itself (0 for a value that was not decoded from YAML).
func (p Positions) Line(key string) int {
	if l, ok := p.keys[key]; ok {
		return l
	}
	if field, _, ok := strings.Cut(key, "."); ok {
		if l, ok := p.keys[field]; ok {
			return l
		}
	}
	return p.line
}

var (
	positionsType   = reflect.TypeFor[Positions]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// Decode decodes node n into v, a pointer, strictly: every struct on the
// way (nested ones, list entries and pointers to structs included) takes
// only the keys it has fields for (the yaml tag, else the lowercased field
// name), each key at most once, and keeps the positions of its keys in its
// Positions field when it has one. What is not a struct (numbers, strings,
// maps, yaml.Node, a type with its own UnmarshalYAML) yaml.v3 decodes.
// field is the path of n in the file ("" for the root, "objectives[0]");
// errors are *Error naming the line and the field, without the file.
func Decode(n *yaml.Node, v any, field string) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("yamlfile.Decode: want a non-nil pointer, got %T", v)
	}
	return decode(n, rv.Elem(), field)
}

func decode(n *yaml.Node, v reflect.Value, field string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if !walked(v.Type()) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return leafError(err, n, field)
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		v.SetZero() // as yaml.v3 does: a null leaves a struct empty and a pointer nil
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decode(n, p.Elem(), field); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Line: n.Line, Field: field, Msg: fmt.Sprintf("want a list, not %s", describe(n))}
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decode(item, s.Index(i), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return decodeStruct(n, v, field)
}

// walked reports a type Decode walks itself (so it can be strict and keep
// positions): a struct without its own UnmarshalYAML, or a pointer to or
// list of such structs.
func walked(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return walked(t.Elem())
	case reflect.Struct:
		return t != nodeType && !reflect.PointerTo(t).Implements(unmarshalerType)
	}
	return false
}

func decodeStruct(n *yaml.Node, v reflect.Value, field string) error {
	fields := keysOf(v.Type())
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Field: field, Msg: fmt.Sprintf("want a mapping of %s, not %s", strings.Join(sortedNames(fields), ", "), describe(n))}
	}
	pos := At(n)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			in := ""
			if field != "" {
				in = " in " + field
			}
			return &Error{Line: k.Line, Msg: fmt.Sprintf("unknown field %q%s (known: %s)", k.Value, in, strings.Join(sortedNames(fields), ", "))}
		}
		if first, dup := seen[k.Value]; dup {
			return &Error{Line: k.Line, Field: join(field, k.Value), Msg: fmt.Sprintf("given twice (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
		f := v.Field(idx)
		if err := decode(val, f, join(field, k.Value)); err != nil {
			return err
		}
		if f.Kind() == reflect.Map {
			if val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			for j := 0; j+1 < len(val.Content) && val.Kind == yaml.MappingNode; j += 2 {
				pos.keys[k.Value+"."+val.Content[j].Value] = val.Content[j].Line
			}
		}
	}
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Type == positionsType && v.Field(i).CanSet() {
			v.Field(i).Set(reflect.ValueOf(pos))
		}
	}
	return nil
}

// keysOf maps the YAML keys of struct type t to its field indexes: the
// yaml tag's name, else the lowercased field name, as yaml.v3 does;
// unexported fields and yaml:"-" take none.
func keysOf(t reflect.Type) map[string]int {
	keys := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Type == positionsType {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		keys[name] = i
	}
	return keys
}

func sortedNames(keys map[string]int) []string {
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// describe names what a node is for an error: "a list", "the string "x"".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), v)
}

// leafError gives a value's decoding error the field it was for.
func leafError(err error, n *yaml.Node, field string) error {
	e := InFile("", n.Line, err).(*Error)
	if e.Field == "" {
		e.Field = field
	}
	return e
}
