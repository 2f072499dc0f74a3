package scenarios

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

const defaultTimeout = 5 * time.Second

// Services are the bundled services a scenario can start in-process.
var Services = []string{"guard", "ioc", "guard+ioc", "echo"}

// KnownService reports whether name is a bundled service.
func KnownService(name string) bool {
	for _, s := range Services {
		if s == name {
			return true
		}
	}
	return false
}

// KnownCorpus reports whether name is a corpus request bodies can be drawn from.
func KnownCorpus(name string) bool { return name == "ioc" }

// Builtin loads the embedded scenario NAME.
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (see `slogate scenarios`)", name)
	}
	return Parse("builtin:"+name+".yaml", "", data)
}

// BuiltinInfo names and describes one built-in scenario.
type BuiltinInfo struct {
	Name, Description string
	Err               error
}

// List returns the built-in scenarios, sorted by name.
func List() []BuiltinInfo {
	entries, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	sort.Strings(entries)
	var out []BuiltinInfo
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".yaml")
		s, err := Builtin(name)
		info := BuiltinInfo{Name: name, Err: err}
		if err == nil {
			info.Description = s.Description
		}
		out = append(out, info)
	}
	return out
}

// Resolve loads arg as a file when one exists at that path, else as the
// name of a built-in scenario.
func Resolve(arg string) (*Scenario, error) {
	if _, err := os.Stat(arg); err == nil {
		return Load(arg)
	}
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.Contains(arg, "/") {
		return nil, fmt.Errorf("loading scenario: %s: no such file", arg)
	}
	return Builtin(arg)
}

// Adhoc builds the scenario of `slogate run --target URL --rate N --duration D`:
// one GET of the URL at a constant rate.
func Adhoc(target string, rate float64, duration time.Duration) (*Scenario, error) {
	s := &Scenario{
		Name:     "adhoc",
		Target:   Target{URL: target},
		Requests: []Request{{Name: "GET " + Redacted(target), URL: target}},
		Phases:   []Phase{{Name: "main", Kind: "constant", Rate: rate, Duration: Duration(duration)}},
		File:     "--target",
	}
	s.Hash = fmt.Sprintf("adhoc-%x", hashString(fmt.Sprintf("%s|%g|%s", target, rate, duration)))
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// ForScript builds the scenario that stands in for a user's k6 script run
// without a scenario of its own (slogate run --engine k6 --script FILE):
// Script marks it, the script's executors decide the load, and with no
// target the script's own URLs are the target. Its one-request schedule
// only gives the runner a well-formed run. Name is the script's base name
// and Hash fingerprints its content, so a baseline of another script is
// refused.
func ForScript(script string, content []byte, target string) (*Scenario, error) {
	var s *Scenario
	if target != "" {
		var err error
		if s, err = Adhoc(target, 1, time.Second); err != nil {
			return nil, err
		}
	} else {
		// Nothing to validate: no target and no request of its own. The
		// defaults a run reads (timeout, drain) are Adhoc's.
		s = &Scenario{
			Target:    Target{Timeout: Duration(defaultTimeout)},
			Phases:    []Phase{{Name: "main", Kind: "constant", Rate: 1, Duration: Duration(time.Second)}},
			Generator: Generator{Drain: Duration(defaultTimeout)},
		}
	}
	sum := sha256.Sum256(content)
	s.Name = strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	s.File, s.Script = script, script
	s.Hash = "k6-script-" + hex.EncodeToString(sum[:8])
	return s, nil
}

// OverrideLoad replaces the scenario's phases with one constant phase, as
// --rate and --duration ask on the command line.
func (s *Scenario) OverrideLoad(rate float64, duration time.Duration) error {
	s.Phases = []Phase{{Name: "main", Kind: "constant", Rate: rate, Duration: Duration(duration)}}
	s.Hash += fmt.Sprintf("-r%gd%s", rate, duration)
	return s.validate()
}

// OverrideTarget points the scenario at url instead of its own target.
func (s *Scenario) OverrideTarget(url string) error {
	// The bundled service's knobs and process go with it.
	s.Target.URL, s.Target.Service, s.Target.Env, s.Target.Isolate = url, "", nil, false
	return s.validate()
}

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
