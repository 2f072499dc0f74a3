// Package guard is slogate's bundled reference DDoS guard: a rate-limiting reverse
// proxy that users load-test out of the box (`slogate serve guard`, or in-process
// through StartLocal for scenarios with `target: {service: guard}`).
//
// It follows the *documented* behaviour of the seed project (shared/seeds/000_*.txt,
// shared/reference/seed-systems.md A.6 and C.1 "documented" mode) and honours every
// knob the seed names, under the seed's environment variable names:
//
//   - a per-client sliding window (REQUEST_RATE_LIMIT per SLIDING_WINDOW_SECONDS,
//     hard cap ⌊limit × BURST_MULTIPLIER⌋ → 429 with Retry-After), see window.go;
//   - timed blocks after BLOCK_THRESHOLD_VIOLATIONS violations (403), doubling with
//     PROGRESSIVE_BLOCKING up to MAX_BLOCK_DURATION_HOURS, see clients.go;
//   - a deterministic risk model over per-client features (model.go) scored in
//     batches (batch.go) behind a prediction cache (cache.go);
//   - scanner User-Agents challenged (403), an admin blocklist behind X-Admin-Token
//     (admin.go), client identity from the socket peer or X-Forwarded-For from
//     TRUSTED_PROXIES only (clientip.go);
//   - /health, /healthz and /metrics on a Prometheus registry owned by the instance
//     (metrics.go); a demo upstream (upstream.go) when no UPSTREAM_URL is given.
//
// Time is injected (WithClock) so windows and blocks are tested without sleeping.
// Memory is bounded by MAX_TRACKED_CLIENTS whatever the number of distinct clients.
//
// What it must not do: register anything on the global Prometheus registry, log
// per request, keep per-request state beyond the bounded client table, trust
// X-Forwarded-For from a peer outside TRUSTED_PROXIES, reuse an upstream
// connection that may carry stray bytes (h1transport.go), blame the upstream (502)
// for a client's malformed or trickled body, or walk the client table to answer a
// scrape.
package guard
