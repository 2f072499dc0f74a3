package k6

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/scenarios"
)

// Environment variables the engine sets for the child k6 process. The JS
// module and the output extension read them; a hand-written script may too.
const (
	// EnvScenario names the scenario (file or built-in) whose mix, phases and
	// outcomes the run uses.
	EnvScenario = "SLOGATE_SCENARIO"
	// EnvTarget is the base URL the scenario's requests go to (the bundled
	// service slogate started, or --target).
	EnvTarget = "SLOGATE_TARGET"
	// EnvPhases = "script" makes the output take its phases from the
	// script's own k6 scenarios instead of the slogate scenario's phases.
	EnvPhases = "SLOGATE_K6_PHASES"
	// EnvSegment and EnvSegmentSequence tell the output the run's
	// execution segment (also given to k6), so that it plans and targets
	// its share of every phase as the vegeta engine does.
	EnvSegment         = "SLOGATE_SEGMENT"
	EnvSegmentSequence = "SLOGATE_SEGMENT_SEQUENCE"
)

// K6Version is the version of go.k6.io/k6 linked into this binary.
func K6Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.k6.io/k6" {
				return d.Version
			}
		}
	}
	return "v1.8.1"
}

var unsafeName = regexp.MustCompile(`[^0-9A-Za-z_-]`)

// ScenarioNames gives each phase the k6 scenario name that runs it: the
// phase name with every character k6 refuses in a scenario name replaced by
// "_", made unique with a numeric suffix. The output extension maps a
// sample's "scenario" tag back to its phase with the same function.
func ScenarioNames(phases []scenarios.Phase) []string {
	names := make([]string, len(phases))
	seen := map[string]bool{}
	for i := range phases {
		n := unsafeName.ReplaceAllString(phases[i].Name, "_")
		if n == "" {
			n = "phase"
		}
		base := n
		for k := 2; seen[n]; k++ {
			n = base + "_" + strconv.Itoa(k)
		}
		seen[n] = true
		names[i] = n
	}
	return names
}

// WriteScenario writes s as a self-contained scenario file aimed at
// baseURL: the target becomes a plain URL (the bundled service is already
// running in the parent), a body_file is copied beside it (PATH.bodyN, so
// the file stays under scenarios.MaxFileBytes whatever the bodies weigh),
// and the SLO block is dropped (the parent evaluates it). The child's
// plan.Mix over this file sends exactly what the parent's would.
func WriteScenario(path string, s *scenarios.Scenario, baseURL string) error {
	return writeScenario(path, s, baseURL, false)
}

// ScenarioFiles is WriteScenario for a scenario that runs elsewhere (a
// k6-operator runner): the files it writes, by base name — "scenario.yaml"
// and one "scenario.yaml.bodyN" per body_file, which the scenario names
// relative to itself so that they can be mounted anywhere side by side.
func ScenarioFiles(s *scenarios.Scenario, baseURL string) (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "slogate-scenario-*")
	if err != nil {
		return nil, fmt.Errorf("k6 engine: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeScenario(filepath.Join(dir, "scenario.yaml"), s, baseURL, true); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("k6 engine: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("k6 engine: %w", err)
		}
		files[e.Name()] = data
	}
	return files, nil
}

func writeScenario(path string, s *scenarios.Scenario, baseURL string, relative bool) error {
	c := *s
	c.Target = scenarios.Target{URL: baseURL, Timeout: s.Target.Timeout}
	c.Requests = make([]scenarios.Request, len(s.Requests))
	for i, r := range s.Requests {
		if r.BodyFile != "" {
			body, err := filepath.Abs(fmt.Sprintf("%s.body%d", path, i))
			if err != nil {
				return fmt.Errorf("k6 engine: %w", err)
			}
			if err := os.WriteFile(body, r.BodyBytes, 0o644); err != nil {
				return fmt.Errorf("k6 engine: %w", err)
			}
			r.BodyFile = body
			if relative {
				r.BodyFile = filepath.Base(body)
			}
		}
		c.Requests[i] = r
	}
	data, err := yaml.Marshal(struct {
		Name        string              `yaml:"name"`
		Description string              `yaml:"description,omitempty"`
		Target      scenarios.Target    `yaml:"target"`
		Clients     scenarios.Clients   `yaml:"clients"`
		Requests    []scenarios.Request `yaml:"requests"`
		Outcomes    scenarios.Outcomes  `yaml:"outcomes"`
		Phases      []scenarios.Phase   `yaml:"phases"`
		Generator   scenarios.Generator `yaml:"generator"`
	}{c.Name, c.Description, c.Target, c.Clients, c.Requests, c.Outcomes, c.Phases, c.Generator})
	if err != nil {
		return fmt.Errorf("k6 engine: encoding scenario %s: %w", s.Name, err)
	}
	dir := ""
	if relative {
		dir = filepath.Dir(path)
	}
	if _, err := scenarios.Parse(path, dir, data); err != nil {
		return fmt.Errorf("k6 engine: scenario %s does not survive a round trip: %w", s.Name, err)
	}
	return os.WriteFile(path, data, 0o644)
}
