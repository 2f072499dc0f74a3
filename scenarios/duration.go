package scenarios

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/slogate/slogate/scenarios/yamlfile"
)

// Error is a loading error that names the file, line and field: the one
// error type of every YAML input (yamlfile.Error).
type Error = yamlfile.Error

// Duration is a time.Duration written as "5s", "1m30s" or "250ms".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yamlfile.Error{Line: n.Line, Msg: fmt.Sprintf("%q is not a duration (write e.g. 30s, 2m, 250ms)", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
