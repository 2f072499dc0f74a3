package results

import (
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: values are microseconds from 1 µs to 1 h, 3 significant
// digits (DESIGN.md). Every full histogram in a result uses it so that any two
// results merge exactly.
const (
	histLowestUs  = 1
	histHighestUs = int64(time.Hour / time.Microsecond)
	histDigits    = 3
	// Interval histograms keep 2 significant digits: a closed second is
	// encoded to a few hundred bytes, so an hour-long run stays small.
	intervalDigits = 2
)

// NewHistogram returns an empty latency histogram with slogate's geometry.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowestUs, histHighestUs, histDigits)
}

func newIntervalHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowestUs, histHighestUs, intervalDigits)
}

// recordDuration records d (clamped into the trackable range) in microseconds.
func recordDuration(h *hdrhistogram.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histLowestUs {
		us = histLowestUs
	}
	if us > histHighestUs {
		us = histHighestUs
	}
	_ = h.RecordValue(us) // in range by construction
}

// EncodeHistogram returns the standard HdrHistogram V2 compressed, base64
// form, readable by every HdrHistogram implementation.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encoding histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram is the inverse of EncodeHistogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	return h, nil
}

// LatencyFrom summarises a microsecond histogram in milliseconds.
func LatencyFrom(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return round3(float64(us) / 1000) }
	return Latency{
		Min:  ms(h.Min()),
		Mean: round3(h.Mean() / 1000),
		P50:  ms(h.ValueAtQuantile(50)),
		P90:  ms(h.ValueAtQuantile(90)),
		P95:  ms(h.ValueAtQuantile(95)),
		P99:  ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)),
		Max:  ms(h.Max()),
	}
}

// QuantileMs returns the q-th percentile (0..100) of a microsecond histogram in ms.
func QuantileMs(h *hdrhistogram.Histogram, q float64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return round3(float64(h.ValueAtQuantile(q)) / 1000)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
