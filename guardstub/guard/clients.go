package guard

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// blockReason says why a client is in a timed block.
type blockReason uint8

const (
	reasonNone blockReason = iota
	reasonRateLimitViolations
	reasonModel
)

func (r blockReason) String() string {
	switch r {
	case reasonRateLimitViolations:
		return "rate_limit_violations"
	case reasonModel:
		return "ml_detection"
	}
	return ""
}

// client is everything the guard remembers about one client address. It is small
// and fixed-size (~220 bytes) whatever the limits, so MAX_TRACKED_CLIENTS bounds
// memory: about 300 bytes a client including the table's map entry.
type client struct {
	window        slidingCounter // allowed requests in SLIDING_WINDOW_SECONDS
	violations    uint32         // 429s since the last block or quiet window
	lastViolation int64          // unix ns
	blockedUntil  int64          // unix ns; 0 = not blocked
	offences      uint32         // blocks so far: the progressive-blocking exponent
	reason        blockReason
	risk          float32 // last risk score, for DYNAMIC_RATE_ADJUSTMENT
	blockSlot     int32   // 1 + index in the shard's blocks heap; 0 = not in it
	features      featureWindow
}

// blockFor puts c in a timed block starting at now and returns its length:
// base · 2^offences with progressive blocking (base otherwise), capped at maxBlock.
func (c *client) blockFor(now int64, reason blockReason, base, maxBlock time.Duration, progressive bool) time.Duration {
	d := base
	if progressive {
		for i := uint32(0); i < c.offences && d < maxBlock; i++ {
			d *= 2
		}
	}
	d = min(d, maxBlock)
	c.offences++
	c.blockedUntil = now + int64(d)
	c.reason = reason
	c.violations = 0
	return d
}

// clientTable is the bounded client state: shards, each a map plus an LRU list,
// so memory is bounded by MAX_TRACKED_CLIENTS and a flood of distinct addresses
// only ever evicts the clients seen least recently. A blocked client that keeps
// sending stays at the front; one that goes quiet may be forgotten under pressure.
//
// The gauges a scrape reads are kept as the table changes, so a scrape costs
// O(shards + blocks that ended since the last one), never O(clients): tracked and
// evictions are counters updated on insert and evict, and each shard keeps its
// blocked clients in a heap by end time, from which a scrape drops those that
// have ended and counts the rest.
type clientTable struct {
	shards    []clientShard
	mask      uint64
	tracked   atomic.Int64
	evictions atomic.Uint64
}

type clientShard struct {
	mu       sync.Mutex
	clients  lru[netip.Addr, client] // most recently seen first
	capacity int
	table    *clientTable
	blocks   blockHeap // clients with blockedUntil ≠ 0, soonest end first
	_        [64]byte  // keep shards on separate cache lines
}

// newClientTable spreads maxClients over 64 shards (one shard when it is small,
// so the bound is exact): total capacity ≤ maxClients.
func newClientTable(maxClients int) *clientTable {
	n := 64
	if maxClients < 64*64 {
		n = 1
	}
	t := &clientTable{shards: make([]clientShard, n), mask: uint64(n - 1)}
	for i := range t.shards {
		t.shards[i].capacity = max(1, maxClients/n)
		t.shards[i].clients = newLRU[netip.Addr, client](min(t.shards[i].capacity, 1024))
		t.shards[i].table = t
	}
	return t
}

func (t *clientTable) shard(a netip.Addr) *clientShard {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9e3779b97f4a7c15
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return &t.shards[h&t.mask]
}

// getLocked returns a's state, creating it (and evicting the least recently seen
// client if the shard is full) and marking it most recently seen. s.mu must be held.
func (s *clientShard) getLocked(a netip.Addr) *client {
	if c := s.clients.get(a); c != nil {
		return c
	}
	for s.clients.len() >= s.capacity {
		old := s.clients.oldest()
		if old == nil {
			break
		}
		s.blocks.remove(old)
		s.clients.removeOldest()
		s.table.evictions.Add(1)
		s.table.tracked.Add(-1)
	}
	s.table.tracked.Add(1)
	return s.clients.add(a)
}

// blockLocked puts c in a timed block (client.blockFor) and keeps the shard's
// heap of blocks in step. s.mu must be held.
func (s *clientShard) blockLocked(c *client, now int64, reason blockReason, base, maxBlock time.Duration, progressive bool) time.Duration {
	d := c.blockFor(now, reason, base, maxBlock, progressive)
	s.blocks.set(c)
	return d
}

// clearBlockLocked ends c's block, if any. s.mu must be held.
func (s *clientShard) clearBlockLocked(c *client) {
	c.blockedUntil = 0
	s.blocks.remove(c)
}

// activeBlocksLocked drops the blocks that ended by now from the heap and counts
// the rest. A client whose block ended keeps blockedUntil (admit resets its
// window on its next request); it is only no longer counted. s.mu must be held.
func (s *clientShard) activeBlocksLocked(now int64) int {
	for len(s.blocks) > 0 && s.blocks[0].blockedUntil <= now {
		s.blocks.remove(s.blocks[0])
	}
	return len(s.blocks)
}

// lookupLocked returns a's state without creating or touching it.
func (s *clientShard) lookupLocked(a netip.Addr) *client { return s.clients.peek(a) }

// stats counts tracked clients, clients blocked at now, and evictions so far,
// without walking the table (see clientTable).
func (t *clientTable) stats(now int64) (tracked, blocked int, evictions uint64) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		blocked += s.activeBlocksLocked(now)
		s.mu.Unlock()
	}
	return int(t.tracked.Load()), blocked, t.evictions.Load()
}

// unblock lifts a timed block on a (admin DELETE) and gives it a fresh window.
// It reports whether a block was active.
func (t *clientTable) unblock(a netip.Addr, now int64) bool {
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(a)
	if c == nil || c.blockedUntil <= now {
		return false
	}
	s.clearBlockLocked(c)
	c.violations, c.reason, c.window = 0, reasonNone, slidingCounter{}
	return true
}

// globalCounter counts all requests the guard judged over the feature window,
// for each client's share of traffic.
type globalCounter struct {
	mu        sync.Mutex
	windowLen int64 // FEATURE_WINDOW_SECONDS in ns
	window    slidingCounter
}

// add counts one request at now and returns the window's estimate.
func (g *globalCounter) add(now int64) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.window.add(now, g.windowLen)
	return g.window.estimate(now, g.windowLen)
}

func (g *globalCounter) estimate(now int64) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.window.start == 0 {
		return 0
	}
	w := g.windowLen
	c := g.window
	c.roll(now, w)
	return c.estimate(now, w)
}

// blockHeap is a min-heap of blocked clients by blockedUntil. Each client knows
// its slot (client.blockSlot), so a block lifted, extended or evicted is fixed in
// O(log n) and the heap never holds more than the shard's clients.
type blockHeap []*client

// set adds c, or moves it after its blockedUntil changed.
func (h *blockHeap) set(c *client) {
	if c.blockSlot == 0 {
		*h = append(*h, c)
		c.blockSlot = int32(len(*h))
	}
	i := int(c.blockSlot - 1)
	h.up(i)
	h.down(int(c.blockSlot - 1))
}

// remove takes c out if it is in.
func (h *blockHeap) remove(c *client) {
	if c.blockSlot == 0 {
		return
	}
	i, last := int(c.blockSlot-1), len(*h)-1
	h.swap(i, last)
	(*h)[last] = nil
	*h = (*h)[:last]
	c.blockSlot = 0
	if i < last {
		h.up(i)
		h.down(i)
	}
}

func (h blockHeap) less(i, j int) bool { return h[i].blockedUntil < h[j].blockedUntil }

func (h blockHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].blockSlot, h[j].blockSlot = int32(i+1), int32(j+1)
}

func (h blockHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h blockHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
