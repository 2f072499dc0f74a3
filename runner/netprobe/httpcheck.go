package netprobe

import (
	"context"
	"errors"
	"net"
	"net/http/httptrace"
	"sync/atomic"
)

// ErrClosedBeforeWrite: the connection a request was to reuse was found
// closed by the target before anything of the request was written on it,
// so the target never had the request; it may go on another connection,
// which is not a retry.
var ErrClosedBeforeWrite = errors.New("connection closed by the target before the request was written")

// checkedConn is a plain TCP connection a net/http Transport dialled
// through Dial: CheckReused's trace peeks at it when a request takes it
// from the idle pool, and once it is found closed nothing more is
// written on it.
type checkedConn struct {
	net.Conn
	probe  *Probe
	closed atomic.Bool
}

func (c *checkedConn) Write(b []byte) (int, error) {
	if c.closed.Load() {
		return 0, ErrClosedBeforeWrite
	}
	return c.Conn.Write(b)
}

// Dial wraps a Transport's DialContext so that CheckReused can check its
// connections (on a platform that cannot peek, it returns dial as is).
func Dial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if !supported {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &checkedConn{Conn: c, probe: New(c)}, nil
	}
}

// reusedTrace peeks at a plain HTTP/1.1 connection as a request takes it
// from the idle pool, before the request is written. net/http's reader
// drops a connection whose close it has read, but it may not have run yet
// when the next request takes the connection (a busy machine, a target
// that closes right after its answer); the peek sees the close the kernel
// already has. TLS connections are left to net/http (records such as
// session tickets may be pending on a healthy one; HTTP/2 multiplexes).
var reusedTrace = &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
	if !info.Reused {
		return
	}
	if c, ok := info.Conn.(*checkedConn); ok && c.probe.Closed() {
		c.closed.Store(true)
	}
}}

// CheckReused returns ctx with a trace that checks a reused connection of
// a Transport dialling through Dial before a request is written on it;
// a request on a connection found closed fails with ErrClosedBeforeWrite,
// nothing of it written.
func CheckReused(ctx context.Context) context.Context {
	if !supported {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, reusedTrace)
}
