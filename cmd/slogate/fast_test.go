package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogate/slogate/results"
)

// --engine fast runs a scenario end to end and says in the result which
// HTTP client it used; a mix with MCP requests is refused (exit 2).
func TestFastEngine(t *testing.T) {
	srv := target(t, 2*time.Millisecond, 0)
	scen := scenarioFile(t, srv.URL, 100, "1s")
	file := filepath.Join(t.TempDir(), "fast.json")
	out, stderr, code := runBin(t, nil, "run", scen, "--engine", "fast", "--out", file, "-q", "--no-history")
	if code != 0 && code != ExitInconclusive { // the default objectives need more requests for p99
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := results.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != "fast" || res.Generator.Transport != "fasthttp" || res.Summary.Requests != 100 || res.Generator.Saturated {
		t.Errorf("engine %q transport %q requests %d generator %+v, want fast, fasthttp, 100, not saturated",
			res.Engine, res.Generator.Transport, res.Summary.Requests, res.Generator)
	}

	mcp := k6File(t, "mcp.yaml", `
name: mcp
target: {url: "`+srv.URL+`"}
requests:
  - {name: m, kind: mcp, path: /mcp, tool: t, arguments: '{}'}
phases:
  - {rate: 10, duration: 1s}
`)
	out, stderr, code = runBin(t, nil, "run", mcp, "--engine", "fast", "-q", "--no-history")
	if code != ExitBadInput || !strings.Contains(stderr, "MCP") {
		t.Errorf("MCP on the fast engine: exit %d, want %d with MCP named\n%s\n%s", code, ExitBadInput, out, stderr)
	}
}
