package scrape

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

// FuzzExposition: any body a /metrics may answer, as text or OpenMetrics,
// parses or fails with an error; it never panics or hangs.
func FuzzExposition(f *testing.F) {
	f.Add([]byte("# TYPE up gauge\nup 1\n"), false)
	f.Add([]byte("# HELP x_total c\n# TYPE x_total counter\nx_total{a=\"b\"} 3 1700000000000\n"), false)
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n"), false)
	f.Add([]byte("# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 1\ns_count 1\n"), false)
	f.Add([]byte("# TYPE up gauge\nup 1\n# EOF\n"), true)
	f.Add([]byte("}{ garbage\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, openMetrics bool) {
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		if openMetrics {
			format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		}
		vec, err := parseExposition(bytes.NewReader(body), format, time.Unix(1_700_000_000, 0))
		if err == nil {
			for _, s := range vec {
				if s.Metric == nil {
					t.Fatal("a sample without labels")
				}
			}
		}
	})
}
