package results

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ScopeKind is what part of a run an objective or a compared row is about.
type ScopeKind string

// Scope kinds. Phase and endpoint scopes carry the part's name; the others
// do not.
const (
	ScopeRun      ScopeKind = "run"
	ScopePhase    ScopeKind = "phase"
	ScopeEndpoint ScopeKind = "endpoint"
	// ScopeScriptThreshold and ScopeScript are a k6 script's own criteria
	// (ScriptThreshold): one threshold, or the script's own verdict.
	ScopeScriptThreshold ScopeKind = "k6 threshold"
	ScopeScript          ScopeKind = "k6 script"
)

// namedScopeKinds are the kinds whose scopes name one part of the run. A
// new kind of part (a traffic class, "class NAME") is added here and to
// scopeFields (its JSON field), fields and resolve.
var namedScopeKinds = []ScopeKind{ScopePhase, ScopeEndpoint}

// Scope names a part of a run: the whole run, one phase or one endpoint
// (or a k6 script's own criteria). It is written as text, "run", "phase
// NAME", "endpoint NAME" (String), beside its structured fields (see
// ObjectiveResult and MetricDelta); nothing outside this file splits that
// text again. The zero Scope is unset (an old file's empty scope): readers
// that want a default treat it as the run (OrRun).
type Scope struct {
	Kind ScopeKind
	Name string // the phase's or endpoint's name; "" for the run
}

// RunScope is the whole run.
func RunScope() Scope { return Scope{Kind: ScopeRun} }

// PhaseScope is the phase named name.
func PhaseScope(name string) Scope { return Scope{Kind: ScopePhase, Name: name} }

// EndpointScope is the endpoint named name.
func EndpointScope(name string) Scope { return Scope{Kind: ScopeEndpoint, Name: name} }

// String is the scope as reports show it and result files store it: "run",
// "phase NAME", "endpoint NAME", "k6 threshold".
func (s Scope) String() string {
	if s.Name == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Name
}

// IsZero reports an unset scope.
func (s Scope) IsZero() bool { return s == Scope{} }

// OrRun is s, or the run when s is unset.
func (s Scope) OrRun() Scope {
	if s.IsZero() {
		return RunScope()
	}
	return s
}

// MarshalText writes String, so a Scope is a JSON string.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the text form (parseScope).
func (s *Scope) UnmarshalText(text []byte) error {
	*s = parseScope(string(text))
	return nil
}

// parseScope reads a scope's text form, for files written before scopes
// carried their structured fields; the one place the text is split. Any
// text round-trips: what is not "KIND NAME" for a named kind is a kind of
// its own (String gives it back unchanged).
func parseScope(text string) Scope {
	for _, k := range namedScopeKinds {
		if name, ok := strings.CutPrefix(text, string(k)+" "); ok && name != "" {
			return Scope{Kind: k, Name: name}
		}
	}
	return Scope{Kind: ScopeKind(text)}
}

// scopeFields are a scope's structured JSON fields, written beside the
// text field "scope" of an objective or a compared row, so scripts select
// on {"phase": "steady"} instead of splitting "phase steady".
type scopeFields struct {
	Phase    string `json:"phase,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

func (s Scope) fields() scopeFields {
	switch s.Kind {
	case ScopePhase:
		return scopeFields{Phase: s.Name}
	case ScopeEndpoint:
		return scopeFields{Endpoint: s.Name}
	}
	return scopeFields{}
}

// resolve is the scope a row read from JSON is about: its structured
// fields when present, else its text (already parsed into text).
func (f scopeFields) resolve(text Scope) Scope {
	switch {
	case f.Phase != "":
		return PhaseScope(f.Phase)
	case f.Endpoint != "":
		return EndpointScope(f.Endpoint)
	}
	return text
}

// MarshalJSON writes the objective with its scope as text ("scope") and as
// structured fields ("phase", "endpoint").
func (o ObjectiveResult) MarshalJSON() ([]byte, error) {
	type plain ObjectiveResult
	return marshalRow(struct {
		plain
		scopeFields
	}{plain(o), o.Scope.fields()})
}

// UnmarshalJSON reads an objective, also from files without the structured
// scope fields.
func (o *ObjectiveResult) UnmarshalJSON(data []byte) error {
	type plain ObjectiveResult
	v := struct {
		*plain
		scopeFields
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	o.Scope = v.scopeFields.resolve(o.Scope)
	return nil
}

// MarshalJSON writes the row with its scope as text ("scope") and as
// structured fields ("phase", "endpoint").
func (d MetricDelta) MarshalJSON() ([]byte, error) {
	type plain MetricDelta
	return marshalRow(struct {
		plain
		scopeFields
	}{plain(d), d.Scope.fields()})
}

// UnmarshalJSON reads a compared row, also from files without the
// structured scope fields.
func (d *MetricDelta) UnmarshalJSON(data []byte) error {
	type plain MetricDelta
	v := struct {
		*plain
		scopeFields
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	d.Scope = v.scopeFields.resolve(d.Scope)
	return nil
}

// marshalRow encodes a row without escaping HTML: the encoder that embeds
// it escapes or not as its caller asked ("p99 < 200ms" stays readable in
// the JSON report).
func marshalRow(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
