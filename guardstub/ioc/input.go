package ioc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"
)

// AnalyzeRequest is the body of POST /analyze and POST /batch and the arguments
// of the MCP tool analyze_iocs, with the original's names. IOCs in IOCs come
// first, then those split from IOCString, duplicates dropped (first kept).
type AnalyzeRequest struct {
	// IOCString holds one or more IOCs separated by whitespace, ',' or ';'.
	IOCString string `json:"ioc_string,omitempty"`
	// IOCs is a list of IOC strings or {"value": ..., "type": ...} objects.
	// As in the original, type is ignored: types are always detected.
	IOCs []IOCInput `json:"iocs,omitempty"`
	// OutputFormat is json, markdown or html. REST defaults to json, MCP to
	// markdown (the original's default).
	OutputFormat string `json:"output_format,omitempty"`
	// IncludeSTIX and IncludeGraph add the STIX bundle and the network graph
	// (default true, as in the original).
	IncludeSTIX  *bool `json:"include_stix,omitempty"`
	IncludeGraph *bool `json:"include_graph,omitempty"`
}

// IOCInput is one entry of AnalyzeRequest.IOCs: a JSON string or an object
// {"value": "...", "type": "..."}.
type IOCInput struct {
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

// UnmarshalJSON accepts "value" or {"value": "...", "type": "..."}.
func (in *IOCInput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		in.Type = ""
		return json.Unmarshal(b, &in.Value)
	}
	if len(b) > 0 && b[0] == '{' {
		var obj struct {
			Value *string `json:"value"`
			Type  string  `json:"type"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		if obj.Value == nil {
			return errors.New(`IOC object has no "value"`)
		}
		in.Value, in.Type = *obj.Value, obj.Type
		return nil
	}
	return fmt.Errorf(`an IOC must be a string or an object {"value": "..."}, got %s`, truncate(string(b), 40))
}

// isSeparator is the original's split pattern [\s,;\n]+, where Python's \s
// is any Unicode white space (a no-break space from a copied web page, an
// ideographic space), as unicode.IsSpace is; Go's regexp \s is ASCII only.
func isSeparator(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }

// values returns the IOC strings to analyse, trimmed, in order, without
// duplicates (by exact value, as the original). Entries with an empty value are
// returned as item errors.
func (r *AnalyzeRequest) values() (vals []string, itemErrs []ItemError) {
	seen := make(map[string]struct{}, len(r.IOCs))
	add := func(v string) {
		if _, dup := seen[v]; dup {
			return
		}
		seen[v] = struct{}{}
		vals = append(vals, v)
	}
	for i, in := range r.IOCs {
		v := strings.TrimSpace(in.Value)
		if v == "" {
			itemErrs = append(itemErrs, ItemError{Value: in.Value, Error: fmt.Sprintf("iocs[%d]: empty value", i)})
			continue
		}
		add(v)
	}
	for _, v := range strings.FieldsFunc(r.IOCString, isSeparator) {
		add(v)
	}
	return vals, itemErrs
}

// ItemError is a per-IOC rejection in a report's "errors" list.
type ItemError struct {
	Value string `json:"value"`
	Error string `json:"error"`
}

// inputError is a client error with its HTTP status.
type inputError struct {
	status int
	msg    string
	items  []ItemError
	empty  bool // no IOC was given at all
}

func (e *inputError) Error() string { return e.msg }

func badRequest(format string, args ...any) *inputError {
	return &inputError{status: 400, msg: fmt.Sprintf(format, args...)}
}

const emptyBodyHint = `send {"iocs": ["8.8.8.8", ...]}, {"ioc_string": "8.8.8.8 example.com"}, a JSON list, or IOCs as plain text`

// ParseBody decodes a REST request body. JSON (by Content-Type, or a body that
// starts with '{', '[' or '"') may be an AnalyzeRequest object, a list of IOCs or
// one string; anything else is taken as plain text, split like ioc_string.
// Unknown object fields are rejected so that typos ("ioc" for "iocs") are loud.
func ParseBody(contentType string, body []byte) (AnalyzeRequest, error) {
	var req AnalyzeRequest
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return req, badRequest("empty request body: %s", emptyBodyHint)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	first := trimmed[0]
	if !isJSON && first != '{' && first != '[' && first != '"' {
		req.IOCString = string(trimmed)
		return req, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var err error
	switch first {
	case '{':
		dec.DisallowUnknownFields()
		err = dec.Decode(&req)
	case '[':
		err = dec.Decode(&req.IOCs)
	case '"':
		err = dec.Decode(&req.IOCString)
	default:
		return req, badRequest("JSON body must be an object, a list of IOCs or a string, got %s", truncate(string(trimmed), 40))
	}
	if err != nil {
		return req, badRequest("malformed JSON: %s", describeJSONError(err))
	}
	if dec.More() || dec.InputOffset() != int64(len(trimmed)) {
		return req, badRequest("malformed JSON: unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return req, nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q: expected %s, got JSON %s", typ.Field, jsonKind(typ.Type.String()), typ.Value)
		}
		return fmt.Sprintf("expected %s, got JSON %s", jsonKind(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return err.Error()
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string":
		return "a string"
	case goType == "bool" || strings.HasSuffix(goType, "*bool"):
		return "true or false"
	}
	return goType
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
