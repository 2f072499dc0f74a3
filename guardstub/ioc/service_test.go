package ioc

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/slogate/slogate/scenarios/corpus"
)

func TestHealth(t *testing.T) {
	_, srv, _ := startService(t, testConfig())
	resp, err := srv.Client().Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthResponse
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || h.Status != "healthy" || len(h.Providers) != 4 ||
		h.Providers["VirusTotal"].Circuit != "closed" || h.Providers["VirusTotal"].RateLimitTokens != 4 || h.Providers["IPinfo"].RateLimitTokens != -1 {
		t.Errorf("health = %d %+v", resp.StatusCode, h)
	}
}

func TestAnalyzeBodyShapes(t *testing.T) {
	_, srv, _ := startService(t, testConfig())
	for _, tt := range []struct{ name, contentType, body string }{
		{"object", "application/json", `{"iocs": ["8.8.8.8", "example.com"]}`},
		{"objects as in the original", "application/json", `{"iocs": [{"value": "8.8.8.8"}, {"value": "example.com", "type": "domain"}]}`},
		{"ioc_string", "application/json", `{"ioc_string": "8.8.8.8,example.com"}`},
		{"list", "application/json", `["8.8.8.8", "example.com"]`},
		{"plain text", "text/plain", "8.8.8.8 example.com\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, ct, b := post(t, srv, "/analyze", tt.contentType, tt.body)
			if status != 200 || !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("status %d %s: %s", status, ct, b)
			}
			var rep Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Summary.TotalIOCs != 2 || rep.IOCs[0].Value != "8.8.8.8" || rep.IOCs[0].Type != "ip" || rep.IOCs[1].Type != "domain" {
				t.Errorf("report: %+v", rep.Summary)
			}
			if len(rep.IOCs[0].Reports) != 4 || len(rep.IOCs[1].Reports) != 2 {
				t.Errorf("fan-out: ip %q, domain %q; want 4 and 2 providers", rep.IOCs[0].Reports, rep.IOCs[1].Reports)
			}
			if rep.NetworkGraph == nil || rep.STIX == nil || rep.HTMLReportPath != nil {
				t.Error("want network_graph and stix by default and html_report_path null")
			}
		})
	}
}

// TestReportFieldNames pins the original's JSON field names.
func TestReportFieldNames(t *testing.T) {
	_, srv, _ := startService(t, testConfig())
	_, _, b := post(t, srv, "/analyze", "application/json", `{"iocs": ["8.8.8.8"]}`)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}
	for _, k := range []string{"summary", "iocs", "attribution", "html_report_path", "network_graph", "stix", "errors"} {
		if !keys(raw)[k] {
			t.Errorf("report lacks %q", k)
		}
	}
	var summary map[string]json.RawMessage
	json.Unmarshal(raw["summary"], &summary)
	for _, k := range []string{"total_iocs", "malicious_iocs", "suspicious_iocs", "clean_iocs", "report_id", "report_time", "elapsed_time"} {
		if !keys(summary)[k] {
			t.Errorf("summary lacks %q", k)
		}
	}
	var iocs []map[string]json.RawMessage
	json.Unmarshal(raw["iocs"], &iocs)
	for _, k := range []string{"value", "type", "reputation", "score", "engines", "reports", "otx_pulses", "abuseipdb_confidence",
		"first_seen", "last_seen", "tags", "city", "region", "country", "asn", "location"} {
		if !keys(iocs[0])[k] {
			t.Errorf("ioc lacks %q", k)
		}
	}
	var attr map[string]json.RawMessage
	json.Unmarshal(raw["attribution"], &attr)
	for _, k := range []string{"actor", "group", "target_region", "target_sectors", "motive", "summary", "mitre_techniques", "confidence"} {
		if !keys(attr)[k] {
			t.Errorf("attribution lacks %q", k)
		}
	}
}

func TestAnalyzeOutputFormats(t *testing.T) {
	_, srv, _ := startService(t, testConfig())
	status, ct, b := post(t, srv, "/analyze", "application/json", `{"iocs": ["8.8.8.8", "x<script>.com"], "output_format": "markdown"}`)
	if status != 200 || !strings.HasPrefix(ct, "text/markdown") || !strings.Contains(string(b), "# IOC Analysis Report") ||
		!strings.Contains(string(b), "| 8.8.8.8 | IP |") || !strings.Contains(string(b), "## Rejected IOCs") {
		t.Errorf("markdown: %d %s\n%s", status, ct, b)
	}
	status, ct, b = post(t, srv, "/analyze", "application/json", `{"iocs": ["8.8.8.8", "x<script>.com"], "output_format": "HTML"}`)
	if status != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(b), "<td><code>8.8.8.8</code></td>") ||
		strings.Contains(string(b), "<script>") {
		t.Errorf("html (must escape input): %d %s\n%s", status, ct, b)
	}
	// The score is a number with one decimal, not a formatting error.
	if !regexp.MustCompile(`<td>(Suspicious|Malicious|Clean|Informational)</td><td>\d+\.\d</td>`).Match(b) || strings.Contains(string(b), "%!") {
		t.Errorf("html score cell:\n%s", b)
	}
	status, _, b = post(t, srv, "/analyze", "application/json", `{"iocs": ["8.8.8.8"], "output_format": "pdf"}`)
	if status != 400 || !strings.Contains(string(b), "want json, markdown or html") {
		t.Errorf("bad format: %d %s", status, b)
	}
	rep := analyzeOK(t, srv, `{"iocs": ["8.8.8.8"], "include_stix": false, "include_graph": false}`)
	if rep.STIX != nil || rep.NetworkGraph != nil {
		t.Error("include_stix/include_graph false ignored")
	}
}

func TestBadItemsAndBadInput(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	cfg.AnalyzeMaxIOCs = 3
	_, srv, _ := startService(t, cfg)

	rep := analyzeOK(t, srv, `{"iocs": ["8.8.8.8", "not-an-ioc!", "999.1.1.1", "8.8.8.8"]}`)
	if rep.Summary.TotalIOCs != 1 || rep.Summary.RejectedIOCs != 2 || len(rep.Errors) != 2 ||
		rep.Errors[0].Value != "not-an-ioc!" || !strings.Contains(rep.Errors[1].Error, "octet must be 0-255") {
		t.Errorf("mixed batch: summary %+v errors %+v", rep.Summary, rep.Errors)
	}

	for _, tt := range []struct {
		name, path, contentType, body string
		status                        int
		errSub                        string
	}{
		{"empty", "/analyze", "application/json", "", 400, "empty request body"},
		{"no iocs", "/analyze", "application/json", `{"iocs": []}`, 400, "no IOCs provided"},
		{"malformed", "/analyze", "application/json", `{"iocs": ["8.8.8.8"`, 400, "malformed JSON"},
		{"unknown field", "/analyze", "application/json", `{"ioc": "8.8.8.8"}`, 400, `unknown field "ioc"`},
		{"all invalid", "/analyze", "application/json", `{"iocs": ["nope", "999.1.1.1"]}`, 422, "no valid IOCs"},
		{"oversized", "/analyze", "text/plain", strings.Repeat("8.8.8.8 ", 200), 413, "MAX_BODY_BYTES=1024"},
		{"too many for /analyze", "/analyze", "text/plain", "a.com b.com c.com d.com", 413, "send large lists to POST /batch"},
		{"oversized batch", "/batch", "text/plain", strings.Repeat("8.8.8.8 ", 200), 413, "MAX_BODY_BYTES"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, ct, b := post(t, srv, tt.path, tt.contentType, tt.body)
			var e errorResponse
			if err := json.Unmarshal(b, &e); err != nil || status != tt.status || !strings.HasPrefix(ct, "application/json") || !strings.Contains(e.Error, tt.errSub) {
				t.Errorf("status %d (want %d), body %s, want error containing %q", status, tt.status, b, tt.errSub)
			}
			if tt.status == 422 && len(e.Errors) != 2 {
				t.Errorf("422 must list the rejected items: %s", b)
			}
		})
	}
	if rep := analyzeAt(t, srv, "/batch", `{"ioc_string": "a.com b.com c.com d.com"}`); rep.Summary.TotalIOCs != 4 {
		t.Errorf("/batch takes what /analyze refuses: %+v", rep.Summary)
	}
	resp, err := srv.Client().Get(srv.URL + "/analyze")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /analyze = %d, want 405", resp.StatusCode)
	}
}

// TestDeterministicVerdicts: two independent services give byte-identical IOC
// results for the same corpus list.
func TestDeterministicVerdicts(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimitScale = 0
	iocs := corpus.Pick(7, 50, 50)
	body := jsonBody(map[string]any{"iocs": iocs})
	_, a, _ := startService(t, cfg)
	_, b, _ := startService(t, cfg)
	ra, rb := analyzeOK(t, a, body), analyzeOK(t, b, body)
	if !reflect.DeepEqual(ra.IOCs, rb.IOCs) || !reflect.DeepEqual(ra.Attribution, rb.Attribution) {
		t.Error("two services disagree on the same IOCs")
	}
	if len(ra.IOCs) != 50 {
		t.Fatalf("got %d IOCs", len(ra.IOCs))
	}
	for i, ioc := range ra.IOCs {
		if ioc.Value != iocs[i] {
			t.Fatalf("order not kept at %d: %s vs %s", i, ioc.Value, iocs[i])
		}
	}
}

func TestBatchChunksKeepOrder(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimitScale = 0
	cfg.BatchSize = 7
	cfg.MaxWorkers = 3
	_, srv, _ := startService(t, cfg)
	iocs := corpus.Pick(99, 120, 120)
	rep := analyzeAt(t, srv, "/batch", jsonBody(map[string]any{"iocs": iocs, "include_stix": false}))
	if rep.Summary.TotalIOCs != 120 {
		t.Fatalf("total %d", rep.Summary.TotalIOCs)
	}
	for i := range iocs {
		if rep.IOCs[i].Value != iocs[i] {
			t.Fatalf("IOC %d = %s, want %s", i, rep.IOCs[i].Value, iocs[i])
		}
	}
}

func TestCompressResponses(t *testing.T) {
	cfg := testConfig()
	cfg.CompressResponses = true
	_, srv, _ := startService(t, cfg)
	req, _ := http.NewRequest("POST", srv.URL+"/analyze", strings.NewReader(`["8.8.8.8", "example.com"]`))
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.NewDecoder(zr).Decode(&rep); err != nil || rep.Summary.TotalIOCs != 2 {
		t.Errorf("gzipped report: %v %+v", err, rep.Summary)
	}
}

func TestOriginalDetectionMode(t *testing.T) {
	cfg := testConfig()
	cfg.Detection = DetectOriginal
	_, srv, _ := startService(t, cfg)
	rep := analyzeOK(t, srv, `{"iocs": ["example.com", "999.999.999.999", "2001:db8::1"]}`)
	if rep.IOCs[0].Type != "url" || rep.IOCs[1].Type != "ip" || len(rep.Errors) != 1 {
		t.Errorf("IOC_DETECTION=original: %+v, errors %+v", rep.IOCs, rep.Errors)
	}
}

func TestStartLocal(t *testing.T) {
	ctx := context.Background()
	if _, _, err := StartLocal(ctx, map[string]string{"MAX_WORKERS": "many"}); err == nil || !strings.Contains(err.Error(), "MAX_WORKERS") {
		t.Fatalf("bad env: err = %v, want it to name MAX_WORKERS", err)
	}
	url, stop, err := StartLocal(ctx, map[string]string{"PROVIDER_LATENCY_SCALE": "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("url %q", url)
	}
	resp, err := http.Post(url+"/analyze", "text/plain", strings.NewReader("8.8.8.8"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"total_iocs":1`) {
		t.Errorf("analyze via StartLocal: %d %s", resp.StatusCode, b)
	}
	stop()
	stop() // idempotent
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("service still answering after stop")
	}
}

func TestCloseCancelsWork(t *testing.T) {
	cfg := testConfig()
	svc, srv, _ := startService(t, cfg)
	svc.Close()
	status, _, b := post(t, srv, "/analyze", "text/plain", "8.8.8.8")
	if status != http.StatusServiceUnavailable || !strings.Contains(string(b), "shutting down") {
		t.Errorf("after Close: %d %s", status, b)
	}
}
