// Package results defines slogate's versioned result file (schema
// "slogate.result/v1"), the HDR-histogram recorder that every engine feeds,
// and reading/writing results atomically.
//
// It must not evaluate SLOs (package slo does that) nor run load (package
// runner does that): data flows scenario → runner → results → slo.
package results
