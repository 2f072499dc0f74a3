// Package slo parses SLO objectives and evaluates a result against them:
// each objective gets pass / fail / inconclusive with its measured value,
// and the run gets one verdict that sets slogate's exit code.
//
// It reads results but never runs load and never imports package runner.
package slo
