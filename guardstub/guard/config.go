package guard

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sensitivity selects the risk model's verdict thresholds (SENSITIVITY_LEVEL).
type Sensitivity string

// The three levels of the seed. A client is judged malicious when its risk score
// and the model's confidence both reach the level's thresholds:
//
//	low    risk ≥ 85, confidence ≥ 0.85
//	medium risk ≥ 75, confidence ≥ 0.75
//	high   risk ≥ 65, confidence ≥ 0.65
const (
	SensitivityLow    Sensitivity = "low"
	SensitivityMedium Sensitivity = "medium"
	SensitivityHigh   Sensitivity = "high"
)

// thresholds returns the (risk, confidence) pair a verdict must reach.
func (s Sensitivity) thresholds() (risk, confidence float64) {
	switch s {
	case SensitivityLow:
		return 85, 0.85
	case SensitivityHigh:
		return 65, 0.65
	default:
		return 75, 0.75
	}
}

// DefaultSuspiciousUserAgents are the scanner signatures challenged with 403 by
// default (case-insensitive substrings). The first three are the original's list.
var DefaultSuspiciousUserAgents = []string{
	"masscan", "sqlmap", "wget", "nikto", "nmap", "zgrab", "nuclei", "dirbuster",
	"gobuster", "wpscan", "acunetix", "nessus", "openvas", "w3af", "havij", "zmeu",
}

// Config holds every knob of the guard. Each field names the environment variable
// that sets it (ConfigFromEnv) and its default (DefaultConfig).
type Config struct {
	// UpstreamURL is where allowed requests are forwarded (UPSTREAM_URL, alias
	// UPSTREAM_BASE_URL). Empty: the guard starts its own demo upstream.
	UpstreamURL string
	// DemoUpstreamAddr is the listen address of the demo upstream when UpstreamURL
	// is empty (DEMO_UPSTREAM_ADDR, default "127.0.0.1:0" = any free loopback port).
	DemoUpstreamAddr string
	// DemoSlowChunks and DemoSlowInterval shape the demo upstream's /api/slow:
	// that many "chunk\n" lines, flushed, that far apart (DEMO_SLOW_CHUNKS, default 5;
	// DEMO_SLOW_INTERVAL_MS, default 200).
	DemoSlowChunks   int
	DemoSlowInterval time.Duration
	// UpstreamTimeout bounds the wait for the upstream's response headers; past it
	// the client gets 502 (UPSTREAM_TIMEOUT_SECONDS, default 30).
	UpstreamTimeout time.Duration
	// UpstreamConnectTimeout bounds a new upstream connection; an upstream that is
	// down answers 502 within it (UPSTREAM_CONNECT_TIMEOUT_SECONDS, default 2).
	UpstreamConnectTimeout time.Duration
	// UpstreamMaxIdleConns is the keep-alive pool kept per upstream host
	// (UPSTREAM_MAX_IDLE_CONNS, default 1024).
	UpstreamMaxIdleConns int

	// RequestRateLimit requests per SlidingWindow is the sustained per-client limit
	// (REQUEST_RATE_LIMIT, default 100; SLIDING_WINDOW_SECONDS, default 60).
	RequestRateLimit int
	SlidingWindow    time.Duration
	// BurstMultiplier sets the hard cap ⌊RequestRateLimit × BurstMultiplier⌋ on the
	// sliding-window count; above it requests get 429 (BURST_MULTIPLIER, default 1.5, ≥ 1).
	BurstMultiplier float64
	// DynamicRateAdjustment scales a risky client's limit by (1 − risk/100) once its
	// risk score reaches 50 (DYNAMIC_RATE_ADJUSTMENT, default true).
	DynamicRateAdjustment bool
	// BlockThresholdViolations 429s within one sliding window turn into a timed
	// block (403) (BLOCK_THRESHOLD_VIOLATIONS, default 3).
	BlockThresholdViolations int
	// BlockDuration is the first block's length (BLOCK_DURATION_MINUTES, default 30).
	BlockDuration time.Duration
	// ProgressiveBlocking doubles the block on each repeat offence
	// (PROGRESSIVE_BLOCKING, default true), up to MaxBlockDuration
	// (MAX_BLOCK_DURATION_HOURS, default 24), which also caps BlockDuration.
	ProgressiveBlocking bool
	MaxBlockDuration    time.Duration

	// EnableModelCache caches predictions by quantised feature vector
	// (ENABLE_MODEL_CACHE, default true) for ModelCacheTTL (MODEL_CACHE_TTL_SECONDS,
	// default 300), at most ModelCacheMaxSize entries (MODEL_CACHE_MAX_SIZE, default 10000).
	EnableModelCache  bool
	ModelCacheTTL     time.Duration
	ModelCacheMaxSize int
	// BatchPredictionSize is the most feature vectors scored in one batch
	// (BATCH_PREDICTION_SIZE, default 100).
	BatchPredictionSize int
	// ModelCostIterations is the work of one uncached prediction: rounds of the
	// simulated forest evaluation (MODEL_COST_ITERATIONS, default 200000, about
	// 0.75 ms of one core here). It never changes a score; it makes a cache miss
	// cost what model inference costs, so turning the cache off is measurable. 0 = free.
	ModelCostIterations int
	// FeatureWindow is the span the per-client features cover (FEATURE_WINDOW_SECONDS,
	// default 300; raised to SlidingWindow if smaller, as the original does).
	FeatureWindow time.Duration
	// MinSamplesRequired requests in FeatureWindow before the model gives a verdict
	// (MIN_SAMPLES_REQUIRED, default 10).
	MinSamplesRequired int
	// SensitivityLevel picks the verdict thresholds (SENSITIVITY_LEVEL, default medium).
	SensitivityLevel Sensitivity

	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES, comma-separated IPs or CIDRs, default none).
	TrustedProxies []netip.Prefix
	// HonorXForwardedFor turns X-Forwarded-For handling on at all
	// (HONOR_X_FORWARDED_FOR, default true; it still needs TrustedProxies).
	HonorXForwardedFor bool
	// BlocklistIPs are refused with 403 from start-up (BLOCKLIST_IPS, IPs or CIDRs);
	// the admin API adds and removes more at run time.
	BlocklistIPs []netip.Prefix
	// WhitelistIPs bypass every check (WHITELIST_IPS, IPs or CIDRs).
	WhitelistIPs []netip.Prefix
	// AdminAPIKey guards /admin/* through the X-Admin-Token header
	// (ADMIN_API_KEY; empty = admin endpoints always answer 401).
	AdminAPIKey string
	// SuspiciousUserAgents are case-insensitive substrings whose User-Agent gets a
	// 403 challenge (SUSPICIOUS_USER_AGENTS, comma-separated; default
	// DefaultSuspiciousUserAgents; "none" disables the check).
	SuspiciousUserAgents []string

	// MaxTrackedClients bounds the client table; the least recently seen client is
	// forgotten first (MAX_TRACKED_CLIENTS, default 100000).
	MaxTrackedClients int
	// MaxBodyBytes is the largest request body accepted; larger gets 413
	// (MAX_BODY_BYTES, default 1048576).
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds how long a connection may take to send its request
	// headers, the slow-loris defence (READ_HEADER_TIMEOUT_SECONDS, default 10).
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds how long a client may take to send a request body
	// once its headers are in; past it the guard answers 408 and frees the
	// upstream connection (BODY_READ_TIMEOUT_SECONDS, default 30: MAX_BODY_BYTES
	// at 35 KB/s).
	BodyReadTimeout time.Duration
	// LogLevel is the level of the guard's log (LOG_LEVEL: DEBUG, INFO, WARN, ERROR;
	// default INFO). Nothing is logged per request.
	LogLevel slog.Level
}

// DefaultConfig returns the seed's defaults (shared/seeds/000, seed-systems.md A.1).
func DefaultConfig() Config {
	return Config{
		DemoUpstreamAddr:         "127.0.0.1:0",
		DemoSlowChunks:           5,
		DemoSlowInterval:         200 * time.Millisecond,
		UpstreamTimeout:          30 * time.Second,
		UpstreamConnectTimeout:   2 * time.Second,
		UpstreamMaxIdleConns:     1024,
		RequestRateLimit:         100,
		SlidingWindow:            60 * time.Second,
		BurstMultiplier:          1.5,
		DynamicRateAdjustment:    true,
		BlockThresholdViolations: 3,
		BlockDuration:            30 * time.Minute,
		ProgressiveBlocking:      true,
		MaxBlockDuration:         24 * time.Hour,
		EnableModelCache:         true,
		ModelCacheTTL:            300 * time.Second,
		ModelCacheMaxSize:        10000,
		BatchPredictionSize:      100,
		ModelCostIterations:      200000,
		FeatureWindow:            300 * time.Second,
		MinSamplesRequired:       10,
		SensitivityLevel:         SensitivityMedium,
		HonorXForwardedFor:       true,
		SuspiciousUserAgents:     append([]string(nil), DefaultSuspiciousUserAgents...),
		MaxTrackedClients:        100000,
		MaxBodyBytes:             1 << 20,
		ReadHeaderTimeout:        10 * time.Second,
		BodyReadTimeout:          30 * time.Second,
		LogLevel:                 slog.LevelInfo,
	}
}

// BurstCap is the hard cap on a client's sliding-window count: ⌊limit × multiplier⌋,
// at least 1.
func (c Config) BurstCap() int {
	return max(1, int(math.Floor(float64(c.RequestRateLimit)*c.BurstMultiplier+1e-9)))
}

// Validate reports every value that cannot work, naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if err := checkUpstreamURL(c.UpstreamURL); err != nil {
		errs = append(errs, fmt.Errorf("UPSTREAM_URL: %w", err))
	}
	if c.DemoSlowChunks < 1 {
		bad("DEMO_SLOW_CHUNKS", "%d must be ≥ 1", c.DemoSlowChunks)
	}
	if c.DemoSlowInterval < 0 {
		bad("DEMO_SLOW_INTERVAL_MS", "%v must be ≥ 0", c.DemoSlowInterval)
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"UPSTREAM_TIMEOUT_SECONDS", c.UpstreamTimeout},
		{"UPSTREAM_CONNECT_TIMEOUT_SECONDS", c.UpstreamConnectTimeout},
		{"SLIDING_WINDOW_SECONDS", c.SlidingWindow},
		{"BLOCK_DURATION_MINUTES", c.BlockDuration},
		{"MAX_BLOCK_DURATION_HOURS", c.MaxBlockDuration},
		{"MODEL_CACHE_TTL_SECONDS", c.ModelCacheTTL},
		{"FEATURE_WINDOW_SECONDS", c.FeatureWindow},
		{"READ_HEADER_TIMEOUT_SECONDS", c.ReadHeaderTimeout},
		{"BODY_READ_TIMEOUT_SECONDS", c.BodyReadTimeout},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad(p.name, "%v must be > 0", p.d)
		}
	}
	atLeastOne := []struct {
		name string
		v    int
	}{
		{"UPSTREAM_MAX_IDLE_CONNS", c.UpstreamMaxIdleConns},
		{"REQUEST_RATE_LIMIT", c.RequestRateLimit},
		{"BLOCK_THRESHOLD_VIOLATIONS", c.BlockThresholdViolations},
		{"MODEL_CACHE_MAX_SIZE", c.ModelCacheMaxSize},
		{"BATCH_PREDICTION_SIZE", c.BatchPredictionSize},
		{"MIN_SAMPLES_REQUIRED", c.MinSamplesRequired},
		{"MAX_TRACKED_CLIENTS", c.MaxTrackedClients},
	}
	for _, p := range atLeastOne {
		if p.v < 1 {
			bad(p.name, "%d must be ≥ 1", p.v)
		}
	}
	if !(c.BurstMultiplier >= 1) || math.IsInf(c.BurstMultiplier, 0) {
		bad("BURST_MULTIPLIER", "%v must be a finite number ≥ 1.0, e.g. 1.5", c.BurstMultiplier)
	}
	if c.ModelCostIterations < 0 {
		bad("MODEL_COST_ITERATIONS", "%d must be ≥ 0", c.ModelCostIterations)
	}
	if c.MaxBodyBytes < 1 {
		bad("MAX_BODY_BYTES", "%d must be ≥ 1", c.MaxBodyBytes)
	}
	switch c.SensitivityLevel {
	case SensitivityLow, SensitivityMedium, SensitivityHigh:
	default:
		bad("SENSITIVITY_LEVEL", "%q must be low, medium or high", string(c.SensitivityLevel))
	}
	return errors.Join(errs...)
}

// normalized applies the original's silent adjustments: the feature window is at
// least the sliding window, and the first block is at most the maximum block.
func (c Config) normalized() Config {
	c.FeatureWindow = max(c.FeatureWindow, c.SlidingWindow)
	c.BlockDuration = min(c.BlockDuration, c.MaxBlockDuration)
	return c
}

// envKnob parses one environment variable into a Config.
type envKnob struct {
	name  string
	apply func(c *Config, value string) error
}

// envKnobs lists every variable ConfigFromEnv reads, in the seed's names.
var envKnobs = []envKnob{
	{"UPSTREAM_URL", upstreamKnob},
	{"DEMO_UPSTREAM_ADDR", func(c *Config, v string) error { c.DemoUpstreamAddr = strings.TrimSpace(v); return nil }},
	{"DEMO_SLOW_CHUNKS", intKnob(func(c *Config) *int { return &c.DemoSlowChunks })},
	{"DEMO_SLOW_INTERVAL_MS", durationKnob(time.Millisecond, "milliseconds", func(c *Config) *time.Duration { return &c.DemoSlowInterval })},
	{"UPSTREAM_TIMEOUT_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.UpstreamTimeout })},
	{"UPSTREAM_CONNECT_TIMEOUT_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.UpstreamConnectTimeout })},
	{"UPSTREAM_MAX_IDLE_CONNS", intKnob(func(c *Config) *int { return &c.UpstreamMaxIdleConns })},
	{"REQUEST_RATE_LIMIT", intKnob(func(c *Config) *int { return &c.RequestRateLimit })},
	{"SLIDING_WINDOW_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.SlidingWindow })},
	{"BURST_MULTIPLIER", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number (want ≥ 1.0, e.g. 1.5)", v)
		}
		c.BurstMultiplier = f
		return nil
	}},
	{"DYNAMIC_RATE_ADJUSTMENT", boolKnob(func(c *Config) *bool { return &c.DynamicRateAdjustment })},
	{"BLOCK_THRESHOLD_VIOLATIONS", intKnob(func(c *Config) *int { return &c.BlockThresholdViolations })},
	{"BLOCK_DURATION_MINUTES", durationKnob(time.Minute, "minutes", func(c *Config) *time.Duration { return &c.BlockDuration })},
	{"PROGRESSIVE_BLOCKING", boolKnob(func(c *Config) *bool { return &c.ProgressiveBlocking })},
	{"MAX_BLOCK_DURATION_HOURS", durationKnob(time.Hour, "hours", func(c *Config) *time.Duration { return &c.MaxBlockDuration })},
	{"ENABLE_MODEL_CACHE", boolKnob(func(c *Config) *bool { return &c.EnableModelCache })},
	{"MODEL_CACHE_TTL_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.ModelCacheTTL })},
	{"MODEL_CACHE_MAX_SIZE", intKnob(func(c *Config) *int { return &c.ModelCacheMaxSize })},
	{"BATCH_PREDICTION_SIZE", intKnob(func(c *Config) *int { return &c.BatchPredictionSize })},
	{"MODEL_COST_ITERATIONS", intKnob(func(c *Config) *int { return &c.ModelCostIterations })},
	{"FEATURE_WINDOW_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.FeatureWindow })},
	{"MIN_SAMPLES_REQUIRED", intKnob(func(c *Config) *int { return &c.MinSamplesRequired })},
	{"SENSITIVITY_LEVEL", func(c *Config, v string) error {
		s := Sensitivity(strings.ToLower(strings.TrimSpace(v)))
		switch s {
		case SensitivityLow, SensitivityMedium, SensitivityHigh:
			c.SensitivityLevel = s
			return nil
		}
		return fmt.Errorf("%q must be low, medium or high", v)
	}},
	{"TRUSTED_PROXIES", prefixListKnob(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
	{"HONOR_X_FORWARDED_FOR", boolKnob(func(c *Config) *bool { return &c.HonorXForwardedFor })},
	{"BLOCKLIST_IPS", prefixListKnob(func(c *Config) *[]netip.Prefix { return &c.BlocklistIPs })},
	{"WHITELIST_IPS", prefixListKnob(func(c *Config) *[]netip.Prefix { return &c.WhitelistIPs })},
	{"ADMIN_API_KEY", func(c *Config, v string) error { c.AdminAPIKey = v; return nil }},
	{"SUSPICIOUS_USER_AGENTS", func(c *Config, v string) error {
		c.SuspiciousUserAgents = ParseUserAgentList(v)
		return nil
	}},
	{"MAX_TRACKED_CLIENTS", intKnob(func(c *Config) *int { return &c.MaxTrackedClients })},
	{"MAX_BODY_BYTES", func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number of bytes (want ≥ 1, e.g. 1048576)", v)
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"READ_HEADER_TIMEOUT_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"BODY_READ_TIMEOUT_SECONDS", durationKnob(time.Second, "seconds", func(c *Config) *time.Duration { return &c.BodyReadTimeout })},
	{"LOG_LEVEL", func(c *Config, v string) error {
		var l slog.Level
		s := strings.ToUpper(strings.TrimSpace(v))
		if s == "WARNING" {
			s = "WARN"
		}
		if err := l.UnmarshalText([]byte(s)); err != nil {
			return fmt.Errorf("%q must be DEBUG, INFO, WARN or ERROR", v)
		}
		c.LogLevel = l
		return nil
	}},
}

// EnvNames lists every environment variable ConfigFromEnv reads.
func EnvNames() []string {
	names := make([]string, 0, len(envKnobs)+1)
	for _, k := range envKnobs {
		names = append(names, k.name)
	}
	return append(names, "UPSTREAM_BASE_URL")
}

// ConfigFromEnv starts from DefaultConfig and applies every variable lookup finds
// (lookup is os.LookupEnv, or a map's lookup). An empty value counts as unset.
// Every bad value is reported, each error naming its variable.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	var errs []error
	if v, ok := lookup("UPSTREAM_BASE_URL"); ok && strings.TrimSpace(v) != "" { // the original's name; UPSTREAM_URL wins
		if err := upstreamKnob(&cfg, v); err != nil {
			errs = append(errs, fmt.Errorf("UPSTREAM_BASE_URL: %w", err))
		}
	}
	for _, k := range envKnobs {
		v, ok := lookup(k.name)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		if err := k.apply(&cfg, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k.name, err))
		}
	}
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// MapLookup adapts a map of environment values to ConfigFromEnv's lookup.
func MapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func upstreamKnob(c *Config, v string) error {
	v = strings.TrimSpace(v)
	if err := checkUpstreamURL(v); err != nil {
		return err
	}
	c.UpstreamURL = v
	return nil
}

// checkUpstreamURL accepts "" (the demo upstream) or an http(s) URL with a host.
func checkUpstreamURL(v string) error {
	if v == "" {
		return nil
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host, e.g. http://127.0.0.1:8000", v)
	}
	return nil
}

func intKnob(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

// durationKnob reads a decimal number of units ("30", "0.5"), so short windows and
// blocks can be set for demos without new variable names.
func durationKnob(unit time.Duration, unitName string, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number of %s (e.g. 30)", v, unitName)
		}
		d := f * float64(unit)
		if d > float64(math.MaxInt64/2) || d < -float64(math.MaxInt64/2) {
			return fmt.Errorf("%q %s is out of range", v, unitName)
		}
		*field(c) = time.Duration(d)
		return nil
	}
}

func boolKnob(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		*field(c) = b
		return nil
	}
}

func prefixListKnob(field func(*Config) *[]netip.Prefix) func(*Config, string) error {
	return func(c *Config, v string) error {
		p, err := ParsePrefixList(v)
		if err != nil {
			return err
		}
		*field(c) = p
		return nil
	}
}

// ParseBool accepts the original's spellings: true/1/yes/on and false/0/no/off,
// in any case.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true/false, 1/0, yes/no or on/off)", v)
}

// ParsePrefixList parses a comma- (or space-) separated list of IP addresses and
// CIDRs ("127.0.0.1/32, ::1, 10.0.0.0/8"). A bare address is its own /32 or /128;
// IPv4-mapped IPv6 addresses are unmapped; prefixes are masked.
func ParsePrefixList(v string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == ';' })
	out := make([]netip.Prefix, 0, len(fields))
	for _, f := range fields {
		p, err := parsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)", s)
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: zones are not allowed in a CIDR", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)", s)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseUserAgentList parses SUSPICIOUS_USER_AGENTS: comma-separated substrings,
// lower-cased; "none" (or only separators) gives an empty list.
func ParseUserAgentList(v string) []string {
	if strings.EqualFold(strings.TrimSpace(v), "none") {
		return []string{}
	}
	out := []string{}
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}
