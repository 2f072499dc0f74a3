package runner

import k6engine "github.com/slogate/slogate/runner/k6"

// The k6 engine re-executes the slogate binary as k6 (see package
// runner/k6); importing it also registers the k6/x/slogate JS module and the
// "slogate" output extension with the linked k6.
func init() { RegisterEngine("k6", k6engine.Run) }
