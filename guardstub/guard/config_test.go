package guard

import (
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValidAndMatchesTheSeed(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"REQUEST_RATE_LIMIT", cfg.RequestRateLimit, 100},
		{"SLIDING_WINDOW_SECONDS", cfg.SlidingWindow, 60 * time.Second},
		{"BURST_MULTIPLIER", cfg.BurstMultiplier, 1.5},
		{"DYNAMIC_RATE_ADJUSTMENT", cfg.DynamicRateAdjustment, true},
		{"ENABLE_MODEL_CACHE", cfg.EnableModelCache, true},
		{"MODEL_CACHE_TTL_SECONDS", cfg.ModelCacheTTL, 300 * time.Second},
		{"MODEL_CACHE_MAX_SIZE", cfg.ModelCacheMaxSize, 10000},
		{"BATCH_PREDICTION_SIZE", cfg.BatchPredictionSize, 100},
		{"FEATURE_WINDOW_SECONDS", cfg.FeatureWindow, 300 * time.Second},
		{"MIN_SAMPLES_REQUIRED", cfg.MinSamplesRequired, 10},
		{"SENSITIVITY_LEVEL", cfg.SensitivityLevel, SensitivityMedium},
		{"BLOCK_DURATION_MINUTES", cfg.BlockDuration, 30 * time.Minute},
		{"BLOCK_THRESHOLD_VIOLATIONS", cfg.BlockThresholdViolations, 3},
		{"PROGRESSIVE_BLOCKING", cfg.ProgressiveBlocking, true},
		{"MAX_BLOCK_DURATION_HOURS", cfg.MaxBlockDuration, 24 * time.Hour},
		{"LOG_LEVEL", cfg.LogLevel, slog.LevelInfo},
		{"burst cap", cfg.BurstCap(), 150},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s default = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigFromEnvReadsEveryKnob(t *testing.T) {
	env := map[string]string{
		"UPSTREAM_URL":                     "http://127.0.0.1:8000",
		"DEMO_UPSTREAM_ADDR":               "127.0.0.1:9999",
		"DEMO_SLOW_CHUNKS":                 "3",
		"DEMO_SLOW_INTERVAL_MS":            "50",
		"UPSTREAM_TIMEOUT_SECONDS":         "7",
		"UPSTREAM_CONNECT_TIMEOUT_SECONDS": "0.5",
		"UPSTREAM_MAX_IDLE_CONNS":          "64",
		"REQUEST_RATE_LIMIT":               "500",
		"SLIDING_WINDOW_SECONDS":           "30",
		"BURST_MULTIPLIER":                 "2.0",
		"DYNAMIC_RATE_ADJUSTMENT":          "off",
		"BLOCK_THRESHOLD_VIOLATIONS":       "5",
		"BLOCK_DURATION_MINUTES":           "60",
		"PROGRESSIVE_BLOCKING":             "No",
		"MAX_BLOCK_DURATION_HOURS":         "2",
		"ENABLE_MODEL_CACHE":               "0",
		"MODEL_CACHE_TTL_SECONDS":          "10",
		"MODEL_CACHE_MAX_SIZE":             "100",
		"BATCH_PREDICTION_SIZE":            "10",
		"MODEL_COST_ITERATIONS":            "1000",
		"FEATURE_WINDOW_SECONDS":           "120",
		"MIN_SAMPLES_REQUIRED":             "20",
		"SENSITIVITY_LEVEL":                "HIGH",
		"TRUSTED_PROXIES":                  "10.0.0.0/8, ::1",
		"HONOR_X_FORWARDED_FOR":            "false",
		"BLOCKLIST_IPS":                    "192.0.2.1,198.51.100.0/24",
		"WHITELIST_IPS":                    "203.0.113.7",
		"ADMIN_API_KEY":                    "s3cret",
		"SUSPICIOUS_USER_AGENTS":           "EvilBot, scanner",
		"MAX_TRACKED_CLIENTS":              "5000",
		"MAX_BODY_BYTES":                   "2048",
		"READ_HEADER_TIMEOUT_SECONDS":      "3",
		"BODY_READ_TIMEOUT_SECONDS":        "4",
		"LOG_LEVEL":                        "warning",
	}
	cfg, err := ConfigFromEnv(MapLookup(env))
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	want := Config{
		UpstreamURL:              "http://127.0.0.1:8000",
		DemoUpstreamAddr:         "127.0.0.1:9999",
		DemoSlowChunks:           3,
		DemoSlowInterval:         50 * time.Millisecond,
		UpstreamTimeout:          7 * time.Second,
		UpstreamConnectTimeout:   500 * time.Millisecond,
		UpstreamMaxIdleConns:     64,
		RequestRateLimit:         500,
		SlidingWindow:            30 * time.Second,
		BurstMultiplier:          2,
		DynamicRateAdjustment:    false,
		BlockThresholdViolations: 5,
		BlockDuration:            time.Hour,
		ProgressiveBlocking:      false,
		MaxBlockDuration:         2 * time.Hour,
		EnableModelCache:         false,
		ModelCacheTTL:            10 * time.Second,
		ModelCacheMaxSize:        100,
		BatchPredictionSize:      10,
		ModelCostIterations:      1000,
		FeatureWindow:            120 * time.Second,
		MinSamplesRequired:       20,
		SensitivityLevel:         SensitivityHigh,
		TrustedProxies:           []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		HonorXForwardedFor:       false,
		BlocklistIPs:             []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("198.51.100.0/24")},
		WhitelistIPs:             []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")},
		AdminAPIKey:              "s3cret",
		SuspiciousUserAgents:     []string{"evilbot", "scanner"},
		MaxTrackedClients:        5000,
		MaxBodyBytes:             2048,
		ReadHeaderTimeout:        3 * time.Second,
		BodyReadTimeout:          4 * time.Second,
		LogLevel:                 slog.LevelWarn,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("ConfigFromEnv =\n%+v\nwant\n%+v", cfg, want)
	}
	// Every name the table reads is documented in EnvNames, and vice versa.
	for name := range env {
		if !strings.Contains(strings.Join(EnvNames(), " "), name) {
			t.Errorf("EnvNames lacks %s", name)
		}
	}
	if len(EnvNames()) != len(env)+1 { // + UPSTREAM_BASE_URL
		t.Errorf("EnvNames has %d names, the test covers %d", len(EnvNames()), len(env)+1)
	}
}

func TestConfigFromEnvAliasAndEmptyValues(t *testing.T) {
	cfg, err := ConfigFromEnv(MapLookup(map[string]string{"UPSTREAM_BASE_URL": "http://10.1.1.1:80", "REQUEST_RATE_LIMIT": "  "}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UpstreamURL != "http://10.1.1.1:80" || cfg.RequestRateLimit != 100 {
		t.Errorf("alias/empty handling: upstream %q limit %d", cfg.UpstreamURL, cfg.RequestRateLimit)
	}
	cfg, err = ConfigFromEnv(MapLookup(map[string]string{"UPSTREAM_BASE_URL": "http://a:1", "UPSTREAM_URL": "http://b:2"}))
	if err != nil || cfg.UpstreamURL != "http://b:2" {
		t.Errorf("UPSTREAM_URL should win over UPSTREAM_BASE_URL: %q %v", cfg.UpstreamURL, err)
	}
	cfg, _ = ConfigFromEnv(MapLookup(map[string]string{"SUSPICIOUS_USER_AGENTS": "none"}))
	if len(cfg.SuspiciousUserAgents) != 0 {
		t.Errorf("SUSPICIOUS_USER_AGENTS=none gave %v", cfg.SuspiciousUserAgents)
	}
}

func TestConfigFromEnvErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		name, value string
		wantInErr   string
	}{
		{"REQUEST_RATE_LIMIT", "abc", "not a whole number"},
		{"REQUEST_RATE_LIMIT", "0", "must be ≥ 1"},
		{"SLIDING_WINDOW_SECONDS", "-5", "must be > 0"},
		{"SLIDING_WINDOW_SECONDS", "1e400", "not a number"},
		{"BURST_MULTIPLIER", "0.5", "≥ 1.0"},
		{"BURST_MULTIPLIER", "NaN", "not a number"},
		{"DYNAMIC_RATE_ADJUSTMENT", "maybe", "not a boolean"},
		{"BLOCK_DURATION_MINUTES", "thirty", "minutes"},
		{"MAX_BLOCK_DURATION_HOURS", "0", "must be > 0"},
		{"ENABLE_MODEL_CACHE", "enabled", "not a boolean"},
		{"MODEL_CACHE_MAX_SIZE", "0", "must be ≥ 1"},
		{"BATCH_PREDICTION_SIZE", "-1", "must be ≥ 1"},
		{"MODEL_COST_ITERATIONS", "-1", "must be ≥ 0"},
		{"MIN_SAMPLES_REQUIRED", "1.5", "not a whole number"},
		{"SENSITIVITY_LEVEL", "paranoid", "low, medium or high"},
		{"TRUSTED_PROXIES", "10.0.0.0/33", "not an IP address or CIDR"},
		{"TRUSTED_PROXIES", "localhost", "not an IP address or CIDR"},
		{"BLOCKLIST_IPS", "1.2.3", "not an IP address or CIDR"},
		{"UPSTREAM_URL", "ftp://x", "http(s) URL"},
		{"UPSTREAM_URL", "127.0.0.1:8000", "http(s) URL"},
		{"MAX_TRACKED_CLIENTS", "0", "must be ≥ 1"},
		{"MAX_BODY_BYTES", "1MB", "whole number of bytes"},
		{"LOG_LEVEL", "chatty", "DEBUG, INFO, WARN or ERROR"},
		{"DEMO_SLOW_CHUNKS", "0", "must be ≥ 1"},
	}
	for _, c := range cases {
		_, err := ConfigFromEnv(MapLookup(map[string]string{c.name: c.value}))
		if err == nil {
			t.Errorf("%s=%q: no error", c.name, c.value)
			continue
		}
		if !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.wantInErr) {
			t.Errorf("%s=%q: error %q should name the variable and say %q", c.name, c.value, err, c.wantInErr)
		}
	}
	// Several bad values: all reported.
	_, err := ConfigFromEnv(MapLookup(map[string]string{"REQUEST_RATE_LIMIT": "x", "SENSITIVITY_LEVEL": "y"}))
	if err == nil || !strings.Contains(err.Error(), "REQUEST_RATE_LIMIT") || !strings.Contains(err.Error(), "SENSITIVITY_LEVEL") {
		t.Errorf("both bad variables should be reported, got %v", err)
	}
}

func TestNormalizedFollowsTheOriginal(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FeatureWindow = 10 * time.Second
	cfg.BlockDuration = 48 * time.Hour
	n := cfg.normalized()
	if n.FeatureWindow != cfg.SlidingWindow {
		t.Errorf("feature window %v should be raised to the sliding window %v", n.FeatureWindow, cfg.SlidingWindow)
	}
	if n.BlockDuration != cfg.MaxBlockDuration {
		t.Errorf("block duration %v should be capped at %v", n.BlockDuration, cfg.MaxBlockDuration)
	}
}

func TestParsePrefixList(t *testing.T) {
	got, err := ParsePrefixList(" 127.0.0.1/32,::1 ; 10.1.2.3/8 ::ffff:192.0.2.1 fe80::1%eth0")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8", "192.0.2.1/32", "fe80::1/128"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if p, _ := ParsePrefixList(""); len(p) != 0 {
		t.Errorf("empty list gave %v", p)
	}
}
