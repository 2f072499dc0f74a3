package plan

import (
	"context"
	"errors"
	"io"
	"net/http"
	"syscall"

	"github.com/slogate/slogate/runner/netprobe"
)

// Rules every engine's sender follows, said once.

// GeneratorFault reports whether err is the generator's own resource limit
// rather than the target's doing: out of file descriptors (EMFILE, ENFILE),
// of ephemeral ports (EADDRNOTAVAIL, EADDRINUSE on connect), of socket
// buffers or memory (ENOBUFS, ENOMEM). Such a request is counted apart and
// makes the run inconclusive, never the target's error.
func GeneratorFault(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.EADDRINUSE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// GeneratorFaultMark starts the error of a request the generator could not
// send or read for lack of its own resources; the recorder counts such a
// request apart (runner: the run is inconclusive), never as the target's.
const GeneratorFaultMark = "generator out of resources: "

// ResourceFault is the error of a request that hit one of the machine's
// limits (GeneratorFault), with the way out in its text.
func ResourceFault(err error) error {
	return errors.New(GeneratorFaultMark + err.Error() + ": raise the limit (ulimit -n, ephemeral ports) or lower the rate")
}

// NoReplay makes req impossible for net/http to re-send: its Transport
// silently retries a replayable request on a fresh connection after a
// reused one failed, and every failed attempt must be the target's error,
// counted. GetBody goes; an empty body becomes a non-replayable empty one
// with "identity" framing (no chunking, and no probe of the empty body: a
// goroutine and a timer per request), so only the head is written.
func NoReplay(req *http.Request) {
	req.GetBody = nil
	if req.Body == nil || req.Body == http.NoBody {
		req.Body, req.ContentLength, req.TransferEncoding = noReplayBody{}, 0, identity
	}
}

// noReplayBody is an empty body net/http cannot rewind.
type noReplayBody struct{}

func (noReplayBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noReplayBody) Close() error             { return nil }

// WriteTo writes nothing. Without it, net/http copies the empty body
// through the connection's ReadFrom, which allocates a 32 KB buffer per
// request (io.Copy's fallback): +25 % CPU per request at 5k req/s.
func (noReplayBody) WriteTo(io.Writer) (int64, error) { return 0, nil }

var identity = []string{"identity"}

// MaxKeptBody bounds the part of a response body kept for inspection (an
// MCP tool result); the rest is read, counted and discarded.
const MaxKeptBody = 1 << 20

// ReadBody reads a response body to its end, under the caller's deadline:
// discarded, or its first MaxKeptBody bytes kept when keep is set, and
// counted either way (n). An endless or stalled body ends at the deadline
// as an error; memory stays bounded.
func ReadBody(body io.Reader, keep bool) (kept []byte, n int64, err error) {
	if keep {
		kept, err = io.ReadAll(io.LimitReader(body, MaxKeptBody))
		n = int64(len(kept))
	}
	if err == nil {
		var rest int64
		rest, err = io.Copy(io.Discard, body)
		n += rest
	}
	return kept, n, err
}

// ClosedBeforeWrite reports whether a request failed because the target
// had closed its keep-alive connection before any of the request was
// written: net/http's "server closed idle connection" (its reader saw the
// close before the request was registered on the connection; returned
// undecorated, with no exported value to compare with) or
// netprobe.ErrClosedBeforeWrite (the connection was peeked at as the
// request took it, netprobe.CheckReused). net/http would send such a
// request again itself, but NoReplay stops that for every request; the
// engines send it again on another connection, up to MaxStaleTries times:
// the target never had it, so this is not a retry.
func ClosedBeforeWrite(err error) bool {
	if errors.Is(err, netprobe.ErrClosedBeforeWrite) {
		return true
	}
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == closedIdleText {
			return true
		}
	}
	return false
}

const closedIdleText = "http: server closed idle connection"

// MaxStaleTries bounds how many connections found closed by the target
// one request skips.
const MaxStaleTries = 64

// RoundTrip sends request seq of the mix once on rt (the net/http
// engines): built from the mix, decorated with its client's session, never
// replayed by net/http (NoReplay), and a reused plain-HTTP connection is
// checked as the request takes it (netprobe.CheckReused). A request whose
// connection the target had closed before any of it was written
// (ClosedBeforeWrite) goes again on another connection, up to
// MaxStaleTries times. req is nil when the mix could not build the
// request (err says why).
func RoundTrip(ctx context.Context, rt http.RoundTripper, mix *Mix, sessions SessionProvider, seq int64) (req *http.Request, e int, resp *http.Response, err error) {
	ctx = netprobe.CheckReused(ctx)
	for tries := 0; ; tries++ {
		if req, e, err = mix.Request(ctx, seq); err != nil {
			return nil, e, nil, err
		}
		if sessions != nil {
			sessions.Decorate(req, seq, e)
		}
		NoReplay(req)
		resp, err = rt.RoundTrip(req)
		if err == nil || tries == MaxStaleTries || !ClosedBeforeWrite(err) {
			return req, e, resp, err
		}
	}
}
