//go:build !unix

package netprobe

import "net"

// Probe cannot peek at a socket on this platform, so no idle connection
// counts as clean: every exchange uses a new connection rather than risk reading
// stray bytes as the next answer.
type Probe struct{}

// New returns the probe of a connection.
func New(net.Conn) *Probe { return &Probe{} }

// Clean is always false here.
func (*Probe) Clean() bool { return false }

// Closed is always false here: nothing is known.
func (*Probe) Closed() bool { return false }

// supported: this platform cannot peek at a socket.
const supported = false
