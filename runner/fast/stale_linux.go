package fast

import (
	"net"
	"syscall"
)

// peerGone reports whether the peer of an idle connection has closed it
// (or sent something unasked, such as a 408 before closing): a peek that
// neither blocks nor consumes. False when it cannot tell.
func peerGone(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var buf [1]byte
	_ = raw.Read(func(fd uintptr) bool {
		// No error: end of stream (0 bytes) or bytes nobody asked for;
		// EAGAIN: alive and quiet.
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = err == nil
		return true // never wait
	})
	return gone
}
