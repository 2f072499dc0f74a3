package guard

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParsePrefixList: never panics; whatever parses is masked, unmapped, and
// parses again to itself.
func FuzzParsePrefixList(f *testing.F) {
	for _, s := range []string{"127.0.0.1/32,::1/128", "10.0.0.0/8 192.168.1.1", "::ffff:1.2.3.4/120", "fe80::1%eth0", "1.2.3.4/33", ",,;", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePrefixList(s)
		if err != nil {
			if !strings.Contains(err.Error(), "IP address or CIDR") && !strings.Contains(err.Error(), "zones") {
				t.Errorf("error %q does not say what is expected", err)
			}
			return
		}
		var b strings.Builder
		for i, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("%q gave a non-canonical prefix %v", s, p)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.String())
		}
		again, err := ParsePrefixList(b.String())
		if err != nil || len(again) != len(ps) {
			t.Fatalf("round trip of %q failed: %v %v", b.String(), again, err)
		}
		for i := range ps {
			if again[i] != ps[i] {
				t.Fatalf("round trip changed %v into %v", ps[i], again[i])
			}
		}
	})
}

// FuzzConfigFromEnv: any value of any variable either gives a valid Config or an
// error naming the variable; never a panic.
func FuzzConfigFromEnv(f *testing.F) {
	names := EnvNames()
	f.Add(uint8(0), "100")
	f.Add(uint8(3), "-1")
	f.Add(uint8(9), "1e309")
	f.Add(uint8(20), "HIGH")
	f.Add(uint8(24), "10.0.0.0/8,::1")
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := names[int(which)%len(names)]
		cfg, err := ConfigFromEnv(MapLookup(map[string]string{name: value}))
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("%s=%q: error %q does not name the variable", name, value, err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s=%q accepted but invalid: %v", name, value, err)
		}
	})
}

// FuzzIdentify: X-Forwarded-For from a trusted peer never panics and always names
// either the peer or an address written in the header.
func FuzzIdentify(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "1.1.1.1, 10.0.0.1", "[2001:db8::1]:443, bogus", " , ,", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	id := clientIdentity{trusted: prefixSet(mustPrefixes("127.0.0.1/32,10.0.0.0/8")), honor: true}
	f.Fuzz(func(t *testing.T, xff string) {
		a, ok := id.identify("127.0.0.1:4000", []string{xff})
		if !ok || !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Fatalf("identify(%q) = %v, %v", xff, a, ok)
		}
		if a == netip.MustParseAddr("127.0.0.1") {
			return
		}
		found := false
		for hop := range strings.SplitSeq(xff, ",") {
			if h, ok := parseHop(strings.TrimSpace(hop)); ok && h == a {
				found = true
			}
		}
		if !found {
			t.Fatalf("identify(%q) = %v, which is neither the peer nor a hop", xff, a)
		}
	})
}
