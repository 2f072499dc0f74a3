package runner

import (
	"sort"

	"github.com/slogate/slogate/runner/plan"
)

// Engines are the load engines a build offers, by the name --engine takes
// ("vegeta", "k6"). The program builds the value (cmd/slogate's main) and
// passes it in Options; the contract itself is plan.Engine.
type Engines map[string]plan.Engine

// DefaultEngine is the engine a run uses when Options.Engine is empty.
const DefaultEngine = "vegeta"

// Has reports whether name is one of the engines.
func (e Engines) Has(name string) bool { _, ok := e[name]; return ok }

// Names lists the engines, sorted.
func (e Engines) Names() []string {
	out := make([]string, 0, len(e))
	for name := range e {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
