// Package gate is the last stage of a slogate run, the part that turns a
// result into an answer for CI:
//
//	result → evaluate (objectives, k6 thresholds, regression budgets
//	judged with the bootstrap's significance) → store in the history →
//	show → write the result file → write the reports → exit code
//
// Stage.Finish runs that sequence for one result; Criteria.Evaluate and
// ExitFor are the same policy for `slogate check`, which gates a result
// already on disk. Repeat runs a scenario N times, or two sides A/B
// interleaved base, new, base, new …, evaluates and stores every run,
// merges the NEW side's histograms into the result to gate on and, in A/B,
// compares the sides (slo.Compare). The run step is injected (RunFunc), so
// the whole of it is tested without processes or load.
//
// What it must not do: run load or import package runner (the caller
// injects the run step) or cmd; print (it calls the caller's hooks, which
// decide what the user sees and where); read flags or the environment (the
// caller passes paths, $GITHUB_STEP_SUMMARY included); exit the process
// (it returns an ExitCode, the CLI exits with it); compute statistics of
// its own (package slo does) or render anything (package results/report
// does). It never lets a file that cannot be written hide the verdict, and
// it never leaves a file half-written (every file is written atomically).
package gate
