// Package corpus is the deterministic IOC corpus that scenarios use to generate
// request bodies for the bundled IOC service: IPv4 and IPv6 addresses, domains,
// URLs and MD5/SHA-1/SHA-256 hashes, generated in code from a fixed seed so every
// slogate build and every shard of a distributed run sees the same list.
//
// The first HotSize entries are a curated "hot" set of well-known indicators
// (resolvers, popular domains, test-file hashes) that real IOC feeds repeat
// often; Pick draws part of each list from it so caches see realistic repeats,
// and Hot draws only from a prefix of the corpus for cache-warm scenarios.
//
// Every entry is valid under the IOC service's strict detection (checked by
// guardstub/ioc's tests). The package must stay free of I/O and global mutable
// state: the same (seq, min, max) always gives the same list.
package corpus

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// Size is the number of entries in the corpus; HotSize the curated prefix.
const (
	Size    = 8192
	HotSize = 64
)

// seed fixes the generated corpus; changing it changes every scenario's bodies.
const seed = 0x5106a7e_10c

// hotIOCs is the curated prefix: a mix of all seven kinds.
var hotIOCs = []string{
	"8.8.8.8", "1.1.1.1", "9.9.9.9", "208.67.222.222", "185.220.101.1", "45.155.205.233",
	"2001:4860:4860::8888", "2606:4700:4700::1111",
	"google.com", "example.com", "microsoft.com", "github.com", "cloudflare.com", "amazon.com",
	"login-microsoftonline.net", "paypal-account-verify.com", "update.flashplayer-secure.info", "cdn.jsdelivr.net",
	"https://example.com/", "http://malware.testing.google.test/testing/malware/", "https://github.com/login",
	"http://paypal-account-verify.com/signin?session=42", "https://login-microsoftonline.net/common/oauth2/authorize",
	"44d88612fea8a8f36de82e1278abb02f",                                 // EICAR test file, MD5
	"3395856ce81f2b7382dee72602f798b642f14140",                         // EICAR, SHA-1
	"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", // EICAR, SHA-256
	"d41d8cd98f00b204e9800998ecf8427e",                                 // empty file, MD5
	"da39a3ee5e6b4b0d3255bfef95601890afd80709",                         // empty file, SHA-1
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // empty file, SHA-256
}

var (
	words = []string{"secure", "login", "update", "account", "verify", "support", "cloud", "cdn", "mail", "portal",
		"office", "bank", "wallet", "crypto", "shop", "store", "service", "online", "auth", "signin", "docs", "drive",
		"files", "share", "news", "media", "apps", "api", "static", "track", "pay", "billing", "invoice", "delivery"}
	brands  = []string{"paypa1", "micros0ft", "app1e", "amaz0n", "netfl1x", "g00gle", "faceb00k", "dropb0x", "0ffice365", "linkedln", "chase-bank", "wellsfarg0"}
	tlds    = []string{"com", "net", "org", "info", "biz", "ru", "cn", "top", "xyz", "io", "co", "online", "site", "club", "tk", "de", "uk", "su"}
	paths   = []string{"/", "/login", "/signin.php", "/wp-admin/", "/update/setup.exe", "/invoice.pdf.exe", "/gate.php", "/api/v1/beacon", "/download", "/verify/account", "/.well-known/security.txt", "/index.html"}
	queries = []string{"", "", "", "?id=1337", "?session=abc123", "?ref=mail&utm=1"}
)

var corpus = sync.OnceValue(generate)

// IOCs returns the whole corpus. The slice is shared: do not modify it.
func IOCs() []string { return corpus() }

// generate builds the corpus: the hot set, padded to HotSize with generated
// entries, then generated entries in the shares ipv4 25 %, ipv6 5 %, domain 25 %,
// url 15 %, md5 10 %, sha1 8 %, sha256 12 %. Duplicates are skipped.
func generate() []string {
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	out := make([]string, 0, Size)
	seen := make(map[string]bool, Size)
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range hotIOCs {
		add(s)
	}
	for len(out) < Size {
		switch r := rng.IntN(100); {
		case r < 25:
			add(ipv4(rng))
		case r < 30:
			add(ipv6(rng))
		case r < 55:
			add(domain(rng))
		case r < 70:
			scheme := "http"
			if rng.IntN(2) == 0 {
				scheme = "https"
			}
			add(scheme + "://" + domain(rng) + paths[rng.IntN(len(paths))] + queries[rng.IntN(len(queries))])
		case r < 80:
			add(hexString(rng, 16))
		case r < 88:
			add(hexString(rng, 20))
		default:
			add(hexString(rng, 32))
		}
	}
	return out
}

// ipv4 draws a public-looking unicast address (no 0/8, 10/8, 127/8, 224/3).
func ipv4(rng *rand.Rand) string {
	for {
		a := 1 + rng.IntN(223)
		if a != 10 && a != 127 && a != 100 && a != 169 && a != 172 && a != 192 {
			return fmt.Sprintf("%d.%d.%d.%d", a, rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		}
	}
}

// ipv6 draws a global unicast address in 2000::/3, canonically formatted.
func ipv6(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[0] = 0x20 | b[0]&0x1f
	if rng.IntN(2) == 0 { // many real addresses have a zero run
		for i := 8; i < 14; i++ {
			b[i] = 0
		}
	}
	return netip.AddrFrom16(b).String()
}

func domain(rng *rand.Rand) string {
	tld := tlds[rng.IntN(len(tlds))]
	switch rng.IntN(4) {
	case 0:
		return brands[rng.IntN(len(brands))] + "-" + words[rng.IntN(len(words))] + "." + tld
	case 1:
		return words[rng.IntN(len(words))] + "." + brands[rng.IntN(len(brands))] + "-" + words[rng.IntN(len(words))] + "." + tld
	case 2:
		return fmt.Sprintf("%s%d.%s", words[rng.IntN(len(words))], rng.IntN(1000), tld)
	default:
		return words[rng.IntN(len(words))] + "-" + words[rng.IntN(len(words))] + "." + tld
	}
}

func hexString(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return hex.EncodeToString(b)
}

// splitmix64 turns a request number into a well-mixed 64-bit state.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hotShare is the fraction of a picked list drawn from the hot set.
const hotShare = 0.2

// Pick returns a deterministic list of distinct IOCs for request number seq, of
// length in [min, max] (clamped to [0, Size]; max < min means min). About 20 % of
// the entries come from the hot set, the rest uniformly from the whole corpus.
func Pick(seq uint64, min, max int) []string {
	c := corpus()
	min, max = clamp(min, 0, len(c)), clamp(max, 0, len(c))
	if max < min {
		max = min
	}
	s := splitmix64(seq)
	rng := rand.New(rand.NewPCG(s, splitmix64(s)))
	n := min + rng.IntN(max-min+1)
	out := make([]string, 0, n)
	chosen := make(map[int]bool, n)
	for len(out) < n {
		var i int
		if rng.Float64() < hotShare && len(chosen) < HotSize/2 {
			i = rng.IntN(HotSize)
		} else {
			i = rng.IntN(len(c))
		}
		if !chosen[i] {
			chosen[i] = true
			out = append(out, c[i])
		}
	}
	return out
}

// Hot returns a deterministic entry among the first n of the corpus for request
// number seq (n clamped to [1, Size]), for cache-warm scenarios: with n small,
// nearly every request repeats an IOC already analysed.
func Hot(seq uint64, n int) string {
	c := corpus()
	n = clamp(n, 1, len(c))
	return c[splitmix64(seq)%uint64(n)]
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
