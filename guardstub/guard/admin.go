package guard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// blocklist is the admin-managed deny list: exact addresses and CIDRs. Reads (every
// request) are lock-free on an immutable snapshot; writes (admin calls) copy it.
type blocklist struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[blocklistSnapshot]
}

type blocklistSnapshot struct {
	addrs    map[netip.Addr]blockEntry
	prefixes map[netip.Prefix]blockEntry // non-host CIDRs, scanned linearly
}

type blockEntry struct {
	Reason  string    `json:"reason"`
	AddedAt time.Time `json:"added_at"`
}

func newBlocklist(initial []netip.Prefix, now time.Time) *blocklist {
	b := &blocklist{}
	s := &blocklistSnapshot{addrs: map[netip.Addr]blockEntry{}, prefixes: map[netip.Prefix]blockEntry{}}
	for _, p := range initial {
		s.put(p, blockEntry{Reason: "BLOCKLIST_IPS", AddedAt: now})
	}
	b.snap.Store(s)
	return b
}

func (s *blocklistSnapshot) put(p netip.Prefix, e blockEntry) {
	if p.IsSingleIP() {
		s.addrs[p.Addr()] = e
	} else {
		s.prefixes[p] = e
	}
}

func (b *blocklist) contains(a netip.Addr) bool {
	s := b.snap.Load()
	if _, ok := s.addrs[a]; ok {
		return true
	}
	for p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (b *blocklist) size() int {
	s := b.snap.Load()
	return len(s.addrs) + len(s.prefixes)
}

// update applies f to a copy of the list and publishes it.
func (b *blocklist) update(f func(*blocklistSnapshot) bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.snap.Load()
	s := &blocklistSnapshot{addrs: make(map[netip.Addr]blockEntry, len(old.addrs)+1), prefixes: make(map[netip.Prefix]blockEntry, len(old.prefixes))}
	for k, v := range old.addrs {
		s.addrs[k] = v
	}
	for k, v := range old.prefixes {
		s.prefixes[k] = v
	}
	changed := f(s)
	if changed {
		b.snap.Store(s)
	}
	return changed
}

type blocklistListing struct {
	IP      string    `json:"ip"`
	Reason  string    `json:"reason"`
	AddedAt time.Time `json:"added_at"`
}

func (b *blocklist) list() []blocklistListing {
	s := b.snap.Load()
	out := make([]blocklistListing, 0, len(s.addrs)+len(s.prefixes))
	for a, e := range s.addrs {
		out = append(out, blocklistListing{IP: a.String(), Reason: e.Reason, AddedAt: e.AddedAt})
	}
	for p, e := range s.prefixes {
		out = append(out, blocklistListing{IP: p.String(), Reason: e.Reason, AddedAt: e.AddedAt})
	}
	slices.SortFunc(out, func(x, y blocklistListing) int { return strings.Compare(x.IP, y.IP) })
	return out
}

// tokenMatches compares the X-Admin-Token with ADMIN_API_KEY in constant time.
// Both are hashed first so that neither the content nor the length of the key
// leaks through timing (subtle.ConstantTimeCompare returns early on a length
// mismatch). An unset key matches nothing.
func tokenMatches(given, key string) bool {
	if key == "" {
		return false
	}
	g := sha256.Sum256([]byte(given))
	k := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(g[:], k[:]) == 1
}

// serveAdmin answers /admin/*:
//
//	GET    /admin/state             counters and configuration in force
//	GET    /admin/blocklist         {"blocklist":[{ip,reason,added_at}...]}
//	POST   /admin/blocklist         {"ip":"1.2.3.4" or CIDR,"reason":...} → 201
//	DELETE /admin/blocklist/{ip}    removes it, and lifts a timed block on that IP
func (g *Guard) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !tokenMatches(r.Header.Get("X-Admin-Token"), g.cfg.AdminAPIKey) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid or missing admin API key"})
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/admin/state" && r.Method == http.MethodGet:
		g.adminState(w)
	case path == "/admin/blocklist" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"blocklist": g.blocklist.list()})
	case path == "/admin/blocklist" && r.Method == http.MethodPost:
		g.adminBlock(w, r)
	case strings.HasPrefix(path, "/admin/blocklist/") && r.Method == http.MethodDelete:
		g.adminUnblock(w, strings.TrimPrefix(path, "/admin/blocklist/"))
	case path == "/admin/state" || path == "/admin/blocklist" || strings.HasPrefix(path, "/admin/blocklist/"):
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "Method Not Allowed"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	}
}

func (g *Guard) adminState(w http.ResponseWriter) {
	now := g.nowNanos()
	tracked, blocked, evicted := g.clients.stats(now)
	writeJSON(w, http.StatusOK, map[string]any{
		"window_seconds":      g.cfg.SlidingWindow.Seconds(),
		"request_rate_limit":  g.cfg.RequestRateLimit,
		"burst_cap":           g.burstCap,
		"unique_ip_count":     tracked,
		"blocked_ip_count":    blocked,
		"evicted_clients":     evicted,
		"global_event_count":  g.global.estimate(now),
		"blocklist_ips":       len(g.blocklist.list()),
		"sensitivity_level":   g.cfg.SensitivityLevel,
		"model_cache_enabled": g.cfg.EnableModelCache,
		"model_cache_entries": g.cacheLen(),
		"model_predictions":   g.scorer.predictions.Load(),
		"model_batches":       g.scorer.batches.Load(),
		"model_largest_batch": g.scorer.largest.Load(),
		"max_tracked_clients": g.cfg.MaxTrackedClients,
		"trusted_proxies":     prefixStrings(g.cfg.TrustedProxies),
		"upstream":            g.upstreamURL.String(),
	})
}

func (g *Guard) adminBlock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IP     string  `json:"ip"`
		Reason *string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Body must be JSON {\"ip\": \"1.2.3.4\", \"reason\": \"...\"}"})
		return
	}
	p, err := parsePrefix(strings.TrimSpace(body.IP))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Invalid IP address"})
		return
	}
	reason := "added"
	if body.Reason != nil && *body.Reason != "" {
		reason = *body.Reason
	}
	g.blocklist.update(func(s *blocklistSnapshot) bool {
		s.put(p, blockEntry{Reason: reason, AddedAt: g.clock()})
		return true
	})
	g.log.Info("blocklist add", "ip", prefixString(p), "reason", reason)
	writeJSON(w, http.StatusCreated, map[string]string{"ip": prefixString(p), "message": reason})
}

func (g *Guard) adminUnblock(w http.ResponseWriter, raw string) {
	p, err := parsePrefix(strings.TrimSpace(raw))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Invalid IP address"})
		return
	}
	removed := g.blocklist.update(func(s *blocklistSnapshot) bool {
		if p.IsSingleIP() {
			_, ok := s.addrs[p.Addr()]
			delete(s.addrs, p.Addr())
			return ok
		}
		_, ok := s.prefixes[p]
		delete(s.prefixes, p)
		return ok
	})
	if p.IsSingleIP() && g.clients.unblock(p.Addr(), g.nowNanos()) {
		removed = true
	}
	g.log.Info("blocklist remove", "ip", prefixString(p), "removed", removed)
	writeJSON(w, http.StatusOK, map[string]any{"ip": prefixString(p), "removed": removed})
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
