package results

import "testing"

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatValue(123.4, UnitMs), "123 ms"},
		{FormatValue(12.34, UnitMs), "12.3 ms"},
		{FormatValue(1.234, UnitMs), "1.23 ms"},
		{FormatValue(0.01234, UnitFraction), "1.23%"},
		{FormatValue(99.95, UnitRPS), "100.0 req/s"},
		{FormatPercent(0.5), "50.00%"},
		{FormatShortPercent(0.999), "99.9%"},
		{FormatShortPercent(0.5), "50%"},
		{FormatShortPercent(0.000042), "0.0042%"},
		{FormatShortPercent(0), "0%"},
		{FormatHours(0.75, "d"), "45 min"},
		{FormatHours(3.5, "d"), "3.5 h"},
		{FormatHours(84, "d"), "3.5 d"},
		{FormatHours(84, "days"), "3.5 days"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
