//go:build unix

package guard

import (
	"net"
	"syscall"
)

// idleProbe tells whether an idle pooled connection can be reused: nothing to
// read on it and not closed by the peer. A check costs one non-blocking
// recv(MSG_PEEK), reads nothing, and allocates nothing (the callback is built
// once per connection). A connection it cannot check is never clean.
type idleProbe struct {
	raw   syscall.RawConn
	peek  func(fd uintptr) bool
	buf   [1]byte
	clean bool
}

func newIdleProbe(nc net.Conn) *idleProbe {
	p := &idleProbe{}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return p
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return p
	}
	p.raw = raw
	p.peek = func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing pending, the only clean answer. No error: stray bytes
		// (n > 0) or the peer closed (n == 0); any other error: a broken connection.
		p.clean = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // never wait for readiness
	}
	return p
}

// idle reports whether the connection is clean now.
func (p *idleProbe) idle() bool {
	if p.raw == nil {
		return false
	}
	p.clean = false
	return p.raw.Read(p.peek) == nil && p.clean
}
