package guard

import (
	"net/netip"
	"strings"
)

// prefixSet answers "is this address inside one of these prefixes". Lists are short
// (trusted proxies, static allow/deny lists), so a linear scan beats a trie.
type prefixSet []netip.Prefix

func (s prefixSet) contains(a netip.Addr) bool {
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIdentity decides who a request comes from.
//
// The identity is the socket peer. Only when the peer is a trusted proxy is
// X-Forwarded-For read, right to left: every hop that is itself a trusted proxy is
// skipped and the first untrusted hop is the client (the right-most untrusted
// address; anything left of it could have been written by the client). If every
// hop is trusted, the left-most one is the client. A hop that does not parse
// stops the walk: the client is the last address that was vouched for.
type clientIdentity struct {
	trusted prefixSet
	honor   bool
}

// identify returns the client address for a request whose RemoteAddr is peer and
// whose X-Forwarded-For header values are xff. ok is false when the peer itself
// cannot be parsed.
func (ci clientIdentity) identify(remoteAddr string, xff []string) (netip.Addr, bool) {
	a, ok, _ := ci.resolve(remoteAddr, xff)
	return a, ok
}

// resolve is identify that also reports whether X-Forwarded-For was present,
// honoured in general, and ignored because the peer is not a trusted proxy.
func (ci clientIdentity) resolve(remoteAddr string, xff []string) (client netip.Addr, ok, untrustedXFF bool) {
	peer, ok := parseHostPort(remoteAddr)
	if !ok {
		return netip.Addr{}, false, false
	}
	if !ci.honor || len(xff) == 0 {
		return peer, true, false
	}
	if !ci.trusted.contains(peer) {
		return peer, true, true
	}
	return ci.walk(peer, xff), true, false
}

// walk reads xff right to left from a trusted peer (see clientIdentity).
func (ci clientIdentity) walk(peer netip.Addr, xff []string) netip.Addr {
	client := peer
	// Header lines are in arrival order; later lines were appended by nearer hops.
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var hop string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				hop, line = line[j+1:], line[:j]
			} else {
				hop, line = line, ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a, ok := parseHop(hop)
			if !ok {
				return client
			}
			client = a
			if !ci.trusted.contains(a) {
				return a
			}
		}
	}
	return client
}

// parseHostPort parses an http.Request.RemoteAddr ("1.2.3.4:5678", "[::1]:80").
func parseHostPort(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(s); err == nil { // RemoteAddr without a port (tests, unix sockets)
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// parseHop parses one X-Forwarded-For entry: an address, optionally with a port,
// optionally in brackets ("1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:443", "2001:db8::1").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// containsFold reports whether s contains the lower-case ASCII substring sub,
// ignoring ASCII case in s, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
