package ioc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDetect is the detection table: each row gives our (strict) answer and the
// original's (DetectOriginalKind), so every quirk kept or fixed is visible.
func TestDetect(t *testing.T) {
	tests := []struct {
		in       string
		strict   Kind
		errSub   string // strict rejection must contain this
		original Kind
		note     string
	}{
		{"8.8.8.8", KindIPv4, "", KindIPv4, ""},
		{"255.255.255.255", KindIPv4, "", KindIPv4, ""},
		{"999.999.999.999", KindUnknown, "octet must be 0-255", KindIPv4, "fixed: original does not range-check octets"},
		{"010.1.1.1", KindUnknown, "leading zeros", KindIPv4, "fixed: ambiguous octal"},
		{"1.2.3", KindUnknown, "top-level domain", KindUnknown, ""},
		{"1.2.3.4.5", KindUnknown, "top-level domain", KindUnknown, ""},
		{"2001:db8::1", KindIPv6, "", KindUnknown, "fixed: original has no IPv6"},
		{"::1", KindIPv6, "", KindUnknown, ""},
		{"2001:DB8:0:0:0:0:0:1", KindIPv6, "", KindUnknown, ""},
		{"fe80::1%eth0", KindUnknown, "zone", KindUnknown, ""},
		{"[2001:db8::1]", KindUnknown, "", KindUnknown, ""},
		{"10.0.0.0/8", KindUnknown, "CIDR", KindUnknown, "clear message instead of a generic one"},
		{"44d88612fea8a8f36de82e1278abb02f", KindMD5, "", KindMD5, ""},
		{"44D88612FEA8A8F36DE82E1278ABB02F", KindMD5, "", KindMD5, "kept: either case"},
		{"3395856ce81f2b7382dee72602f798b642f14140", KindSHA1, "", KindSHA1, ""},
		{"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", KindSHA256, "", KindSHA256, ""},
		{"abcdef0123456789abcdef", KindUnknown, "hex string of 22", KindUnknown, ""},
		{"example.com", KindDomain, "", KindURL, "fixed: original calls lower-case bare domains url"},
		{"www.google.com", KindDomain, "", KindURL, "fixed"},
		{"Example.COM", KindDomain, "", KindDomain, "kept"},
		{"WWW.Google.com", KindDomain, "", KindDomain, ""},
		{"a.b.c.Example.COM", KindDomain, "", KindURL, "fixed: the URL regex takes \"Example.COM\" as a path"},
		{"example.technology", KindDomain, "", KindURL, "fixed: original TLD <= 6 letters, rest taken as a path"},
		{"under_score.example.com", KindDomain, "", KindDomain, "kept: underscores in labels"},
		{"xn--80ak6aa92e.com", KindDomain, "", KindURL, ""},
		{"example.xn--p1ai", KindDomain, "", KindURL, "punycode TLD"},
		{"-bad.com", KindUnknown, "invalid domain label", KindURL, "fixed"},
		{"bücher.de", KindUnknown, "invalid domain label", KindUnknown, "IDN must be punycode"},
		{"localhost", KindUnknown, "single-label", KindUnknown, ""},
		{"example.c0m", KindUnknown, "top-level domain", KindUnknown, ""},
		{"http://example.com/path", KindURL, "", KindURL, ""},
		{"https://example.com/", KindURL, "", KindURL, ""},
		{"example.com/login", KindURL, "", KindURL, "kept: scheme-less host/path is a url"},
		{"https://example.com/login?user=1", KindURL, "", KindUnknown, "fixed: query strings"},
		{"https://example.com:8443/", KindURL, "", KindUnknown, "fixed: ports"},
		{"HTTPS://EXAMPLE.COM/", KindURL, "", KindUnknown, "fixed: upper case"},
		{"https://Example.com/Login", KindURL, "", KindUnknown, "fixed"},
		{"https://user@example.com/", KindURL, "", KindUnknown, ""},
		{"https://192.168.1.1/admin", KindURL, "", KindUnknown, ""},
		{"http://[2001:db8::1]:8080/x", KindURL, "", KindUnknown, ""},
		{"https://example.com:99999/", KindUnknown, "invalid port", KindUnknown, ""},
		{"https://999.1.1.1/", KindUnknown, "invalid IPv4", KindUnknown, ""},
		{"ftp://example.com/file", KindUnknown, "unsupported URL scheme", KindUnknown, ""},
		{"https:///path", KindUnknown, "no host", KindUnknown, ""},
		{"exa mple.com", KindUnknown, "whitespace", KindUnknown, ""},
		{"not an ioc!", KindUnknown, "whitespace", KindUnknown, ""},
		{"hello!", KindUnknown, "", KindUnknown, ""},
		{"", KindUnknown, "empty", KindUnknown, ""},
		{"٣.٣.٣.٣", KindUnknown, "", KindUnknown, "documented: Python's \\d would take Arabic-Indic digits; Go's is ASCII"},
		{strings.Repeat("a", 3000) + ".com", KindUnknown, "limit is 2048", KindURL, ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%s", i, tt.in[:min(len(tt.in), 40)]), func(t *testing.T) {
			got, err := Detect(tt.in)
			if got != tt.strict {
				t.Errorf("Detect(%q) = %v, %v; want %v (%s)", tt.in, got, err, tt.strict, tt.note)
			}
			if tt.strict == KindUnknown {
				if err == nil {
					t.Fatalf("Detect(%q): want an error", tt.in)
				}
				if !strings.Contains(err.Error(), tt.errSub) {
					t.Errorf("Detect(%q) error %q does not contain %q", tt.in, err, tt.errSub)
				}
			} else if err != nil {
				t.Errorf("Detect(%q): unexpected error %v", tt.in, err)
			}
			if got := DetectOriginalKind(tt.in); got != tt.original {
				t.Errorf("DetectOriginalKind(%q) = %v, want %v (%s)", tt.in, got, tt.original, tt.note)
			}
		})
	}
}

func TestDetectErrorsWrapNotIOC(t *testing.T) {
	for _, in := range []string{"999.1.1.1", "localhost", "ftp://x.com/", "10.0.0.0/8", "hello!"} {
		if _, err := Detect(in); !errors.Is(err, errNotIOC) {
			t.Errorf("Detect(%q) error %v does not wrap errNotIOC", in, err)
		}
	}
}

func TestKindType(t *testing.T) {
	want := map[Kind]string{KindIPv4: "ip", KindIPv6: "ip", KindDomain: "domain", KindURL: "url",
		KindMD5: "md5", KindSHA1: "sha1", KindSHA256: "sha256", KindUnknown: "unknown"}
	for k, typ := range want {
		if k.Type() != typ {
			t.Errorf("%v.Type() = %q, want %q", k, k.Type(), typ)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Example.COM", "example.com"},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{"44D88612FEA8A8F36DE82E1278ABB02F", "44d88612fea8a8f36de82e1278abb02f"},
		{"HTTPS://Example.COM/Login?A=B", "https://example.com/Login?A=B"},
		{"Example.com/Path", "example.com/Path"},
	}
	for _, tt := range tests {
		k, err := Detect(tt.in)
		if err != nil {
			t.Fatalf("Detect(%q): %v", tt.in, err)
		}
		if got := canonical(k, tt.in, DetectStrict); got != tt.want {
			t.Errorf("canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := canonical(k, tt.in, DetectOriginal); got != tt.in {
			t.Errorf("original mode canonical(%q) = %q, want the value unchanged", tt.in, got)
		}
	}
}
