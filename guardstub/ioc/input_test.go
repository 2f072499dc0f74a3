package ioc

import (
	"slices"
	"strings"
	"testing"
)

func TestParseBody(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    []string // values()
		errSub                  string
	}{
		{"object iocs strings", "application/json", `{"iocs": ["8.8.8.8", "example.com"]}`, []string{"8.8.8.8", "example.com"}, ""},
		{"object iocs objects", "application/json", `{"iocs": [{"value": "8.8.8.8", "type": "domain"}, "x.com"]}`, []string{"8.8.8.8", "x.com"}, ""},
		{"ioc_string split", "application/json", `{"ioc_string": "8.8.8.8, example.com;x.org\n1.1.1.1"}`, []string{"8.8.8.8", "example.com", "x.org", "1.1.1.1"}, ""},
		{"iocs before ioc_string, dedup", "application/json", `{"ioc_string": "a.com b.com", "iocs": ["b.com", "c.com"]}`, []string{"b.com", "c.com", "a.com"}, ""},
		{"list", "application/json", `["1.1.1.1", "1.1.1.1", " 2.2.2.2 "]`, []string{"1.1.1.1", "2.2.2.2"}, ""},
		{"json string", "application/json", `"8.8.8.8 9.9.9.9"`, []string{"8.8.8.8", "9.9.9.9"}, ""},
		{"plain text", "text/plain", "8.8.8.8, example.com", []string{"8.8.8.8", "example.com"}, ""},
		{"sniffed json without content type", "", `{"iocs": ["8.8.8.8"]}`, []string{"8.8.8.8"}, ""},
		{"empty", "application/json", "", nil, "empty request body"},
		{"blank", "text/plain", " \n\t ", nil, "empty request body"},
		{"truncated", "application/json", `{"iocs": [`, nil, "malformed JSON: unexpected end of input"},
		{"syntax", "application/json", `{"iocs": [1.1.1.1]}`, nil, "malformed JSON"},
		{"wrong type", "application/json", `{"iocs": "8.8.8.8"}`, nil, `field "iocs": expected a list`},
		{"number item", "application/json", `{"iocs": [1]}`, nil, "an IOC must be a string"},
		{"object without value", "application/json", `{"iocs": [{"type": "ip"}]}`, nil, `no "value"`},
		{"unknown field", "application/json", `{"ioc": "8.8.8.8"}`, nil, `unknown field "ioc"`},
		{"trailing data", "application/json", `{"iocs": []} {"iocs": []}`, nil, "unexpected data after"},
		{"json number body", "application/json", `42`, nil, "must be an object, a list of IOCs or a string"},
		// Unicode whitespace separates as in the original (Python's \s): a
		// no-break space from a copied web page, an ideographic space, Ogham.
		{"unicode spaces split", "text/plain", "8.8.8.8\u00a0example.com\u3000a.com\u1680b.com", []string{"8.8.8.8", "example.com", "a.com", "b.com"}, ""},
		{"unicode space around", "application/json", `{"ioc_string": "\u2003a.com\u00a0"}`, []string{"a.com"}, ""},
		{"bool option", "application/json", `{"iocs": ["a.com"], "include_stix": "yes"}`, nil, "true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseBody(tt.contentType, []byte(tt.body))
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("ParseBody(%q) error = %v, want it to contain %q", tt.body, err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBody(%q): %v", tt.body, err)
			}
			got, itemErrs := req.values()
			if !slices.Equal(got, tt.want) || len(itemErrs) != 0 {
				t.Errorf("values = %q, %v; want %q", got, itemErrs, tt.want)
			}
		})
	}
}

func TestValuesEmptyEntryIsItemError(t *testing.T) {
	req, err := ParseBody("application/json", []byte(`{"iocs": ["a.com", {"value": "  "}]}`))
	if err != nil {
		t.Fatal(err)
	}
	vals, itemErrs := req.values()
	if !slices.Equal(vals, []string{"a.com"}) || len(itemErrs) != 1 || !strings.Contains(itemErrs[0].Error, "iocs[1]: empty value") {
		t.Errorf("values = %q, %+v", vals, itemErrs)
	}
}
