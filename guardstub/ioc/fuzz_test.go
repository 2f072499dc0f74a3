package ioc

import (
	"strings"
	"testing"
)

// FuzzDetect: detection never panics, and an accepted IOC's canonical form is
// accepted as the same kind (the cache key names the same indicator).
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "999.1.1.1", "2001:db8::1", "fe80::1%eth0", "example.com", "Example.COM",
		"https://example.com:8443/a?b=c#d", "example.com/x", "[::1]", "http://[::1]:80/", "10.0.0.0/8",
		"44d88612fea8a8f36de82e1278abb02f", "xn--80ak6aa92e.com", "a_b.c", "-.-", "://", "http://@/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = DetectOriginalKind(s)
		k, err := Detect(s)
		if (err == nil) != (k != KindUnknown) {
			t.Fatalf("Detect(%q) = %v, %v: kind and error disagree", s, k, err)
		}
		if err != nil {
			return
		}
		c := canonical(k, s, DetectStrict)
		if k2, err := Detect(c); err != nil || k2 != k {
			t.Fatalf("canonical %q of %q (%v) detects as %v, %v", c, s, k, k2, err)
		}
	})
}

// FuzzParseBody: body parsing never panics and yields clean, distinct values.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{`{"iocs": ["8.8.8.8"]}`, `["a.com", {"value": "b.com"}]`, `"x y"`, `8.8.8.8, a.com`,
		`{"ioc_string": "a;b,c", "iocs": []}`, `{"iocs": [`, `[{"type": 1}]`, "", "\x00"} {
		f.Add("application/json", s)
		f.Add("text/plain", s)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, err := ParseBody(contentType, []byte(body))
		if err != nil {
			return
		}
		vals, _ := req.values()
		seen := map[string]bool{}
		for _, v := range vals {
			if v == "" || v != strings.TrimSpace(v) || seen[v] {
				t.Fatalf("bad value %q in %q", v, vals)
			}
			seen[v] = true
		}
	})
}
