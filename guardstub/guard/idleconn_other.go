//go:build !unix

package guard

import "net"

// idleConnClean cannot peek at a socket on this platform, so no idle connection
// counts as clean: every exchange uses a new connection rather than risk reading
// stray bytes as the next answer.
func idleConnClean(net.Conn) bool { return false }
