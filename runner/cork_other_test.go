//go:build !linux

package runner

import (
	"io"
	"net"
)

// answerAndClose writes answer and closes c (no TCP_CORK here: a client
// may, under load, write its next request before the close).
func answerAndClose(c net.Conn, answer string) {
	io.WriteString(c, answer)
	c.Close()
}
