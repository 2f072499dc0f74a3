// Package capacity answers "how much load can it take": it searches the
// highest rate that meets every objective (search.go: rising steps,
// bisection, confirmation), models the steps with the Universal Scalability
// Law (usl.go), sizes a plan and checks the seed's scaling rule (report.go),
// and renders the capacity document, slogate.capacity/v1 (render.go,
// charts.go, html.go: here, not in results/report, because results must not
// know slo's documents). How a step is run is the caller's (Measure).
//
// What it must not do: claim a capacity the measurements do not support. A
// model is reported with its intervals and where it stops fitting; a
// prediction is always labelled as one.
package capacity
