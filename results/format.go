package results

import (
	"fmt"
	"math"
	"strings"
)

// The number formats of every output: the text report here, and the
// Markdown, HTML and JUnit reports (package report) use these, so a value
// reads alike wherever it is shown.

// FormatValue renders a metric value in its unit.
func FormatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return num(v) + " ms"
	case "fraction":
		return FormatPercent(v)
	case "req/s":
		return fmt.Sprintf("%.1f req/s", v)
	}
	return fmt.Sprintf("%g", v)
}

// num renders milliseconds with a precision that suits their size: "120",
// "12.3", "1.23".
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// FormatPercent renders a fraction 0..1 as "12.34%".
func FormatPercent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// FormatShortPercent renders a fraction as a percentage without trailing
// zeros, keeping two significant digits of tiny values: "99.9%", "0.0042%".
func FormatShortPercent(f float64) string {
	if v := 100 * f; v != 0 && math.Abs(v) < 0.01 {
		return fmt.Sprintf("%.2g%%", v)
	}
	s := fmt.Sprintf("%.4f", 100*f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// FormatHours renders a duration in hours as minutes, hours or, from 48 h
// on, days named by days: the text report writes "3.5 d", the other
// reports "3.5 days".
func FormatHours(h float64, days string) string {
	switch {
	case h >= 48:
		return fmt.Sprintf("%.1f %s", h/24, days)
	case h >= 1:
		return fmt.Sprintf("%.1f h", h)
	default:
		return fmt.Sprintf("%.0f min", h*60)
	}
}
