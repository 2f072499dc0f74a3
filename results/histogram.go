package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// DecodeHistogram is the inverse of EncodeHistogram. It accepts only
// slogate's geometry (1 µs .. 1 h, 2 or 3 significant digits), checked on
// the header before anything is allocated: a result file cannot make it
// allocate more than one such histogram's counts (~190 KB).
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	if err := checkGeometry(s); err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
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

// checkGeometry reads the header of an HdrHistogram V2 compressed encoding
// (base64 of: cookie int32, length int32, then zlib of a 40-byte header
// {cookie, payload length, normalizing offset, significant digits int32;
// lowest, highest int64; conversion ratio float64} and the counts) and
// refuses any geometry but slogate's. Only the header is inflated.
func checkGeometry(s string) error {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) < 8 {
		return errors.New("not an HdrHistogram V2 compressed encoding (base64)")
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("not an HdrHistogram V2 compressed encoding: %v", err)
	}
	var hdr struct {
		Cookie, PayloadLen, Offset, Digits int32
		Lowest, Highest                    int64
		Ratio                              float64
	}
	if err := binary.Read(z, binary.BigEndian, &hdr); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("histogram header: %v", err)
	} else if err != nil {
		return errors.New("histogram header truncated")
	}
	if hdr.Lowest != histLowestUs || hdr.Highest != histHighestUs || (hdr.Digits != histDigits && hdr.Digits != intervalDigits) {
		return fmt.Errorf("histogram geometry %d..%d µs at %d digits; slogate writes %d..%d µs at %d or %d digits",
			hdr.Lowest, hdr.Highest, hdr.Digits, histLowestUs, histHighestUs, histDigits, intervalDigits)
	}
	return nil
}
