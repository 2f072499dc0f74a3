// Package yamlfile is slogate's one way of reading a YAML input file (a
// scenario, an SLO file, a scenario's slo: block): exactly one document,
// decoded strictly (a key no field takes is an error, however deep), with
// the line of every key kept beside the values so that a later validation
// can still say where a field was written. Every problem it finds, and
// every problem its callers find in what it decoded, is an *Error that
// names the file, line and field.
//
// It must not know any file's schema (packages scenarios and slo do) nor
// read files (scenarios.ReadRegularFile does, with its bounds).
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in an input file, where it was written and what would
// be right: "FILE: line N: FIELD: MSG". File, Line and Field are left out
// when unknown; a validation that knows only the field (a Phase checking
// itself) leaves File and Line to the caller, which knows both.
type Error struct {
	File  string
	Line  int
	Field string // path of the field: "phases[0].rate", "objectives[1].threshold"
	Msg   string // what was wrong, and what would be right
}

func (e *Error) Error() string {
	var parts []string
	if e.File != "" {
		parts = append(parts, e.File)
	}
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", e.Line))
	}
	if e.Field != "" {
		parts = append(parts, e.Field)
	}
	return strings.Join(append(parts, e.Msg), ": ")
}

// Errorf is an *Error about field (its line and file left to the caller).
func Errorf(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// InFile returns err as an *Error of file: an *Error gets the file (and the
// line, when it had none); a yaml.v3 error ("yaml: line 3: ...") is turned
// into one. Any other error is returned as it is.
func InFile(file string, line int, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.File == "" {
			c.File = file
		}
		if c.Line == 0 {
			c.Line = line
		}
		return &c
	}
	c := fromYAML(err)
	c.File = file
	if c.Line == 0 {
		c.Line = line
	}
	return c
}

// fromYAML turns yaml.v3's text ("yaml: line 3: did not find expected key",
// "yaml: unmarshal errors:\n  line 4: cannot unmarshal ...") into an Error:
// yaml.v3 reports its positions only as text.
func fromYAML(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	e := &Error{Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ":"); ok {
			if l, convErr := strconv.Atoi(num); convErr == nil {
				e.Line = l
				e.Msg = strings.TrimSpace(after)
			}
		}
	}
	return e
}

// Kind says what a file holds, for the messages of Root.
type Kind struct {
	// Empty is the message for a file without a document: "empty SLO file".
	Empty string
	// Holds says what the file holds, for a second document: "a scenario
	// file holds exactly one".
	Holds string
}

// Root returns the content of the one YAML document in data. A file with no
// document is an error (kind.Empty); so is a second document after ---,
// valid or not, which would otherwise be ignored without a word. Empty
// documents after the first (a final "---") are harmless.
func Root(file string, data []byte, kind Kind) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: kind.Empty}
		}
		return nil, InFile(file, 0, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: kind.Empty}
	}
	// Each Decode consumes at least a document marker, so the loop ends
	// within len(data) rounds.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return doc.Content[0], nil
		case err != nil:
			e := InFile(file, 0, err).(*Error)
			e.Msg += " (in a second YAML document)"
			return nil, e
		case isEmpty(&next):
			continue
		}
		return nil, &Error{File: file, Line: next.Line, Msg: "a second YAML document (after ---): " + kind.Holds}
	}
}

// isEmpty reports a document holding nothing (only comments, or nothing
// after its ---).
func isEmpty(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return len(doc.Content) == 1 && n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}
