package scenarios

import (
	"strings"
	"time"

	"github.com/slogate/slogate/scenarios/corpus"
)

// What a scenario may ask for. Every bound is far above a real test and
// low enough that a small file cannot make slogate allocate gigabytes or
// run for days: the runner keeps full HDR histograms (~0.5 MiB) per request
// entry and per phase, holds every body in memory, and computes the plan of
// every phase up front.
const (
	// MaxFileBytes bounds a scenario file (inline bodies included; larger
	// bodies belong in body_file).
	MaxFileBytes = 1 << 20
	// MaxRequests bounds the request mix: each entry is an endpoint with its
	// own histograms, paged as values arrive (tens of KB for a typical
	// spread, 0.56 MiB at most: 256 entries stay under 150 MiB).
	MaxRequests = 256
	// MaxPhases bounds the load profile: each phase has its own histograms.
	MaxPhases = 64
	// MaxSteps bounds a step phase's stages.
	MaxSteps = 10_000
	// MaxDuration bounds each phase, and all phases together.
	MaxDuration = 24 * time.Hour
	// MaxTimeout bounds target.timeout and generator.drain.
	MaxTimeout = time.Hour
	// MaxPlanned bounds the requests the whole schedule sends.
	MaxPlanned = 1_000_000_000
	// MaxBodyBytes bounds one request body (body, body_file, body_size).
	MaxBodyBytes = 16 << 20
	// MaxTotalBodyBytes bounds the bodies of the whole mix together.
	MaxTotalBodyBytes = 64 << 20
	// MaxClients bounds a clients block's identities.
	MaxClients = 1 << 24
	// MaxWorkers bounds generator.max_workers (one goroutine each).
	MaxWorkers = 100_000
	// MaxNameBytes bounds names: of the scenario, requests, phases, headers,
	// MCP tools, environment variables.
	MaxNameBytes = 256
	// MaxHeaderValueBytes bounds one header value.
	MaxHeaderValueBytes = 8 << 10
	// MaxHeaders bounds the headers of one request, and target.env's entries.
	MaxHeaders = 100
	// MaxTemplateBytes bounds generate.template and MCP arguments.
	MaxTemplateBytes = 64 << 10
	// MaxStatusEntries bounds outcomes.success and outcomes.blocked.
	MaxStatusEntries = 100
	// MaxGenerated bounds generate.min, max and hot: the corpus size.
	MaxGenerated = corpus.Size
)

// maxRate bounds any phase rate; far above what one machine generates.
const maxRate = 1e6

// durText writes a limit duration without zero units: "24h", "1h", "90s".
func durText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// readRegularFile is ReadRegularFile (one rule for every input file).
func readRegularFile(path string, limit int64) ([]byte, error) { return ReadRegularFile(path, limit) }

// refusal is why a file was not read.
type refusal = FileRefusal
