//go:build unix

package guard

import (
	"net"
	"syscall"
)

// idleConnClean reports whether an idle pooled connection can be reused: nothing
// to read on it and not closed by the peer. It costs one non-blocking
// recv(MSG_PEEK) and reads nothing. A connection it cannot check is not clean.
func idleConnClean(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	clean := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing pending, the only clean answer. No error: stray bytes
		// (n > 0) or the peer closed (n == 0); any other error: a broken connection.
		clean = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && clean
}
