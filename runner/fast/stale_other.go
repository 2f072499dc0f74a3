//go:build !linux

package fast

import "net"

// peerGone cannot tell on this platform: an idle connection the peer
// closed fails its next request, as with any HTTP/1.1 client.
func peerGone(net.Conn) bool { return false }
