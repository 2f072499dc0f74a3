// Package runner runs a scenario: it starts the bundled target when the
// scenario names one, builds the schedule and request mix, drives an engine
// (vegeta in-process; k6 re-executed), and returns a results.Result with the
// generator's own health (did it hold the asked rate?) filled in.
//
// It never evaluates SLOs: package slo does that on the result.
package runner
