package capacity

import "html/template"

// Charts are the report's SVG charts.
func Charts(r *Report) []template.HTML { return nil }
