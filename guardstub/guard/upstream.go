package guard

import (
	"io"
	"net/http"
	"time"
)

// DemoUpstream is the upstream the guard protects when no UPSTREAM_URL is given:
// the load-test targets of the original project (its embedded aiohttp fallback,
// seed-systems.md A.5):
//
//	GET  /          "OK"
//	GET  /healthz   {"status":"ok"}
//	GET  /api/test  {"message":"test"}
//	GET  /api/docs  {"docs":true}
//	POST /api/heavy {"ok":true} after reading the whole body
//	GET  /api/slow  chunks "chunk\n", flushed, interval apart (chunked encoding)
//
// Anything else is 404. It keeps no state; the slow endpoint sleeps on the real
// clock and stops early when the client goes away.
type DemoUpstream struct {
	SlowChunks   int
	SlowInterval time.Duration
}

var (
	bodyOK      = []byte("OK")
	bodyHealthz = []byte(`{"status":"ok"}` + "\n")
	bodyTest    = []byte(`{"message":"test"}` + "\n")
	bodyDocs    = []byte(`{"docs":true}` + "\n")
	bodyHeavy   = []byte(`{"ok":true}` + "\n")
	bodyChunk   = []byte("chunk\n")
	bodyNotHere = []byte(`{"detail":"Not Found"}` + "\n")
	bodyMethod  = []byte(`{"detail":"Method Not Allowed"}` + "\n")
)

func (u DemoUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch r.URL.Path {
	case "/":
		h["Content-Type"] = textPlain
		_, _ = w.Write(bodyOK)
	case "/healthz":
		h["Content-Type"] = appJSON
		_, _ = w.Write(bodyHealthz)
	case "/api/test":
		h["Content-Type"] = appJSON
		_, _ = w.Write(bodyTest)
	case "/api/docs":
		h["Content-Type"] = appJSON
		_, _ = w.Write(bodyDocs)
	case "/api/heavy":
		if r.Method != http.MethodPost {
			h["Allow"] = []string{"POST"}
			h["Content-Type"] = appJSON
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write(bodyMethod)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h["Content-Type"] = appJSON
		_, _ = w.Write(bodyHeavy)
	case "/api/slow":
		u.slow(w, r)
	default:
		h["Content-Type"] = appJSON
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(bodyNotHere)
	}
}

func (u DemoUpstream) slow(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = textPlain
	rc := http.NewResponseController(w)
	chunks := max(1, u.SlowChunks)
	var timer *time.Timer
	for i := range chunks {
		if i > 0 && u.SlowInterval > 0 {
			if timer == nil {
				timer = time.NewTimer(u.SlowInterval)
				defer timer.Stop()
			} else {
				timer.Reset(u.SlowInterval)
			}
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			}
		}
		if _, err := w.Write(bodyChunk); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

var (
	textPlain = []string{"text/plain; charset=utf-8"}
	appJSON   = []string{"application/json"}
)
