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
