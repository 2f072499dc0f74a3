package ioc

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("POST /analyze", s.handleAnalyze("analyze", "ANALYZE_MAX_IOCS"))
	mux.HandleFunc("POST /batch", s.handleAnalyze("batch", "BATCH_MAX_IOCS"))
	mux.Handle("/mcp", s.sessions)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{Registry: s.metrics.registry}))
	return mux
}

// healthResponse is GET /health. The original has no HTTP endpoint at all; this
// is what its docs' probes expect, plus the state of each provider.
type healthResponse struct {
	Status    string                    `json:"status"`
	Version   string                    `json:"version"`
	Providers map[string]providerHealth `json:"providers"`
}

type providerHealth struct {
	Circuit string `json:"circuit"`
	// RateLimitTokens is the calls left in the quota right now; -1 = unlimited.
	RateLimitTokens float64 `json:"rate_limit_tokens"`
}

func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := healthResponse{Status: "healthy", Version: Version, Providers: map[string]providerHealth{}}
	if s.base.Err() != nil {
		h.Status = "shutting down"
	}
	for _, p := range s.providers {
		tokens := p.limiter.available()
		if tokens > 0 {
			tokens = float64(int(tokens))
		}
		h.Providers[p.id.String()] = providerHealth{Circuit: p.breaker.current().String(), RateLimitTokens: tokens}
	}
	status := http.StatusOK
	if h.Status != "healthy" {
		status = http.StatusServiceUnavailable
	}
	s.writeJSON(w, r, status, h)
}

// errorResponse is the body of every 4xx/5xx from /analyze and /batch.
type errorResponse struct {
	Error  string      `json:"error"`
	Errors []ItemError `json:"errors,omitempty"`
}

// handleAnalyze serves /analyze and /batch: they differ in the IOC limit only
// (ANALYZE_MAX_IOCS vs BATCH_MAX_IOCS); both run BATCH_SIZE chunks on MAX_WORKERS.
func (s *Service) handleAnalyze(handler, limitName string) http.HandlerFunc {
	maxIOCs := s.cfg.AnalyzeMaxIOCs
	if handler == "batch" {
		maxIOCs = s.cfg.BatchMaxIOCs
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		code := s.serveAnalyze(w, r, analysisOptions{maxIOCs: maxIOCs, limitName: limitName})
		s.metrics.requests.WithLabelValues(handler, strconv.Itoa(code)).Inc()
		s.metrics.requestDuration.WithLabelValues(handler).Observe(s.now().Sub(start).Seconds())
	}
}

func (s *Service) serveAnalyze(w http.ResponseWriter, r *http.Request, opt analysisOptions) int {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.writeError(w, r, &inputError{status: http.StatusRequestEntityTooLarge,
				msg: fmt.Sprintf("request body exceeds MAX_BODY_BYTES=%d bytes; split the list or raise MAX_BODY_BYTES", s.cfg.MaxBodyBytes)})
		}
		return s.writeError(w, r, badRequest("reading request body: %v", err))
	}
	req, err := ParseBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		return s.writeError(w, r, err)
	}
	format := strings.ToLower(strings.TrimSpace(req.OutputFormat))
	switch format {
	case "":
		format = "json"
	case "json", "markdown", "html":
	default:
		return s.writeError(w, r, badRequest("output_format %q: want json, markdown or html", req.OutputFormat))
	}
	opt.includeSTIX = req.IncludeSTIX == nil || *req.IncludeSTIX
	opt.includeGraph = req.IncludeGraph == nil || *req.IncludeGraph
	rep, err := s.analyze(r.Context(), &req, opt)
	if err != nil {
		return s.writeError(w, r, err)
	}
	switch format {
	case "markdown":
		return s.writeText(w, r, "text/markdown; charset=utf-8", rep.markdown())
	case "html":
		return s.writeText(w, r, "text/html; charset=utf-8", rep.html())
	}
	return s.writeJSON(w, r, http.StatusOK, rep)
}

func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	var in *inputError
	switch {
	case errors.As(err, &in):
		return s.writeJSON(w, r, in.status, errorResponse{Error: in.msg, Errors: in.items})
	case errors.Is(err, errClosed):
		return s.writeJSON(w, r, http.StatusServiceUnavailable, errorResponse{Error: err.Error()})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away; 499 as nginx logs it, nobody reads the body.
		w.WriteHeader(499)
		return 499
	}
	s.log.Error("analysis failed", "err", err)
	return s.writeJSON(w, r, http.StatusInternalServerError, errorResponse{Error: "internal error: " + err.Error()})
}

func (s *Service) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encoding response", "err", err)
		http.Error(w, `{"error":"encoding response failed"}`, http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	b = append(b, '\n')
	return s.write(w, r, status, "application/json", b)
}

func (s *Service) writeText(w http.ResponseWriter, r *http.Request, contentType, text string) int {
	return s.write(w, r, http.StatusOK, contentType, []byte(text))
}

// write sends body, gzipped when COMPRESS_RESPONSES is on, the client accepts
// gzip and the body is worth it.
func (s *Service) write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) int {
	h := w.Header()
	h.Set("Content-Type", contentType)
	if s.cfg.CompressResponses && len(body) >= 1024 && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		w.WriteHeader(status)
		gz := gzip.NewWriter(w)
		_, _ = gz.Write(body)
		_ = gz.Close()
		return status
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(q, 64)
			return err == nil && f > 0
		}
		return true
	}
	return false
}
