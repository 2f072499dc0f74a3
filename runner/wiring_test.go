package runner

import (
	"log/slog"
	"testing"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/guardstub/ioc"
	"github.com/slogate/slogate/runner/fast"
	vegetaengine "github.com/slogate/slogate/runner/vegeta"
)

// wired gives opts the engines and bundled services slogate's main wires
// in (the k6 engine is tested in cmd/slogate and runner/k6).
func wired(opts Options) Options {
	opts.Engines = Engines{"vegeta": vegetaengine.Run, "fast": fast.Run}
	opts.Services = Services{
		"echo":  StartEcho,
		"guard": guard.LocalStarter(guard.WithLogger(slog.New(slog.DiscardHandler))),
		"ioc":   ioc.StartLocal,
	}
	return opts
}

// inProcessEngines are the engines every truth and fault test holds for:
// the same target must give the same result whichever one drives it.
var inProcessEngines = []string{"vegeta", "fast"}

// eachEngine runs f as one subtest per in-process engine. Its wired
// argument is wired for that engine: a test body written against wired
// runs on each engine unchanged.
func eachEngine(t *testing.T, f func(t *testing.T, wired func(Options) Options)) {
	for _, name := range inProcessEngines {
		t.Run(name, func(t *testing.T) {
			f(t, func(o Options) Options {
				o = wired(o)
				o.Engine = name
				return o
			})
		})
	}
}
