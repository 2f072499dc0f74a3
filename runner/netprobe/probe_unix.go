//go:build unix

// Package netprobe tells whether an idle keep-alive connection can carry the
// next request: nothing to read on it and not closed by the peer. Clients
// without a read goroutine per connection (the guard's upstream transport,
// the fast engine's fasthttp) check a connection before they reuse it, as
// net/http's Transport learns it from its per-connection reader.
package netprobe

import (
	"net"
	"syscall"
)

// Probe checks one connection. A check costs one non-blocking
// recv(MSG_PEEK), reads nothing, and allocates nothing (the callback is built
// once per connection). A connection it cannot check is never clean.
type Probe struct {
	raw  syscall.RawConn
	peek func(fd uintptr)
	buf  [1]byte
	// what the last peek saw: nothing pending (clean), the peer's close
	// or a broken connection (closed); neither: bytes pending.
	clean, closed bool
}

// New returns the probe of nc.
func New(nc net.Conn) *Probe {
	p := &Probe{}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return p
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return p
	}
	p.raw = raw
	p.peek = func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing pending, the only clean answer. No error: stray
		// bytes (n > 0) or the peer closed (n == 0); any other error: a
		// broken connection.
		p.clean = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		p.closed = !p.clean && (err != nil || n == 0)
	}
	return p
}

// peekNow peeks without the connection's read lock (RawConn.Control), so
// a goroutine blocked reading the same connection (net/http's per-
// connection reader) neither delays the peek nor loses a byte to it.
func (p *Probe) peekNow() bool {
	if p.raw == nil {
		return false
	}
	p.clean, p.closed = false, false
	return p.raw.Control(p.peek) == nil
}

// Clean reports whether the connection is clean now: nothing pending and
// not closed by the peer. One goroutine at a time.
func (p *Probe) Clean() bool { return p.peekNow() && p.clean }

// Closed reports whether the peer has closed (or reset) the connection;
// bytes waiting to be read are not a close. One goroutine at a time.
func (p *Probe) Closed() bool { return p.peekNow() && p.closed }

// supported: this platform can peek at a socket.
const supported = true
