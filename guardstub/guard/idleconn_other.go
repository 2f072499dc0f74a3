//go:build !unix

package guard

import "net"

// idleProbe cannot peek at a socket on this platform, so no idle connection
// counts as clean: every exchange uses a new connection rather than risk reading
// stray bytes as the next answer.
type idleProbe struct{}

func newIdleProbe(net.Conn) *idleProbe { return &idleProbe{} }

func (*idleProbe) idle() bool { return false }
