package ioc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// analyzeToolSchema is analyze_iocs' input schema: the original's arguments
// (ioc_string, iocs, output_format, include_stix, include_graph). iocs entries
// may be strings as well as the original's {"value", "type"} objects.
//
// It has no "default" keywords: callAnalyzeTool applies the defaults itself,
// and the SDK's schema-default step (go-sdk v1.8.0) writes into a nil map, a
// panic that ends the process, when a call says "arguments": null.
var analyzeToolSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"ioc_string": map[string]any{"type": "string",
			"description": "One or more IOCs separated by whitespace, ',' or ';' (alternative to iocs)."},
		"iocs": map[string]any{"type": "array",
			"description": "IOCs as strings or {\"value\": ..., \"type\": ...} objects; type is ignored, types are detected.",
			"items": map[string]any{"anyOf": []any{
				map[string]any{"type": "string"},
				map[string]any{"type": "object", "required": []any{"value"}, "properties": map[string]any{
					"value": map[string]any{"type": "string"}, "type": map[string]any{"type": "string"}}},
			}}},
		"output_format": map[string]any{"type": "string", "description": "markdown (default), json or html."},
		"include_stix":  map[string]any{"type": "boolean", "description": "Include the STIX bundle (default true)."},
		"include_graph": map[string]any{"type": "boolean", "description": "Include the network graph (default true)."},
	},
	"additionalProperties": false,
}

func (s *Service) newMCPServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "ThreatIntel", Title: "slogate IOC service", Version: Version}, nil)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        "analyze_iocs",
		Description: "Analyze IOCs (IP addresses, domains, URLs, MD5/SHA-1/SHA-256 hashes) with multiple simulated threat intelligence sources; returns a report in markdown, json or html.",
		InputSchema: analyzeToolSchema,
	}, s.callAnalyzeTool)
	srv.AddReceivingMiddleware(s.recoverPanics)
	return srv
}

// recoverPanics turns a panic while handling an MCP request into a JSON-RPC
// error, as net/http does for its handlers: the SDK runs handlers on
// goroutines without recover, so one bad request would end the process.
func (s *Service) recoverPanics(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic handling an MCP request", "method", method, "panic", v, "stack", string(debug.Stack()))
				res, err = nil, fmt.Errorf("internal error handling %s", method)
			}
		}()
		return next(ctx, method, req)
	}
}

// callAnalyzeTool is analyze_iocs. Like the original it answers with one text
// item holding the report (markdown by default); the original's error strings
// are kept but flagged isError so clients can tell (the original sends them as
// ordinary results).
func (s *Service) callAnalyzeTool(ctx context.Context, _ *mcp.CallToolRequest, args AnalyzeRequest) (*mcp.CallToolResult, any, error) {
	start := s.now()
	code := "ok"
	defer func() {
		s.metrics.requests.WithLabelValues("mcp", code).Inc()
		s.metrics.requestDuration.WithLabelValues("mcp").Observe(s.now().Sub(start).Seconds())
	}()
	format := strings.ToLower(strings.TrimSpace(args.OutputFormat))
	switch format {
	case "":
		format = "markdown"
	case "json", "markdown", "html":
	default:
		code = "error"
		return toolError("Error: output_format must be markdown, json or html, got " + args.OutputFormat), nil, nil
	}
	opt := analysisOptions{maxIOCs: s.cfg.BatchMaxIOCs, limitName: "BATCH_MAX_IOCS",
		includeSTIX: args.IncludeSTIX == nil || *args.IncludeSTIX, includeGraph: args.IncludeGraph == nil || *args.IncludeGraph}
	rep, err := s.analyze(ctx, &args, opt)
	if err != nil {
		code = "error"
		var in *inputError
		switch {
		case errors.As(err, &in) && in.status == 422:
			b, _ := json.Marshal(in.items)
			return toolError("Error: No valid IOCs could be processed. Check your input. Rejected: " + string(b)), nil, nil
		case errors.As(err, &in) && in.empty:
			return toolError("Error: Please provide at least one IOC for analysis."), nil, nil
		case errors.As(err, &in):
			return toolError("Error: " + in.msg), nil, nil
		}
		return nil, nil, err
	}
	var text string
	switch format {
	case "json":
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return nil, nil, err
		}
		text = string(b)
	case "html":
		text = rep.html()
	default:
		text = rep.markdown()
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
}

func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}
