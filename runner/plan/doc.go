// Package plan turns a scenario into what every engine needs: the schedule
// (when request i is due, in which phase), the deterministic request mix
// (which endpoint and client identity request i uses) and the HTTP request
// for it. Both engines (vegeta, k6) build on it so they send the same load.
package plan
