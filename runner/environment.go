package runner

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/slogate/slogate/results"
	vegetaengine "github.com/slogate/slogate/runner/vegeta"
)

// Version is slogate's version, set by the linker (-X) or read from the
// module build info.
var Version = ""

// SlogateVersion returns the version string recorded in results.
func SlogateVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Environment fingerprints this machine for a result.
func Environment(scenarioHash, target, service string) results.Environment {
	host, _ := os.Hostname()
	return results.Environment{
		Hostname:      host,
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		CPUs:          runtime.NumCPU(),
		CPUModel:      cpuModel(),
		GoVersion:     runtime.Version(),
		Slogate:       SlogateVersion(),
		Vegeta:        vegetaengine.Version,
		ScenarioHash:  scenarioHash,
		Target:        target,
		TargetService: service,
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
