package ioc

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Kind is a detected IOC kind. It is finer than the report's type vocabulary:
// IPv4 and IPv6 are both reported as type "ip", as in the original.
type Kind uint8

// The IOC kinds, in the order the detector tries them.
const (
	KindUnknown Kind = iota
	KindIPv4
	KindIPv6
	KindMD5
	KindSHA1
	KindSHA256
	KindURL
	KindDomain
)

var kindNames = [...]string{"unknown", "ipv4", "ipv6", "md5", "sha1", "sha256", "url", "domain"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is the original's type vocabulary: ip, domain, url, md5, sha1, sha256
// (and "unknown").
func (k Kind) Type() string {
	switch k {
	case KindIPv4, KindIPv6:
		return "ip"
	default:
		return k.String()
	}
}

// DetectionMode selects the IOC type detector (env IOC_DETECTION).
type DetectionMode string

const (
	// DetectStrict is the default: the original's order and vocabulary with its
	// bugs fixed (see Detect).
	DetectStrict DetectionMode = "strict"
	// DetectOriginal reproduces the original's regexes exactly (see DetectOriginal),
	// for comparing against fastmcp-threatintel.
	DetectOriginal DetectionMode = "original"
)

// maxIOCLength bounds one IOC string; real URLs in IOC feeds stay far below it.
const maxIOCLength = 2048

// The original's get_ioc_type regexes (src/threatintel/tools.py), translated to
// RE2. `[a-zA-Z0-9-_]` is written `[a-zA-Z0-9_-]` (same set). Python's \d and \w
// are Unicode-aware, Go's are ASCII: the only intended difference in this mode.
// RE2 is linear-time, so the nested `([\/\w\.-]*)*` that can backtrack
// catastrophically in Python is harmless here.
var (
	originalIPRe     = regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
	originalMD5Re    = regexp.MustCompile(`^[a-fA-F0-9]{32}$`)
	originalSHA1Re   = regexp.MustCompile(`^[a-fA-F0-9]{40}$`)
	originalSHA256Re = regexp.MustCompile(`^[a-fA-F0-9]{64}$`)
	originalURLRe    = regexp.MustCompile(`^(https?://)?([\da-z.-]+)\.([a-z.]{2,6})([/\w.-]*)*/?$`)
	originalDomainRe = regexp.MustCompile(`^(([a-zA-Z]{1})|([a-zA-Z]{1}[a-zA-Z]{1})|([a-zA-Z]{1}[0-9]{1})|([0-9]{1}[a-zA-Z]{1})|([a-zA-Z0-9][a-zA-Z0-9_-]{1,61}[a-zA-Z0-9]))\.([a-zA-Z]{2,6}|[a-zA-Z0-9-]{2,30}\.[a-zA-Z]{2,3})$`)
)

// DetectOriginalKind classifies s exactly as the original does: IPv4 regex (octets
// not range-checked), then 32/40/64 hex, then the URL regex (which also takes
// lower-case bare domains), then the domain regex. IPv4 is the only IP kind.
func DetectOriginalKind(s string) Kind {
	switch {
	case originalIPRe.MatchString(s):
		return KindIPv4
	case originalMD5Re.MatchString(s):
		return KindMD5
	case originalSHA1Re.MatchString(s):
		return KindSHA1
	case originalSHA256Re.MatchString(s):
		return KindSHA256
	case originalURLRe.MatchString(s):
		return KindURL
	case originalDomainRe.MatchString(s):
		return KindDomain
	}
	return KindUnknown
}

var (
	dottedQuadRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
	hexRe        = regexp.MustCompile(`^[a-fA-F0-9]+$`)
)

// errNotIOC is the generic rejection; specific rejections wrap it.
var errNotIOC = errors.New("not a recognised IOC: expected an IPv4 or IPv6 address, a domain, an http(s) URL, or an MD5/SHA-1/SHA-256 hash")

// Detect classifies s (already trimmed) with the original's order and vocabulary
// and these fixes, each covered by the detection table in detect_test.go:
//
//   - IPv4 octets must be 0..255 without leading zeros (original: 999.999.999.999
//     is an ip); IPv6 addresses are detected (original: unknown). Both are type ip.
//   - Bare host names are domains whatever their case (original: lower-case
//     example.com is a url and only Example.COM is a domain), with any number of
//     labels and TLDs up to 63 letters or punycode (original: 2-3 labels, TLD <= 6).
//   - URLs need http or https (either case), and may carry a port, query string,
//     fragment, user info and upper-case characters (original: all unknown).
//
// Kept from the original: hex of length 32/40/64 in either case is md5/sha1/sha256
// (checked before URLs and domains); a scheme-less host followed by a path
// ("example.com/login") is a url; underscores are allowed inside domain labels.
// Rejections wrap errNotIOC and say what is wrong.
func Detect(s string) (Kind, error) {
	switch {
	case s == "":
		return KindUnknown, errors.New("empty IOC")
	case len(s) > maxIOCLength:
		return KindUnknown, fmt.Errorf("IOC is %d characters long, the limit is %d", len(s), maxIOCLength)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return KindUnknown, fmt.Errorf("IOC contains whitespace or control characters: %w", errNotIOC)
	}
	if dottedQuadRe.MatchString(s) {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			return KindIPv4, nil
		}
		return KindUnknown, fmt.Errorf("invalid IPv4 address: each octet must be 0-255 without leading zeros: %w", errNotIOC)
	}
	if strings.Contains(s, ":") && !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil {
			if a.Zone() != "" {
				return KindUnknown, fmt.Errorf("IPv6 address with a zone (%%%s) is not an IOC: %w", a.Zone(), errNotIOC)
			}
			return KindIPv6, nil
		}
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return KindUnknown, fmt.Errorf("CIDR ranges are not supported, give a single address: %w", errNotIOC)
	}
	if hexRe.MatchString(s) {
		switch len(s) {
		case 32:
			return KindMD5, nil
		case 40:
			return KindSHA1, nil
		case 64:
			return KindSHA256, nil
		}
		if len(s) >= 16 {
			return KindUnknown, fmt.Errorf("hex string of %d characters is not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash: %w", len(s), errNotIOC)
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return detectURL(s, s[:i])
	}
	if i := strings.IndexAny(s, "/?#"); i > 0 {
		// Scheme-less "host/path" is a url, as in the original.
		if err := checkHostPort(s[:i]); err != nil {
			return KindUnknown, err
		}
		return KindURL, nil
	}
	if err := checkDomain(s); err != nil {
		return KindUnknown, err
	}
	return KindDomain, nil
}

func detectURL(s, scheme string) (Kind, error) {
	if sl := strings.ToLower(scheme); sl != "http" && sl != "https" {
		return KindUnknown, fmt.Errorf("unsupported URL scheme %q, want http or https: %w", scheme, errNotIOC)
	}
	u, err := url.Parse(s)
	if err != nil {
		return KindUnknown, fmt.Errorf("malformed URL: %v: %w", stripURLPrefix(err), errNotIOC)
	}
	if u.Host == "" {
		return KindUnknown, fmt.Errorf("URL has no host: %w", errNotIOC)
	}
	if err := checkHostPort(u.Host); err != nil {
		return KindUnknown, err
	}
	return KindURL, nil
}

func stripURLPrefix(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// checkHostPort accepts "host", "host:port", "[v6]" and "[v6]:port" where host is
// a domain or an IPv4 address.
func checkHostPort(hp string) error {
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.Index(hp, "]")
		if end < 0 {
			return fmt.Errorf("unterminated IPv6 literal in host %q: %w", hp, errNotIOC)
		}
		host, port = hp[1:end], strings.TrimPrefix(hp[end+1:], ":")
		if rest := hp[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("unexpected %q after IPv6 literal: %w", rest, errNotIOC)
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return fmt.Errorf("invalid IPv6 literal %q: %w", host, errNotIOC)
		}
		return checkPort(port)
	}
	if i := strings.LastIndex(hp, ":"); i >= 0 {
		host, port = hp[:i], hp[i+1:]
		if err := checkPort(port); err != nil {
			return err
		}
	}
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	if dottedQuadRe.MatchString(host) {
		if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
			return nil
		}
		return fmt.Errorf("invalid IPv4 address %q in URL: %w", host, errNotIOC)
	}
	return checkDomain(host)
}

func checkPort(p string) error {
	if p == "" {
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '+' {
		return fmt.Errorf("invalid port %q: %w", p, errNotIOC)
	}
	return nil
}

// checkDomain validates a DNS name: 2+ labels, at most 253 characters, labels of
// 1-63 characters from [A-Za-z0-9_-] that neither start nor end with '-', and a TLD
// of 2-63 letters or punycode (xn--).
func checkDomain(s string) error {
	if len(s) > 253 {
		return fmt.Errorf("domain is %d characters long, the DNS limit is 253: %w", len(s), errNotIOC)
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		if isLabel(s) {
			return fmt.Errorf("single-label host %q is not an IOC, give a fully qualified domain: %w", s, errNotIOC)
		}
		return errNotIOC
	}
	for _, l := range labels[:len(labels)-1] {
		if !isLabel(l) {
			if l == "" {
				return fmt.Errorf("empty label in domain %q: %w", s, errNotIOC)
			}
			return fmt.Errorf("invalid domain label %q: %w", l, errNotIOC)
		}
	}
	tld := labels[len(labels)-1]
	if !isTLD(tld) {
		return fmt.Errorf("invalid top-level domain %q (letters or xn-- punycode, 2-63 characters): %w", tld, errNotIOC)
	}
	return nil
}

func isLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isTLD(t string) bool {
	if len(t) < 2 || len(t) > 63 {
		return false
	}
	if len(t) > 4 && strings.EqualFold(t[:4], "xn--") {
		return isLabel(t) && !strings.Contains(t, "_")
	}
	for i := 0; i < len(t); i++ {
		c := t[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// canonical is the form hashed by the providers and used as cache key: the same
// indicator written differently (case, IPv6 spelling) gets the same verdict.
// In DetectOriginal mode the key is the value as given, as in the original.
func canonical(k Kind, s string, mode DetectionMode) string {
	if mode == DetectOriginal {
		return s
	}
	switch k {
	case KindIPv4, KindIPv6:
		if a, err := netip.ParseAddr(s); err == nil {
			return a.String()
		}
	case KindMD5, KindSHA1, KindSHA256, KindDomain:
		return strings.ToLower(s)
	case KindURL:
		if i := strings.Index(s, "://"); i >= 0 {
			rest := s[i+3:]
			j := strings.IndexAny(rest, "/?#")
			if j < 0 {
				j = len(rest)
			}
			return strings.ToLower(s[:i+3+j]) + rest[j:]
		}
		j := strings.IndexAny(s, "/?#")
		return strings.ToLower(s[:j]) + s[j:]
	}
	return s
}

// detect dispatches on mode; the original mode has one generic rejection, as the
// original only logs "Could not determine IOC type".
func detect(s string, mode DetectionMode) (Kind, error) {
	if mode == DetectOriginal {
		if k := DetectOriginalKind(s); k != KindUnknown {
			return k, nil
		}
		return KindUnknown, fmt.Errorf("could not determine IOC type (original detection): %w", errNotIOC)
	}
	return Detect(s)
}
