// Package scenarios is slogate's scenario model: the target, the weighted
// request mix, simulated client identities, how responses are classified,
// the phased load profile, and the SLO block (kept raw; package slo parses
// it). It loads YAML with errors that name the file, line and field, and
// embeds the built-in scenario library.
//
// It must not run load (package runner does) nor evaluate SLOs (package slo).
package scenarios
