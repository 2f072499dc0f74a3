package results

// ScriptThreshold is one threshold of a k6 script (options.thresholds) as
// k6 judged it at the end of the run: a script's own criteria gate the run
// beside slogate's objectives.
type ScriptThreshold struct {
	// Metric is the k6 metric or sub-metric, e.g. "http_req_duration" or
	// "http_req_duration{name:home}".
	Metric string `json:"metric"`
	// Threshold is the expression, e.g. "p(95)<200".
	Threshold   string `json:"threshold"`
	AbortOnFail bool   `json:"abort_on_fail,omitempty"`
	// Failed is k6's verdict after its final evaluation.
	Failed bool `json:"failed"`
	// Value is the aggregate the threshold compares, in the metric's own
	// unit (ms for time trends, a fraction for rates); absent when the
	// metric never got a sample.
	Value *float64 `json:"value,omitempty"`
	// Unit of Value: "ms" for k6 time metrics, "fraction" for k6 rates,
	// else "" (a count, bytes, a gauge's value).
	Unit string `json:"unit,omitempty"`
}

// ScriptVerdictMetric is the Metric of a ScriptThreshold that records the
// script's own verdict: exec.test.fail() or exec.test.abort() (k6 exits
// 110 or 108); its Threshold says which.
const ScriptVerdictMetric = "script"

// mergeScriptThresholds keeps a k6 script's thresholds across repeated
// runs (--repeat), so that merging never drops a script's own criteria: a
// threshold fails the merged run when k6 failed it in any run (k6 judged
// each run on its own samples; they are not re-judged across runs), and
// its value is that of the first run that failed it, else the last run's.
func mergeScriptThresholds(runs []*Result) []ScriptThreshold {
	var out []ScriptThreshold
	index := map[string]int{}
	for _, r := range runs {
		for _, th := range r.ScriptThresholds {
			key := th.Metric + "\x00" + th.Threshold
			i, ok := index[key]
			if !ok {
				index[key] = len(out)
				out = append(out, th)
				continue
			}
			m := &out[i]
			m.AbortOnFail = m.AbortOnFail || th.AbortOnFail
			if !m.Failed {
				m.Value, m.Failed = th.Value, th.Failed
			}
		}
	}
	return out
}
