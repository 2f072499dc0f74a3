package promql

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Remote is the Source for teams whose target a Prometheus already scrapes:
// the same expressions, evaluated by that server's HTTP API over the run's
// time window [Start, End]. Range selectors longer than the window are
// shortened to it, as for scraped samples, so data from before the run never
// counts.
type Remote struct {
	URL        string // the Prometheus base URL, e.g. http://127.0.0.1:9090
	Start, End time.Time
	Step       time.Duration // for over: run; default 1 s
	Client     *http.Client  // default: a client with a 30 s timeout
}

// Query asks the Prometheus server.
func (r Remote) Query(ctx context.Context, expr string, over Over) ([]Sample, error) {
	if !r.End.After(r.Start) {
		return nil, fmt.Errorf("%w: empty run window", ErrNoData)
	}
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	clampRanges(e, r.End.Sub(r.Start))
	hc := r.Client
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c, err := api.NewClient(api.Config{Address: r.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", r.URL, err)
	}
	qapi := v1.NewAPI(c)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var val model.Value
	if over == OverRun {
		step := r.Step
		if step <= 0 {
			step = time.Second
		}
		val, _, _, err = qapi.QueryRange(ctx, e.String(), v1.Range{Start: r.Start, End: r.End, Step: step})
	} else {
		val, _, _, err = qapi.Query(ctx, e.String(), r.End)
	}
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", r.URL, err)
	}
	var out []Sample
	switch v := val.(type) {
	case model.Vector:
		for _, s := range v {
			delete(s.Metric, model.MetricNameLabel)
			out = append(out, Sample{Labels: s.Metric.String(), T: s.Timestamp.Time(), V: float64(s.Value)})
		}
	case *model.Scalar:
		out = append(out, Sample{Labels: "{}", T: v.Timestamp.Time(), V: float64(v.Value)})
	case model.Matrix:
		for _, s := range v {
			delete(s.Metric, model.MetricNameLabel)
			for _, p := range s.Values {
				out = append(out, Sample{Labels: s.Metric.String(), T: p.Timestamp.Time(), V: float64(p.Value)})
			}
		}
	default:
		return nil, fmt.Errorf("prometheus %s: the expression gives a %s", r.URL, val.Type())
	}
	if len(out) == 0 {
		return nil, errNoSeries
	}
	return out, nil
}
