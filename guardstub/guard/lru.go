package guard

// lru is a map with recency order, the bounded store behind both the client table
// and the prediction cache: the caller evicts with removeOldest when full. Values
// live inside the nodes, so a *V from get or add stays valid until the entry is
// removed. Not safe for concurrent use; each owner holds its own lock.
type lru[K comparable, V any] struct {
	items      map[K]*lruNode[K, V]
	head, tail *lruNode[K, V] // head = most recently used
	visited    uint64         // entries each has visited, so tests can tell a walk
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](sizeHint int) lru[K, V] {
	return lru[K, V]{items: make(map[K]*lruNode[K, V], sizeHint)}
}

func (l *lru[K, V]) len() int { return len(l.items) }

// get returns k's value and marks it most recently used; nil if absent.
func (l *lru[K, V]) get(k K) *V {
	n := l.items[k]
	if n == nil {
		return nil
	}
	if l.head != n {
		l.unlink(n)
		l.pushFront(n)
	}
	return &n.val
}

// peek returns k's value without touching the order; nil if absent.
func (l *lru[K, V]) peek(k K) *V {
	if n := l.items[k]; n != nil {
		return &n.val
	}
	return nil
}

// add inserts k with a zero value as the most recently used entry and returns
// it. k must be absent.
func (l *lru[K, V]) add(k K) *V {
	n := &lruNode[K, V]{key: k}
	l.items[k] = n
	l.pushFront(n)
	return &n.val
}

// remove deletes k if present.
func (l *lru[K, V]) remove(k K) {
	if n := l.items[k]; n != nil {
		l.unlink(n)
		delete(l.items, k)
	}
}

// oldest returns the least recently used value, the one removeOldest would
// delete; nil when empty.
func (l *lru[K, V]) oldest() *V {
	if l.tail == nil {
		return nil
	}
	return &l.tail.val
}

// removeOldest deletes the least recently used entry; false when empty.
func (l *lru[K, V]) removeOldest() bool {
	n := l.tail
	if n == nil {
		return false
	}
	l.unlink(n)
	delete(l.items, n.key)
	return true
}

// each calls f for every entry, in no particular order.
func (l *lru[K, V]) each(f func(*V)) {
	l.visited += uint64(len(l.items))
	for _, n := range l.items {
		f(&n.val)
	}
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
