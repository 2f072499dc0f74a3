package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/slogate/slogate/results"
)

// Report formats. The names are what --format and --report FORMAT=FILE take.
const (
	Text     = "text"
	Markdown = "markdown"
	JSON     = "json"
	JUnit    = "junit"
	HTML     = "html"
)

// ErrFormat reports a format name this package does not render.
var ErrFormat = errors.New("unknown report format")

// Formats lists the formats Write renders, in the order help text shows them.
func Formats() []string { return []string{Text, Markdown, JSON, JUnit, HTML} }

// ComparisonFormats lists the formats WriteComparison renders. A comparison
// has no SLO objectives, so it has no JUnit form.
func ComparisonFormats() []string { return []string{Text, Markdown, JSON, HTML} }

// NormalizeFormat maps a user-given format name (any case, "md" for
// Markdown, "xml" for JUnit) to its canonical name, or returns ErrFormat
// with the list of valid names.
func NormalizeFormat(name string, comparison bool) (string, error) {
	f := strings.ToLower(strings.TrimSpace(name))
	switch f {
	case "md":
		f = Markdown
	case "xml":
		f = JUnit
	case "htm":
		f = HTML
	}
	valid := Formats()
	if comparison {
		valid = ComparisonFormats()
	}
	if !slices.Contains(valid, f) {
		return "", fmt.Errorf("%w %q: want one of %s", ErrFormat, name, strings.Join(valid, ", "))
	}
	return f, nil
}

// Write renders one result in format (see Formats).
func Write(w io.Writer, format string, r *results.Result) error {
	f, err := NormalizeFormat(format, false)
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("report: no result to render")
	}
	switch f {
	case Text:
		return results.WriteText(w, r)
	case Markdown:
		return writeMarkdown(w, r)
	case JSON:
		return writeJSON(w, r)
	case JUnit:
		return writeJUnit(w, r)
	default:
		return writeHTML(w, r)
	}
}

// WriteComparison renders a comparison in format (see ComparisonFormats).
// base and new are the compared results; only the HTML format uses them
// (for the overlaid charts), and it still renders the table when either is
// nil or when a side stands for several repeated runs.
func WriteComparison(w io.Writer, format string, c *results.Comparison, base, new *results.Result) error {
	f, err := NormalizeFormat(format, true)
	if err != nil {
		return err
	}
	if c == nil {
		return errors.New("report: no comparison to render")
	}
	switch f {
	case Text:
		return writeComparisonText(w, c)
	case Markdown:
		return writeComparisonMarkdown(w, c)
	case JSON:
		return writeJSON(w, c)
	default:
		return writeComparisonHTML(w, c, base, new)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding JSON report: %w", err)
	}
	return nil
}
