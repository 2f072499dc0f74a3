package runner

import (
	"log/slog"

	"github.com/slogate/slogate/guardstub/guard"
	"github.com/slogate/slogate/guardstub/ioc"
	vegetaengine "github.com/slogate/slogate/runner/vegeta"
)

// wired gives opts the engine and bundled services slogate's main wires
// in (the k6 engine is tested in cmd/slogate and runner/k6).
func wired(opts Options) Options {
	opts.Engines = Engines{"vegeta": vegetaengine.Run}
	opts.Services = Services{
		"echo":  StartEcho,
		"guard": guard.LocalStarter(guard.WithLogger(slog.New(slog.DiscardHandler))),
		"ioc":   ioc.StartLocal,
	}
	return opts
}
