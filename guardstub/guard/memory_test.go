package guard

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// heapAfterGC is the live heap after two full collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// floodDistinctClients sends one request from each of n distinct peer addresses
// straight into ServeHTTP (no sockets: 100,000 loopback connections would measure
// the kernel, not the guard), with an in-process upstream.
func floodDistinctClients(t *testing.T, g *Guard, clock *fakeClock, n int) {
	t.Helper()
	base := netip.MustParseAddr("10.0.0.0").As4()
	req := httptest.NewRequest(http.MethodGet, "/api/test", nil)
	w := httptest.NewRecorder()
	for i := range n {
		a := base
		a[1], a[2], a[3] = byte(i>>16), byte(i>>8), byte(i)
		req.RemoteAddr = netip.AddrPortFrom(netip.AddrFrom4(a), 40000).String()
		w.Body.Reset()
		g.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("client %d got %d", i, w.Code)
		}
		if i%1000 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
}

// TestMemoryBoundedByMaxTrackedClients: 100,000 distinct client IPs.
//
// Stated bound: a tracked client costs about 300 bytes (the client struct ~220 B in
// a 224 B size class, plus its map entry), so 100,000 clients must stay under
// 64 MiB of live heap growth, and with MAX_TRACKED_CLIENTS=10,000 the table holds at
// most 10,000 clients and under 8 MiB whatever the number of addresses seen.
func TestMemoryBoundedByMaxTrackedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("floods 200,000 requests")
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	cases := []struct {
		maxTracked  int
		clients     int
		heapBoundMB float64
	}{
		{100000, 100000, 64},
		{10000, 100000, 8},
	}
	for _, c := range cases {
		clock := newFakeClock()
		cfg := testConfig()
		cfg.MaxTrackedClients = c.maxTracked
		before := heapAfterGC()
		g, err := New(cfg, WithClock(clock.Now), WithUpstream(ok), WithLogger(quietLog))
		if err != nil {
			t.Fatal(err)
		}
		floodDistinctClients(t, g, clock, c.clients)
		after := heapAfterGC()
		tracked, _, evicted := g.clients.stats(clock.Now().UnixNano())
		growthMB := (float64(after) - float64(before)) / (1 << 20)
		t.Logf("MAX_TRACKED_CLIENTS=%d, %d clients: tracked %d, evicted %d, heap growth %.1f MiB (%.0f B/client)",
			c.maxTracked, c.clients, tracked, evicted, growthMB, (float64(after)-float64(before))/float64(tracked))
		if tracked > c.maxTracked {
			t.Errorf("tracked %d clients, MAX_TRACKED_CLIENTS is %d", tracked, c.maxTracked)
		}
		if want := uint64(c.clients - tracked); evicted != want { // shards round the capacity down
			t.Errorf("evicted %d, want %d (every client not tracked)", evicted, want)
		}
		if growthMB > c.heapBoundMB {
			t.Errorf("heap grew %.1f MiB for %d clients, bound %v MiB", growthMB, c.clients, c.heapBoundMB)
		}
		runtime.KeepAlive(g)
		g.Close()
	}
}

func TestEvictionIsLeastRecentlySeen(t *testing.T) {
	tbl := newClientTable(3) // one shard of 3
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}) }
	s := tbl.shard(addr(1))
	s.mu.Lock()
	for i := 1; i <= 3; i++ {
		s.getLocked(addr(i))
	}
	s.getLocked(addr(1)) // 1 is now the most recent; 2 the least
	s.getLocked(addr(4)) // evicts 2
	has1, has2 := s.lookupLocked(addr(1)) != nil, s.lookupLocked(addr(2)) != nil
	s.mu.Unlock()
	if !has1 || has2 {
		t.Errorf("after touching 1 and adding 4: has 1 = %v, has 2 = %v; want 1 kept, 2 evicted", has1, has2)
	}
}
