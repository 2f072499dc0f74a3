package ioc

import (
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFromEnv(t *testing.T) {
	cfg, err := ConfigFromEnv(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if cfg.CacheTTL != time.Hour || cfg.MaxRetries != 3 || cfg.RequestTimeout != 10*time.Second ||
		cfg.VirusTotalRateLimit != 4 || cfg.OTXRateLimit != 1000 || cfg.AbuseIPDBRateLimit != 1000 || cfg.IPinfoRateLimit != 0 ||
		cfg.MaxWorkers != 4 || cfg.BatchSize != 50 || cfg.LatencyScale != 1 || cfg.Detection != DetectStrict || cfg.CacheMaxSize != d.CacheMaxSize {
		t.Errorf("defaults: %+v", cfg)
	}

	// The seed's production settings, and the scaling knobs.
	cfg, err = ConfigFromEnv(envMap(map[string]string{
		"CACHE_TTL": "7200", "MAX_RETRIES": "5", "REQUEST_TIMEOUT": "45", "VIRUSTOTAL_RATE_LIMIT": "4",
		"OTX_RATE_LIMIT": "1000", "ABUSEIPDB_RATE_LIMIT": "1000", "MAX_WORKERS": "4", "BATCH_SIZE": "25",
		"COMPRESS_RESPONSES": "true", "PROVIDER_LATENCY_SCALE": "0.01", "RATE_LIMIT_SCALE": "100",
		"RETRY_BACKOFF": "250ms", "CIRCUIT_BREAKER_COOLDOWN": "1.5", "IOC_DETECTION": "Original", "CACHE_MAX_SIZE": "500",
		"MAX_BODY_BYTES": "65536", "PROVIDER_SEED": "lab", "PROVIDER_ERROR_RATE": "0.1", "MCP_SESSION_TIMEOUT": "0",
		"MCP_MAX_SESSIONS": "100", "MCP_MAX_SESSIONS_PER_CLIENT": "10",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CacheTTL != 2*time.Hour || cfg.MaxRetries != 5 || cfg.RequestTimeout != 45*time.Second || cfg.BatchSize != 25 ||
		!cfg.CompressResponses || cfg.LatencyScale != 0.01 || cfg.RateLimitScale != 100 || cfg.RetryBackoff != 250*time.Millisecond ||
		cfg.BreakerCooldown != 1500*time.Millisecond || cfg.Detection != DetectOriginal || cfg.CacheMaxSize != 500 ||
		cfg.MaxBodyBytes != 65536 || cfg.Seed != "lab" || cfg.ErrorRate != 0.1 || cfg.MCPSessionTimeout != 0 ||
		cfg.MCPMaxSessions != 100 || cfg.MCPMaxSessionsPerClient != 10 {
		t.Errorf("parsed: %+v", cfg)
	}

	_, err = ConfigFromEnv(envMap(map[string]string{
		"MAX_WORKERS": "lots", "CACHE_TTL": "-1", "IOC_DETECTION": "fuzzy", "COMPRESS_RESPONSES": "maybe",
		"REQUEST_TIMEOUT": "0", "PROVIDER_ERROR_RATE": "2", "MCP_MAX_SESSIONS": "0", "MCP_MAX_SESSIONS_PER_CLIENT": "many",
	}))
	if err == nil {
		t.Fatal("bad env accepted")
	}
	for _, name := range []string{`MAX_WORKERS="lots"`, "CACHE_TTL=-1", `IOC_DETECTION="fuzzy"`, `COMPRESS_RESPONSES="maybe"`, "REQUEST_TIMEOUT=0", "PROVIDER_ERROR_RATE=2",
		"MCP_MAX_SESSIONS=0", `MCP_MAX_SESSIONS_PER_CLIENT="many"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "MAX_WORKERS") {
		t.Errorf("New(zero Config) = %v, want a validation error", err)
	}
}
