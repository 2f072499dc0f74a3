package slo

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/scenarios/yamlfile"
)

// A result keeps the objectives it was judged by (results.SLOReport's
// Definition), written as an SLO file that --slo reads, so that `slogate
// check` and `slogate merge` judge it again by the same objectives when no
// --slo is given, not silently by the defaults.

// objectiveSpec is an Objective as an SLO file writes it.
type objectiveSpec struct {
	Name      string  `yaml:"name,omitempty"`
	Metric    string  `yaml:"metric,omitempty"`
	Threshold string  `yaml:"threshold,omitempty"`
	Phase     string  `yaml:"phase,omitempty"`
	Endpoint  string  `yaml:"endpoint,omitempty"`
	Key       bool    `yaml:"key,omitempty"`
	Weight    float64 `yaml:"weight,omitempty"`
	Budget    string  `yaml:"budget,omitempty"`
	PromQL    string  `yaml:"promql,omitempty"`
	Over      string  `yaml:"over,omitempty"`
}

// Definition returns the set as an SLO file (YAML: objectives and
// scoring), or "" for the default objectives (a result without a
// definition is judged by the defaults).
func (s *Set) Definition() string {
	if s == nil || s.IsDefault() || len(s.Objectives) == 0 {
		return ""
	}
	doc := struct {
		Objectives []objectiveSpec `yaml:"objectives"`
		Scoring    Scoring         `yaml:"scoring"`
	}{Scoring: s.Scoring}
	if !(doc.Scoring.Pass > 0) {
		doc.Scoring = Scoring{Pass: 100, Warning: 100}
	}
	for _, o := range s.Objectives {
		doc.Objectives = append(doc.Objectives, objectiveSpec{
			Name: o.Name, Metric: o.Metric, Threshold: o.Threshold, Phase: o.Phase, Endpoint: o.Endpoint,
			Key: o.Key, Weight: o.Weight, Budget: o.Budget, PromQL: o.PromQL, Over: o.Over,
		})
	}
	b, err := yaml.Marshal(doc)
	if err != nil { // strings and numbers only: cannot fail
		panic(err)
	}
	return string(b)
}

// IsDefault reports whether s is the default objectives (Default()).
func (s *Set) IsDefault() bool { return s != nil && s.File == defaultFile }

// FromDefinition parses a result's Definition; source names it in errors
// (e.g. "r.json: slo.definition").
func FromDefinition(source, definition string) (*Set, error) {
	root, err := yamlfile.Root(source, []byte(definition), yamlfile.Kind{
		Empty: "empty objectives definition",
		Holds: "an objectives definition holds one mapping with objectives:",
	})
	if err != nil {
		return nil, err
	}
	set, err := FromNode(source, root)
	if err != nil {
		return nil, err
	}
	if len(set.Objectives) == 0 {
		return nil, fmt.Errorf("%s: no objectives", source)
	}
	return set, nil
}
