package k6

import (
	"errors"
	"testing"
	"time"

	"go.k6.io/k6/errext"
	"go.k6.io/k6/metrics"

	"github.com/slogate/slogate/results"
)

// How the output stores a run by the reason k6 stopped it: a threshold
// failure (at the end or by abortOnFail) is a finished run, not a partial
// one; requests k6 cancelled ("context canceled") are the user's doing
// when the user interrupted the run, and errors otherwise.
func TestOutputStopReasons(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		err                      error
		partial                  bool
		cancelled, errs, answers int64
	}{
		{"finished", nil, false, 0, 5, 50},
		{"thresholds failed at the end", errext.WithAbortReasonIfNone(errors.New("thresholds crossed"), errext.AbortedByThresholdsAfterTestEnd), false, 0, 5, 50},
		{"abortOnFail", errext.WithAbortReasonIfNone(errors.New("thresholds crossed"), errext.AbortedByThreshold), false, 0, 5, 50},
		{"Ctrl-C", errext.WithAbortReasonIfNone(errors.New("signal"), errext.AbortedByUser), true, 5, 0, 50},
		{"script error", errext.WithAbortReasonIfNone(errors.New("boom"), errext.AbortedByScriptError), true, 0, 5, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			firstLoaded.Store(nil)
			o, path := startOutput(t, nil)
			f := newFake()
			var batch []metrics.Sample
			for i := 0; i < 50; i++ {
				batch = append(batch, f.request(time.Duration(i)*20*time.Millisecond, 5, "status", "200"))
			}
			for i := 0; i < 5; i++ {
				batch = append(batch, f.request(time.Second, 900, "status", "0", "error", "context canceled", "error_code", "1000"))
			}
			o.AddMetricSamples([]metrics.SampleContainer{metrics.Samples(batch)})
			if err := o.StopWithTestError(tc.err); err != nil {
				t.Fatal(err)
			}
			res, err := results.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			if res.Partial != tc.partial || s.Cancelled != tc.cancelled || s.ErrorCount != tc.errs || s.SuccessCount != tc.answers {
				t.Errorf("partial %v, cancelled %d, errors %d, answered %d; want %v, %d, %d, %d",
					res.Partial, s.Cancelled, s.ErrorCount, s.SuccessCount, tc.partial, tc.cancelled, tc.errs, tc.answers)
			}
			if tc.cancelled > 0 && (s.ErrorRate != 0 || s.Requests != 50) {
				t.Errorf("cancelled requests counted: %d requests, error rate %g", s.Requests, s.ErrorRate)
			}
		})
	}
}
