package runner

import (
	"io"
	"net"
	"syscall"
)

// answerAndClose writes answer and closes c so that the client cannot see
// the answer before the close: with TCP_CORK the answer is held in the
// kernel until close flushes it together with the FIN. A client that
// reuses the connection after the answer therefore always finds it closed
// (a plain write then close leaves a window, under load, in which the
// client writes its next request before the server has closed).
func answerAndClose(c net.Conn, answer string) {
	if tc, ok := c.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1) })
		}
	}
	io.WriteString(c, answer)
	c.Close()
}
