package capacity

import (
	"bytes"
	"html/template"
	"io"
)

var htmlPage = template.Must(template.New("capacity").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>slogate capacity: {{.Scenario}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:72em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>Capacity of {{.Scenario}}</h1>
<p><strong>{{.Answer}}</strong></p>
{{range .Charts}}<figure>{{.}}</figure>{{end}}
<pre>{{.Text}}</pre>
</body></html>
`))

// WriteHTML writes a self-contained HTML page: the charts (charts.go) and
// the text report.
func WriteHTML(w io.Writer, r *Report) error {
	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		return err
	}
	return htmlPage.Execute(w, struct {
		Scenario, Answer, Text string
		Charts                 []template.HTML
	}{r.Scenario, r.Answer(), text.String(), Charts(r)})
}
