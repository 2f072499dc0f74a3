package ioc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Report is the original's JSON report (output_format "json") with its field
// names, plus "errors": the items rejected as not an IOC (ours).
//
// Differences from the original: report_id is YYYYMMDDHHMMSS-NNNNNN (the
// original's bare timestamp repeats within a second); html_report_path is null
// because no HTML file is written (the original writes one per call); STIX ids
// are derived from sha256 instead of Python's per-process hash().
type Report struct {
	Summary        Summary       `json:"summary"`
	IOCs           []IOC         `json:"iocs"`
	Attribution    Attribution   `json:"attribution"`
	HTMLReportPath *string       `json:"html_report_path"`
	NetworkGraph   *NetworkGraph `json:"network_graph,omitempty"`
	STIX           *STIXBundle   `json:"stix,omitempty"`
	Errors         []ItemError   `json:"errors"`
}

// Summary is the report's summary; rejected_iocs and partial_iocs are ours.
type Summary struct {
	TotalIOCs      int     `json:"total_iocs"`
	MaliciousIOCs  int     `json:"malicious_iocs"`
	SuspiciousIOCs int     `json:"suspicious_iocs"`
	CleanIOCs      int     `json:"clean_iocs"`
	ReportID       string  `json:"report_id"`
	ReportTime     string  `json:"report_time"`
	ElapsedTime    float64 `json:"elapsed_time"`
	RejectedIOCs   int     `json:"rejected_iocs"`
	PartialIOCs    int     `json:"partial_iocs"`
}

// NetworkGraph is the original's D3 graph: IOC nodes, an APT node when
// attributed, country nodes for IPs.
type NetworkGraph struct {
	Nodes    []GraphNode   `json:"nodes"`
	Links    []GraphLink   `json:"links"`
	Metadata GraphMetadata `json:"metadata"`
}

// GraphNode is a node of NetworkGraph.
type GraphNode struct {
	ID         string   `json:"id"`
	Label      string   `json:"label"`
	Type       string   `json:"type"`
	Reputation *string  `json:"reputation,omitempty"`
	Score      *float64 `json:"score,omitempty"`
	Group      int      `json:"group"`
	Color      string   `json:"color"`
	Size       float64  `json:"size"`
}

// GraphLink is a link of NetworkGraph.
type GraphLink struct {
	Source   string  `json:"source"`
	Target   string  `json:"target"`
	Type     string  `json:"type"`
	Strength float64 `json:"strength"`
}

// GraphMetadata is NetworkGraph's metadata.
type GraphMetadata struct {
	TotalNodes  int    `json:"total_nodes"`
	TotalLinks  int    `json:"total_links"`
	GeneratedAt string `json:"generated_at"`
}

// STIXBundle is the original's "STIX-like" bundle.
type STIXBundle struct {
	Type    string           `json:"type"`
	ID      string           `json:"id"`
	Objects []map[string]any `json:"objects"`
}

// isoMicro is Python's datetime.isoformat() with microseconds.
const isoMicro = "2006-01-02T15:04:05.000000"

func (s *Service) buildReport(iocs []IOC, itemErrs []ItemError, start time.Time, opt analysisOptions) *Report {
	now := s.now()
	r := &Report{IOCs: iocs, Attribution: attribute(iocs), Errors: itemErrs}
	if r.Errors == nil {
		r.Errors = []ItemError{}
	}
	r.Summary = Summary{
		TotalIOCs:    len(iocs),
		ReportID:     fmt.Sprintf("%s-%06d", now.Format("20060102150405"), s.reportSeq.Add(1)%1_000_000),
		ReportTime:   now.Format(isoMicro),
		ElapsedTime:  now.Sub(start).Seconds(),
		RejectedIOCs: len(itemErrs),
	}
	for _, i := range iocs {
		switch i.Reputation {
		case Malicious:
			r.Summary.MaliciousIOCs++
		case Suspicious:
			r.Summary.SuspiciousIOCs++
		case Clean:
			r.Summary.CleanIOCs++
		}
		if i.Partial {
			r.Summary.PartialIOCs++
		}
	}
	if opt.includeGraph {
		r.NetworkGraph = networkGraph(iocs, r.Attribution, now)
	}
	if opt.includeSTIX {
		r.STIX = stixBundle(iocs, r.Attribution, now, r.Summary.ReportID)
	}
	return r
}

func networkGraph(iocs []IOC, attr Attribution, now time.Time) *NetworkGraph {
	g := &NetworkGraph{Nodes: []GraphNode{}, Links: []GraphLink{}}
	for i, ioc := range iocs {
		color := "#44aa44"
		switch ioc.Reputation {
		case Malicious:
			color = "#ff4444"
		case Suspicious:
			color = "#ffaa44"
		}
		size := 10.0
		if ioc.Score != nil && *ioc.Score != 0 {
			size = max(10, *ioc.Score/5)
		}
		g.Nodes = append(g.Nodes, GraphNode{ID: fmt.Sprintf("ioc_%d", i), Label: ioc.Value, Type: ioc.Type,
			Reputation: ptr(ioc.Reputation), Score: ioc.Score, Group: 1, Color: color, Size: size})
	}
	if attr.Actor != "" && attr.Actor != "Unknown" {
		g.Nodes = append(g.Nodes, GraphNode{ID: "apt_actor", Label: attr.Actor, Type: "apt", Group: 2, Color: "#aa44aa", Size: 20})
		strength := 0.5
		if attr.Confidence != 0 {
			strength = float64(attr.Confidence) / 100
		}
		for i := range iocs {
			g.Links = append(g.Links, GraphLink{Source: fmt.Sprintf("ioc_%d", i), Target: "apt_actor", Type: "attributed_to", Strength: strength})
		}
	}
	countries := map[string]bool{}
	for i, ioc := range iocs {
		if ioc.Type != "ip" || ioc.Country == nil || *ioc.Country == "" {
			continue
		}
		id := "country_" + *ioc.Country
		if !countries[id] {
			countries[id] = true
			g.Nodes = append(g.Nodes, GraphNode{ID: id, Label: *ioc.Country, Type: "country", Group: 3, Color: "#4444aa", Size: 15})
		}
		g.Links = append(g.Links, GraphLink{Source: fmt.Sprintf("ioc_%d", i), Target: id, Type: "located_in", Strength: 0.3})
	}
	g.Metadata = GraphMetadata{TotalNodes: len(g.Nodes), TotalLinks: len(g.Links), GeneratedAt: now.Format(isoMicro)}
	return g
}

// stixID is "type--" and a UUID-shaped sha256 prefix of the parts.
func stixID(typ string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("%s--%s-%s-%s-%s-%s", typ, x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

func stixBundle(iocs []IOC, attr Attribution, now time.Time, reportID string) *STIXBundle {
	ts := now.Format(isoMicro)
	var indicators, actors []map[string]any
	for _, ioc := range iocs {
		label := "unknown"
		if ioc.Reputation != "" {
			label = strings.ToLower(ioc.Reputation)
		}
		indicators = append(indicators, map[string]any{
			"type": "indicator", "id": stixID("indicator", ioc.Value), "created": ts, "modified": ts,
			"name":    strings.ToUpper(ioc.Type) + ": " + ioc.Value,
			"pattern": fmt.Sprintf("[%s:value = '%s']", ioc.Type, ioc.Value), "valid_from": ts,
			"labels": []string{label}, "description": strings.Join(ioc.Reports, "; "), "pattern_type": "stix",
		})
	}
	if attr.Actor != "" && attr.Actor != "Unknown" {
		actorID := stixID("threat-actor", attr.Actor)
		aliases := []string{}
		if attr.Group != "" {
			aliases = []string{attr.Group}
		}
		actors = append(actors, map[string]any{
			"type": "threat-actor", "id": actorID, "created": ts, "modified": ts, "name": attr.Actor,
			"description": attr.Summary, "aliases": aliases, "threat_actor_types": []string{"state-sponsored"},
			"sophistication": "advanced", "resource_level": "government", "primary_motivation": strings.ToLower(attr.Motive),
		})
		for _, ioc := range iocs {
			indicators = append(indicators, map[string]any{
				"type": "relationship", "id": stixID("relationship", ioc.Value, attr.Actor), "created": ts, "modified": ts,
				"relationship_type": "attributed-to", "source_ref": stixID("indicator", ioc.Value), "target_ref": actorID,
				"description": "This indicator is attributed to " + attr.Actor, "confidence": attr.Confidence,
			})
		}
	}
	objects := append(indicators, actors...)
	if objects == nil {
		objects = []map[string]any{}
	}
	return &STIXBundle{Type: "bundle", ID: stixID("bundle", reportID, ts), Objects: objects}
}

// markdown renders the original's markdown report (the MCP tool's default
// output), with a "Rejected IOCs" section of ours; no HTML file is mentioned
// because none is written.
func (r *Report) markdown() string {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "\n# IOC Analysis Report\n\n## Summary\n")
	fmt.Fprintf(&b, "- **Total IOCs Analyzed**: %d\n- **Malicious IOCs**: %d\n- **Suspicious IOCs**: %d\n- **Clean IOCs**: %d\n",
		s.TotalIOCs, s.MaliciousIOCs, s.SuspiciousIOCs, s.CleanIOCs)
	fmt.Fprintf(&b, "- **Report ID**: %s\n- **Report Time**: %s\n- **Processing Time**: %.2f seconds\n",
		s.ReportID, strings.Replace(s.ReportTime[:min(19, len(s.ReportTime))], "T", " ", 1), s.ElapsedTime)
	b.WriteString("\n## IOC Table\n")
	b.WriteString(iocTable(r.IOCs))
	b.WriteString("\n")
	if r.NetworkGraph != nil {
		g, _ := json.Marshal(r.NetworkGraph)
		fmt.Fprintf(&b, "\n## Network Graph (D3 JSON)\n```json\n%s\n```\n", g)
	}
	a := r.Attribution
	fmt.Fprintf(&b, "\n## APT Attribution & Summary\n- **APT Actor Identified**: %s\n- **Associated Group**: %s\n- **Target Region**: %s\n- **Motive**: %s\n- **Attribution Confidence**: %d%%\n- **MITRE ATT&CK Techniques**: %s\n- **Summary**: %s\n",
		a.Actor, a.Group, a.TargetRegion, a.Motive, a.Confidence, strings.Join(a.MitreTechniques, ", "), a.Summary)
	if r.STIX != nil {
		st, _ := json.MarshalIndent(r.STIX, "", "  ")
		fmt.Fprintf(&b, "\n## STIX-like JSON Output\n```json\n%s\n```\n", st)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n## Rejected IOCs\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- `%s`: %s\n", e.Value, e.Error)
		}
	}
	return b.String()
}

// scoreText is a report's score cell: one decimal, or N/A without a score.
func scoreText(score *float64) string {
	if score == nil {
		return "N/A"
	}
	return fmt.Sprintf("%.1f", *score)
}

// iocTable is the original's create_ioc_table.
func iocTable(iocs []IOC) string {
	if len(iocs) == 0 {
		return "No IOCs to display."
	}
	lines := []string{"| IOC | Type | Reputation | Score | Reports |", "|-----|------|------------|-------|---------|"}
	for _, i := range iocs {
		score := scoreText(i.Score)
		reports := "No reports"
		if len(i.Reports) > 0 {
			reports = strings.Join(i.Reports[:min(2, len(i.Reports))], "; ")
		}
		lines = append(lines, fmt.Sprintf("| %s | %s | %s | %s | %s |", truncate(i.Value, 50), strings.ToUpper(i.Type), i.Reputation, score, truncate(reports, 100)))
	}
	return strings.Join(lines, "\n")
}

// htmlTemplate is a small, escaped rendering of the original's interactive
// report (which interpolates IOC values into HTML unescaped and pulls D3 from a
// CDN; here there is no script at all).
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"score": scoreText}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>ThreatIntel Report - {{.Summary.ReportID}}</title></head>
<body><h1>ThreatIntel Analysis Report</h1>
<p>Report ID: {{.Summary.ReportID}} | Generated: {{.Summary.ReportTime}}</p>
<p>Total IOCs: {{.Summary.TotalIOCs}} · Malicious: {{.Summary.MaliciousIOCs}} · Suspicious: {{.Summary.SuspiciousIOCs}} · Clean: {{.Summary.CleanIOCs}}</p>
{{if ne .Attribution.Actor "Unknown"}}<h2>APT Attribution</h2><p><strong>{{.Attribution.Actor}}</strong> ({{.Attribution.Group}}), {{.Attribution.Confidence}}% confidence: {{.Attribution.Summary}}</p>{{end}}
<table><thead><tr><th>IOC</th><th>Type</th><th>Reputation</th><th>Score</th><th>Location</th><th>Reports</th></tr></thead><tbody>
{{range .IOCs}}<tr><td><code>{{.Value}}</code></td><td>{{.Type}}</td><td>{{.Reputation}}</td><td>{{score .Score}}</td><td>{{with .Country}}{{.}}{{else}}Unknown{{end}}</td><td>{{range $i, $r := .Reports}}{{if $i}}; {{end}}{{$r}}{{end}}</td></tr>
{{end}}</tbody></table>
{{if .Errors}}<h2>Rejected IOCs</h2><ul>{{range .Errors}}<li><code>{{.Value}}</code>: {{.Error}}</li>{{end}}</ul>{{end}}
</body></html>
`))

func (r *Report) html() string {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, r); err != nil {
		return "<!DOCTYPE html><p>report rendering failed: " + template.HTMLEscapeString(err.Error()) + "</p>"
	}
	return b.String()
}
