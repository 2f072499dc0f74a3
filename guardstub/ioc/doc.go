// Package ioc is slogate's bundled threat-intel IOC service: a Go re-creation of
// fastmcp-threatintel (github.com/4R9UN/fastmcp-threatintel, see
// shared/reference/seed-systems.md, part B) that load tests can start in-process
// or as `slogate serve ioc`.
//
// It serves GET /health, POST /analyze (one IOC, a separated string or a list),
// POST /batch (large lists), MCP over streamable HTTP at /mcp (tool analyze_iocs,
// the original's arguments) and GET /metrics (a registry per Service). MCP
// sessions are capped in all and per client, and expire when idle
// (sessions.go), so no client can hold memory by opening sessions.
//
// Four simulated providers (VirusTotal, OTX, AbuseIPDB, IPinfo) answer
// deterministically from sha256(seed | provider | IOC) with the original's score
// and verdict formulas, behind a latency model, client-side rate limits, retries
// with exponential backoff, a per-attempt timeout and a circuit breaker per
// provider. A failed, rate-limited or circuit-broken provider degrades the result
// (partial: true) instead of failing the request. Results are cached per
// (provider, IOC) with a TTL and an LRU bound.
//
// Time (a clock and a sleep function) and provider faults are injected through
// Options so limiters, backoff, breakers and cache expiry are tested without real
// sleeps. The package must not call real threat-intel APIs, write report files or
// use global state (no default Prometheus registry).
//
// Differences from the original are documented where they live: detection in
// detect.go, merge and report in merge.go and report.go, providers in provider.go.
package ioc
