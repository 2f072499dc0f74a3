package results

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText prints a human summary of r and its SLO verdict, if any.
func WriteText(w io.Writer, r *Result) error {
	s := &r.Summary
	partial := ""
	if r.Partial {
		partial = " (PARTIAL: interrupted)"
	}
	fmt.Fprintf(w, "scenario %s · engine %s · %.1f s · target %s%s\n", r.Scenario, r.Engine, r.DurationS, r.Environment.Target, partial)
	asked := fmt.Sprintf("%.1f req/s", s.TargetRateRPS)
	if r.Generator.PlannedReqs == 0 {
		asked = "unknown (closed model: the script's VUs decide)"
	}
	fmt.Fprintf(w, "requests %d · asked %s · sent %.1f req/s · answered %.1f req/s\n",
		s.Requests, asked, s.RequestRateRPS, s.ThroughputRPS)
	fmt.Fprintf(w, "outcomes: success %s · blocked %s · error %s\n", FormatPercent(s.SuccessRate), FormatPercent(s.BlockRate), FormatPercent(s.ErrorRate))
	fmt.Fprintf(w, "latency from intended send (ms): %s\n", latencyLine(s.LatencyMs))
	fmt.Fprintf(w, "service latency (ms):            %s\n", latencyLine(s.ServiceLatencyMs))
	fmt.Fprintf(w, "send lateness (ms):              p50 %s  p99 %s  max %s\n", num(s.LatenessMs.P50), num(s.LatenessMs.P99), num(s.LatenessMs.Max))
	g := &r.Generator
	switch {
	case g.MaxWorkers == 0 && g.PlannedReqs == 0: // a k6 script's closed model
		fmt.Fprintf(w, "generator: k6 script (VUs and iterations set by the script; planned requests unknown)")
	case g.MaxWorkers == 0: // a k6 script's arrival-rate executors
		fmt.Fprintf(w, "generator: k6 script · %.1f%% of %d planned iterations started on schedule", 100*g.AchievedRatio, g.PlannedReqs)
	default:
		fmt.Fprintf(w, "generator: max %d workers · %.1f%% sent on schedule · all workers busy for %.1f%% of requests",
			g.MaxWorkers, 100*g.AchievedRatio, 100*g.PinnedFraction)
	}
	if g.Transport != "" {
		fmt.Fprintf(w, " · over %s", g.Transport)
		if len(g.Protocols) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(g.Protocols, ", "))
		}
	}
	if g.Proxy != "" {
		fmt.Fprintf(w, " · through proxy %s", g.Proxy)
	}
	if g.DroppedIterations > 0 {
		fmt.Fprintf(w, " · k6 dropped %d iterations", g.DroppedIterations)
	}
	if s.Censored > 0 {
		fmt.Fprintf(w, " · %d censored", s.Censored)
	}
	if s.GeneratorErrors > 0 {
		fmt.Fprintf(w, " · %d not sent for lack of the generator's own resources (not counted)", s.GeneratorErrors)
	}
	if s.Cancelled > 0 {
		fmt.Fprintf(w, " · %d cancelled by the stop (not counted)", s.Cancelled)
	}
	fmt.Fprintln(w)
	if len(s.StatusCodes) > 0 {
		fmt.Fprintf(w, "status codes: %s\n", countLine(s.StatusCodes))
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(w, "errors: %s\n", countLine(s.Errors))
	}
	writeServerText(w, r)
	if len(r.Phases) > 1 || len(r.Endpoints) > 1 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nSCOPE\tREQUESTS\tASKED/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tBLOCKED\tERRORS")
		for _, p := range r.Phases {
			name := PhaseScope(p.Name).String()
			if p.Warmup {
				name += " (warm-up)"
			}
			scopeRow(tw, name, &p.Summary)
		}
		for _, e := range r.Endpoints {
			scopeRow(tw, EndpointScope(e.Name).String(), &e.Summary)
		}
		tw.Flush()
	}
	if r.SLO != nil {
		fmt.Fprintln(w)
		WriteVerdict(w, r.SLO)
	}
	return nil
}

// WriteVerdict prints the SLO table and the run verdict.
func WriteVerdict(w io.Writer, rep *SLOReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECTIVE\tSCOPE\tVALUE\tVERDICT\tDETAIL")
	for _, o := range rep.Objectives {
		key := ""
		if o.Key {
			key = " [key]"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", o.Objective, key, o.Scope, FormatValue(o.Value, o.Unit), strings.ToUpper(o.Verdict), o.Detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "VERDICT: %s\n", rep.Headline())
	for _, reason := range rep.Reasons {
		fmt.Fprintf(w, "  - %s\n", reason)
	}
	writeErrorBudget(w, rep.ErrorBudget)
}

// FailingObjectives counts the objectives whose verdict is fail.
func (rep *SLOReport) FailingObjectives() int {
	n := 0
	for i := range rep.Objectives {
		if rep.Objectives[i].Verdict == "fail" {
			n++
		}
	}
	return n
}

// Headline is the run verdict in words, the same in every report: the
// verdict, the weighted score against its pass mark when below 100, and
// the failed objectives when the verdict is not itself a failure, e.g.
// "PASS (score 99.9 ≥ 90) with 1 failing objective". A run with a failed
// objective is never worded as a clean pass.
func (rep *SLOReport) Headline() string {
	s := strings.ToUpper(rep.Verdict)
	if rep.Score != nil && *rep.Score < 100 {
		if rep.PassMark > 0 {
			cmp := "<"
			if *rep.Score >= rep.PassMark {
				cmp = "≥"
			}
			s += fmt.Sprintf(" (score %.1f %s %g)", *rep.Score, cmp, rep.PassMark)
		} else {
			s += fmt.Sprintf(" (score %.1f)", *rep.Score)
		}
	}
	if n := rep.FailingObjectives(); n > 0 && rep.Verdict != "fail" {
		s += fmt.Sprintf(" with %d failing objective", n)
		if n > 1 {
			s += "s"
		}
	}
	return s
}

// writeErrorBudget prints the error-budget table beside the verdict.
func writeErrorBudget(w io.Writer, budgets []ErrorBudget) {
	if len(budgets) == 0 {
		return
	}
	fmt.Fprintf(w, "\nERROR BUDGET (%g-day SLO window; burn rate 1 spends exactly the budget in the window)\n", budgets[0].WindowDays)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLI\tTARGET\tBAD\tBURN RATE\tSPENT BY RUN\tBUDGET LASTS")
	for _, b := range budgets {
		lasts := "forever"
		if b.ExhaustedInHours > 0 {
			lasts = FormatHours(b.ExhaustedInHours, "d")
		}
		fmt.Fprintf(tw, "%s (%s)\t%s\t%s (%d/%d)\t%.2f×\t%s of %gd\t%s\n",
			b.SLI, b.Objective, FormatShortPercent(b.Target), FormatShortPercent(b.BadRatio), b.BadEvents, b.TotalEvents,
			b.BurnRate, FormatShortPercent(b.BudgetSpent), b.WindowDays, lasts)
	}
	tw.Flush()
}

func scopeRow(w io.Writer, name string, s *Summary) {
	asked := "-"
	if s.TargetRateRPS > 0 {
		asked = fmt.Sprintf("%.0f", s.TargetRateRPS)
	}
	fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, s.Requests, asked,
		num(s.LatencyMs.P50), num(s.LatencyMs.P95), num(s.LatencyMs.P99), num(s.LatencyMs.Max), FormatPercent(s.BlockRate), FormatPercent(s.ErrorRate))
}

func latencyLine(l Latency) string {
	return fmt.Sprintf("p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s  mean %s",
		num(l.P50), num(l.P90), num(l.P95), num(l.P99), num(l.P999), num(l.Max), num(l.Mean))
}

// ByCount returns the keys of a count map, largest count first (ties by key).
func ByCount(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func countLine(m map[string]int64) string {
	keys := ByCount(m)
	var parts []string
	for i, k := range keys {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… %d more", len(keys)-8))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
