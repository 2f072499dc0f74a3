package results

import (
	"fmt"
	"math"
	"sort"
)

// Validate checks what a hand edit, a truncated copy or another tool could
// break in a result before anything is judged or drawn from it: counts are
// non-negative and add up, rates are fractions that match the counts,
// latencies and rates are non-negative, per-second intervals lie inside the
// run, and every encoded histogram decodes with slogate's geometry. The
// error names the field as a JSON path ("phases[1].error_rate").
func (r *Result) Validate() error {
	if !nonNegative(r.DurationS) {
		return fmt.Errorf("duration_s: %g is not a duration >= 0", r.DurationS)
	}
	if err := validSummary("summary.", &r.Summary); err != nil {
		return err
	}
	for i := range r.Phases {
		p := &r.Phases[i]
		path := fmt.Sprintf("phases[%d].", i)
		if !nonNegative(p.StartS) || !nonNegative(p.DurationS) {
			return fmt.Errorf("%sstart_s/duration_s: %g/%g are not times >= 0", path, p.StartS, p.DurationS)
		}
		if err := validSummary(path, &p.Summary); err != nil {
			return err
		}
	}
	for i := range r.Endpoints {
		if err := validSummary(fmt.Sprintf("endpoints[%d].", i), &r.Endpoints[i].Summary); err != nil {
			return err
		}
	}
	for i := range r.Intervals {
		iv := &r.Intervals[i]
		path := fmt.Sprintf("intervals[%d].", i)
		// Intervals are seconds since the start, by intended send time
		// (merged runs follow each other, so a run's duration is no bound).
		if iv.TS < 0 || iv.TS > maxIntervalSecond {
			return fmt.Errorf("%st_s: %d lies outside 0..%d s", path, iv.TS, maxIntervalSecond)
		}
		if err := validCounts(path, iv.Requests, iv.Success, iv.Blocked, iv.Errors, "requests", "success", "blocked", "errors"); err != nil {
			return err
		}
		if iv.SpanS != 0 && !(iv.SpanS > 0 && iv.SpanS <= 1) {
			return fmt.Errorf("%sspan_s: %g is not a part of a second (0..1]", path, iv.SpanS)
		}
		if !nonNegative(iv.TargetRPS) {
			return fmt.Errorf("%starget_rps: %g is not a rate >= 0", path, iv.TargetRPS)
		}
		if err := validLatency(path+"latency_ms", iv.LatencyMs); err != nil {
			return err
		}
		if err := validHistogram(path+"histogram", iv.Histogram); err != nil {
			return err
		}
	}
	if u := r.Histograms.Unit; u != "" && u != "us" {
		return fmt.Errorf("histograms.unit: %q (slogate's histograms are in \"us\")", u)
	}
	if err := validHistogramSet("histograms.run.", r.Histograms.Run); err != nil {
		return err
	}
	for _, kind := range []struct {
		path string
		sets map[string]HistogramSet
	}{{"histograms.phases", r.Histograms.Phases}, {"histograms.endpoints", r.Histograms.Endpoints}} {
		names := make([]string, 0, len(kind.sets))
		for name := range kind.sets {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := validHistogramSet(fmt.Sprintf("%s[%q].", kind.path, name), kind.sets[name]); err != nil {
				return err
			}
		}
	}
	g := &r.Generator
	if g.MaxWorkers < 0 || g.PlannedReqs < 0 || g.SentReqs < 0 || g.DroppedIterations < 0 ||
		!nonNegative(g.AchievedRatio) || !(g.PinnedFraction >= 0 && g.PinnedFraction <= 1) {
		return fmt.Errorf("generator: negative counts or ratios out of range (%+v)", *g)
	}
	if r.Server != nil {
		if err := r.Server.validate(); err != nil {
			return err
		}
	}
	if r.SLO != nil {
		return validSLO(r.SLO)
	}
	return nil
}

// maxIntervalSecond bounds an interval's t_s: 100 days.
const maxIntervalSecond = 100 * 86400

func nonNegative(f float64) bool { return f >= 0 && !math.IsInf(f, 0) }

func validCounts(path string, total, a, b, c int64, names ...string) error {
	for i, n := range []int64{total, a, b, c} {
		if n < 0 {
			return fmt.Errorf("%s%s: %d is negative", path, names[i], n)
		}
	}
	if a+b+c != total || a+b+c < 0 {
		return fmt.Errorf("%s%s: %d, but %s+%s+%s = %d", path, names[0], total, names[1], names[2], names[3], a+b+c)
	}
	return nil
}

func validSummary(path string, s *Summary) error {
	if err := validCounts(path, s.Requests, s.SuccessCount, s.BlockedCount, s.ErrorCount,
		"requests", "success_count", "blocked_count", "error_count"); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"censored", s.Censored}, {"bytes_in", s.BytesIn}, {"bytes_out", s.BytesOut}} {
		if c.n < 0 {
			return fmt.Errorf("%s%s: %d is negative", path, c.name, c.n)
		}
	}
	if s.Censored > s.ErrorCount {
		return fmt.Errorf("%scensored: %d, more than the %d errors it is part of", path, s.Censored, s.ErrorCount)
	}
	for _, f := range []struct {
		name  string
		rate  float64
		count int64
	}{{"success_rate", s.SuccessRate, s.SuccessCount}, {"error_rate", s.ErrorRate, s.ErrorCount}, {"block_rate", s.BlockRate, s.BlockedCount}} {
		if !(f.rate >= 0 && f.rate <= 1) {
			return fmt.Errorf("%s%s: %g is not a fraction 0..1", path, f.name, f.rate)
		}
		want := 0.0
		if s.Requests > 0 {
			want = float64(f.count) / float64(s.Requests)
		}
		if math.Abs(f.rate-want) > 1e-6 {
			return fmt.Errorf("%s%s: %g, but the counts give %g", path, f.name, f.rate, want)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"target_rate_rps", s.TargetRateRPS}, {"request_rate_rps", s.RequestRateRPS}, {"throughput_rps", s.ThroughputRPS}, {"success_rps", s.SuccessRPS}} {
		if !nonNegative(f.v) {
			return fmt.Errorf("%s%s: %g is not a rate >= 0", path, f.name, f.v)
		}
	}
	for _, l := range []struct {
		name string
		l    Latency
	}{{"latency_ms", s.LatencyMs}, {"service_latency_ms", s.ServiceLatencyMs}, {"lateness_ms", s.LatenessMs}} {
		if err := validLatency(path+l.name, l.l); err != nil {
			return err
		}
	}
	for _, m := range []struct {
		name   string
		counts map[string]int64
	}{{"status_codes", s.StatusCodes}, {"errors", s.Errors}} {
		for k, n := range m.counts {
			if n < 0 {
				return fmt.Errorf("%s%s[%q]: %d is negative", path, m.name, k, n)
			}
		}
	}
	return nil
}

func validLatency(path string, l Latency) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"min", l.Min}, {"mean", l.Mean}, {"p50", l.P50}, {"p90", l.P90}, {"p95", l.P95}, {"p99", l.P99}, {"p999", l.P999}, {"max", l.Max}} {
		if !nonNegative(f.v) {
			return fmt.Errorf("%s.%s: %g is not a latency >= 0", path, f.name, f.v)
		}
	}
	return nil
}

func validHistogramSet(path string, set HistogramSet) error {
	for _, h := range []struct{ name, enc string }{{"latency", set.Latency}, {"service_latency", set.ServiceLatency}, {"lateness", set.Lateness}} {
		if err := validHistogram(path+h.name, h.enc); err != nil {
			return err
		}
	}
	return nil
}

func validHistogram(path, enc string) error {
	if enc == "" {
		return nil
	}
	if _, err := DecodeHistogram(enc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

var knownVerdicts = map[string]bool{VerdictPass: true, VerdictFail: true, VerdictInconclusive: true, VerdictWarning: true}

func validSLO(rep *SLOReport) error {
	if !knownVerdicts[rep.Verdict] {
		return fmt.Errorf("slo.verdict: %q (want pass, fail, inconclusive or warning)", rep.Verdict)
	}
	if rep.Score != nil && !(*rep.Score >= 0 && *rep.Score <= 100) {
		return fmt.Errorf("slo.score: %g is not a score 0..100", *rep.Score)
	}
	for i := range rep.Objectives {
		if v := rep.Objectives[i].Verdict; !knownVerdicts[v] {
			return fmt.Errorf("slo.objectives[%d].verdict: %q (want pass, fail or inconclusive)", i, v)
		}
	}
	return nil
}
