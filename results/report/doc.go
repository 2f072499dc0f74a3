// Package report renders a slogate result or comparison for people and for
// CI: plain text, Markdown (for $GITHUB_STEP_SUMMARY and pull requests),
// JSON, JUnit XML (one test case per SLO objective, so any CI page shows
// pass/fail per objective) and a single self-contained HTML page whose
// charts are drawn with gonum/plot and embedded as inline SVG.
//
// It only renders: it must not evaluate objectives (package slo computes
// results.Result.SLO) nor compute statistics (package slo fills
// results.Comparison). It must not reach the network either: the HTML it
// writes references no external resource at all.
package report
