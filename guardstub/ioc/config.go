package ioc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config holds every knob of the IOC service. Env names are in ConfigFromEnv;
// the seed (shared/seeds/001_*.txt) names CACHE_TTL, MAX_RETRIES, REQUEST_TIMEOUT,
// the three *_RATE_LIMIT values, MAX_WORKERS, BATCH_SIZE and COMPRESS_RESPONSES.
type Config struct {
	// CacheTTL is how long a provider answer is reused (CACHE_TTL, seconds).
	// 0 disables the cache.
	CacheTTL time.Duration
	// CacheMaxSize bounds the cache in entries, one per (provider, IOC); the least
	// recently used entry is evicted (CACHE_MAX_SIZE). 0 disables the cache.
	CacheMaxSize int

	// MaxRetries is the number of retries after a failed provider attempt, so a
	// call makes at most MaxRetries+1 attempts (MAX_RETRIES).
	MaxRetries int
	// RequestTimeout bounds one provider attempt (REQUEST_TIMEOUT, seconds).
	RequestTimeout time.Duration
	// RetryBackoff is the first backoff; attempt n (from 0) waits RetryBackoff*2^n
	// before the next one: 1, 2, 4 s by default, as the original (RETRY_BACKOFF).
	RetryBackoff time.Duration

	// Per-provider client-side rate limits (0 = unlimited), each a token bucket
	// holding the whole quota and refilling it evenly over its window.
	VirusTotalRateLimit int // requests per minute (VIRUSTOTAL_RATE_LIMIT)
	OTXRateLimit        int // requests per hour (OTX_RATE_LIMIT)
	AbuseIPDBRateLimit  int // requests per day (ABUSEIPDB_RATE_LIMIT)
	IPinfoRateLimit     int // requests per 30 days (IPINFO_RATE_LIMIT)
	// RateLimitScale multiplies every limit above; 0 turns rate limiting off
	// (RATE_LIMIT_SCALE).
	RateLimitScale float64

	// BreakerThreshold is the number of consecutive failed attempts that opens a
	// provider's circuit (CIRCUIT_BREAKER_THRESHOLD); 0 disables the breakers.
	BreakerThreshold int
	// BreakerCooldown is how long an open circuit fails fast before one probe is
	// let through (CIRCUIT_BREAKER_COOLDOWN, seconds).
	BreakerCooldown time.Duration

	// MaxWorkers is the number of IOCs of one request analysed at once
	// (MAX_WORKERS); BatchSize is the chunk of IOCs handed to those workers at a
	// time, the next chunk starting when the previous one is done (BATCH_SIZE).
	MaxWorkers int
	BatchSize  int

	// Latency is the simulated provider latency model; LatencyScale multiplies it
	// (PROVIDER_LATENCY_SCALE; 0 = no latency, for tests and throughput runs).
	Latency      LatencyModel
	LatencyScale float64
	// ErrorRate is the fraction of provider attempts that fail with a simulated
	// 503, deterministically per (provider, IOC, attempt) (PROVIDER_ERROR_RATE).
	ErrorRate float64
	// Seed salts the providers' hash, giving another deterministic world
	// (PROVIDER_SEED).
	Seed string

	// Detection selects strict (default) or original IOC detection (IOC_DETECTION).
	Detection DetectionMode

	// MaxBodyBytes bounds a request body; larger bodies get 413 (MAX_BODY_BYTES).
	MaxBodyBytes int64
	// AnalyzeMaxIOCs bounds /analyze (ANALYZE_MAX_IOCS); BatchMaxIOCs bounds
	// /batch and the MCP tool (BATCH_MAX_IOCS). More IOCs get 413.
	AnalyzeMaxIOCs int
	BatchMaxIOCs   int
	// CompressResponses gzips JSON/text responses for clients that accept it
	// (COMPRESS_RESPONSES).
	CompressResponses bool
	// MCPSessionTimeout closes MCP sessions idle this long (MCP_SESSION_TIMEOUT,
	// seconds; 0 = never), freeing their slots.
	MCPSessionTimeout time.Duration
	// MCPMaxSessions caps the MCP sessions open (or being initialized) at once
	// (MCP_MAX_SESSIONS); MCPMaxSessionsPerClient caps those of one client, by
	// socket peer address (MCP_MAX_SESSIONS_PER_CLIENT). A new session beyond
	// the client's cap gets 429, beyond the total 503, each with a JSON-RPC
	// error naming the limit. A session costs about 10 KB, so the default total
	// bounds them to about 40 MB; the per-client default fits slogate's own
	// load runs (up to 1000 sessions from one machine, or through one guard).
	MCPMaxSessions          int
	MCPMaxSessionsPerClient int
}

// LatencyModel draws one provider attempt's latency uniformly from
// [Min, Max] of that provider, multiplied by TailFactor with probability
// TailProbability (the slow tail that sometimes exceeds REQUEST_TIMEOUT). The
// draw is a hash of (seed, provider, IOC, attempt), so it is reproducible.
type LatencyModel struct {
	Min, Max        [numProviders]time.Duration
	TailProbability float64
	TailFactor      float64
}

// DefaultLatency makes a cold IOC take about 2-5 s, as the seed says ("Average
// Response Time ~2-5 seconds"): providers are queried in parallel, so an IOC
// takes the slowest of them, VirusTotal at 1.5-4.5 s (mean 3 s).
func DefaultLatency() LatencyModel {
	return LatencyModel{
		Min:             [numProviders]time.Duration{1500 * time.Millisecond, 800 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond},
		Max:             [numProviders]time.Duration{4500 * time.Millisecond, 2500 * time.Millisecond, 1500 * time.Millisecond, 400 * time.Millisecond},
		TailProbability: 0.02,
		TailFactor:      4,
	}
}

// DefaultConfig returns the defaults: the original's code values where it has
// them (CACHE_TTL 3600 s, MAX_RETRIES 3, REQUEST_TIMEOUT 10 s, backoff 1/2/4 s),
// the seed's documented values for what the original never implemented (rate
// limits 4/min, 1000/h, 1000/day, MAX_WORKERS 4, BATCH_SIZE 50), and slogate's
// own choices for the rest.
func DefaultConfig() Config {
	return Config{
		CacheTTL:                3600 * time.Second,
		CacheMaxSize:            10000,
		MaxRetries:              3,
		RequestTimeout:          10 * time.Second,
		RetryBackoff:            time.Second,
		VirusTotalRateLimit:     4,
		OTXRateLimit:            1000,
		AbuseIPDBRateLimit:      1000,
		IPinfoRateLimit:         0,
		RateLimitScale:          1,
		BreakerThreshold:        5,
		BreakerCooldown:         30 * time.Second,
		MaxWorkers:              4,
		BatchSize:               50,
		Latency:                 DefaultLatency(),
		LatencyScale:            1,
		ErrorRate:               0,
		Seed:                    "slogate",
		Detection:               DetectStrict,
		MaxBodyBytes:            2 << 20,
		AnalyzeMaxIOCs:          100,
		BatchMaxIOCs:            10000,
		CompressResponses:       false,
		MCPSessionTimeout:       5 * time.Minute,
		MCPMaxSessions:          4096,
		MCPMaxSessionsPerClient: 1024,
	}
}

// ConfigFromEnv starts from DefaultConfig and applies the variables that lookup
// finds (os.LookupEnv, or a map for in-process targets). A bad value is an error
// naming the variable, the value and what would be right.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	p := envParser{lookup: lookup}
	p.seconds("CACHE_TTL", &c.CacheTTL)
	p.integer("CACHE_MAX_SIZE", &c.CacheMaxSize)
	p.integer("MAX_RETRIES", &c.MaxRetries)
	p.seconds("REQUEST_TIMEOUT", &c.RequestTimeout)
	p.seconds("RETRY_BACKOFF", &c.RetryBackoff)
	p.integer("VIRUSTOTAL_RATE_LIMIT", &c.VirusTotalRateLimit)
	p.integer("OTX_RATE_LIMIT", &c.OTXRateLimit)
	p.integer("ABUSEIPDB_RATE_LIMIT", &c.AbuseIPDBRateLimit)
	p.integer("IPINFO_RATE_LIMIT", &c.IPinfoRateLimit)
	p.float("RATE_LIMIT_SCALE", &c.RateLimitScale)
	p.integer("CIRCUIT_BREAKER_THRESHOLD", &c.BreakerThreshold)
	p.seconds("CIRCUIT_BREAKER_COOLDOWN", &c.BreakerCooldown)
	p.integer("MAX_WORKERS", &c.MaxWorkers)
	p.integer("BATCH_SIZE", &c.BatchSize)
	p.float("PROVIDER_LATENCY_SCALE", &c.LatencyScale)
	p.float("PROVIDER_ERROR_RATE", &c.ErrorRate)
	if v, ok := p.get("PROVIDER_SEED"); ok {
		c.Seed = v
	}
	if v, ok := p.get("IOC_DETECTION"); ok {
		c.Detection = DetectionMode(strings.ToLower(v))
	}
	p.int64("MAX_BODY_BYTES", &c.MaxBodyBytes)
	p.integer("ANALYZE_MAX_IOCS", &c.AnalyzeMaxIOCs)
	p.integer("BATCH_MAX_IOCS", &c.BatchMaxIOCs)
	p.boolean("COMPRESS_RESPONSES", &c.CompressResponses)
	p.seconds("MCP_SESSION_TIMEOUT", &c.MCPSessionTimeout)
	p.integer("MCP_MAX_SESSIONS", &c.MCPMaxSessions)
	p.integer("MCP_MAX_SESSIONS_PER_CLIENT", &c.MCPMaxSessionsPerClient)
	if err := errors.Join(append(p.errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every out-of-range field, by env name.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.CacheTTL >= 0, "CACHE_TTL=%v: must be >= 0 (0 disables the cache)", c.CacheTTL.Seconds())
	check(c.CacheMaxSize >= 0, "CACHE_MAX_SIZE=%d: must be >= 0 (0 disables the cache)", c.CacheMaxSize)
	check(c.MaxRetries >= 0 && c.MaxRetries <= 10, "MAX_RETRIES=%d: must be between 0 and 10", c.MaxRetries)
	check(c.RequestTimeout > 0, "REQUEST_TIMEOUT=%v: must be > 0 seconds", c.RequestTimeout.Seconds())
	check(c.RetryBackoff >= 0, "RETRY_BACKOFF=%v: must be >= 0 seconds", c.RetryBackoff.Seconds())
	check(c.VirusTotalRateLimit >= 0, "VIRUSTOTAL_RATE_LIMIT=%d: must be >= 0 requests per minute (0 = unlimited)", c.VirusTotalRateLimit)
	check(c.OTXRateLimit >= 0, "OTX_RATE_LIMIT=%d: must be >= 0 requests per hour (0 = unlimited)", c.OTXRateLimit)
	check(c.AbuseIPDBRateLimit >= 0, "ABUSEIPDB_RATE_LIMIT=%d: must be >= 0 requests per day (0 = unlimited)", c.AbuseIPDBRateLimit)
	check(c.IPinfoRateLimit >= 0, "IPINFO_RATE_LIMIT=%d: must be >= 0 requests per 30 days (0 = unlimited)", c.IPinfoRateLimit)
	check(c.RateLimitScale >= 0 && !math.IsInf(c.RateLimitScale, 0), "RATE_LIMIT_SCALE=%v: must be a finite number >= 0 (0 = no rate limits)", c.RateLimitScale)
	check(c.BreakerThreshold >= 0, "CIRCUIT_BREAKER_THRESHOLD=%d: must be >= 0 (0 disables the breakers)", c.BreakerThreshold)
	check(c.BreakerCooldown >= 0, "CIRCUIT_BREAKER_COOLDOWN=%v: must be >= 0 seconds", c.BreakerCooldown.Seconds())
	check(c.MaxWorkers >= 1 && c.MaxWorkers <= 1024, "MAX_WORKERS=%d: must be between 1 and 1024", c.MaxWorkers)
	check(c.BatchSize >= 1, "BATCH_SIZE=%d: must be >= 1", c.BatchSize)
	check(c.LatencyScale >= 0 && c.LatencyScale <= 1000, "PROVIDER_LATENCY_SCALE=%v: must be between 0 and 1000 (0 = no latency, 1 = the seed's 2-5 s per IOC)", c.LatencyScale)
	check(c.ErrorRate >= 0 && c.ErrorRate <= 1, "PROVIDER_ERROR_RATE=%v: must be between 0 and 1", c.ErrorRate)
	check(c.Detection == DetectStrict || c.Detection == DetectOriginal, "IOC_DETECTION=%q: must be strict or original", c.Detection)
	check(c.MaxBodyBytes > 0, "MAX_BODY_BYTES=%d: must be > 0", c.MaxBodyBytes)
	check(c.AnalyzeMaxIOCs >= 1, "ANALYZE_MAX_IOCS=%d: must be >= 1", c.AnalyzeMaxIOCs)
	check(c.BatchMaxIOCs >= 1, "BATCH_MAX_IOCS=%d: must be >= 1", c.BatchMaxIOCs)
	check(c.MCPSessionTimeout >= 0, "MCP_SESSION_TIMEOUT=%v: must be >= 0 seconds", c.MCPSessionTimeout.Seconds())
	check(c.MCPMaxSessions >= 1, "MCP_MAX_SESSIONS=%d: must be >= 1", c.MCPMaxSessions)
	check(c.MCPMaxSessionsPerClient >= 1, "MCP_MAX_SESSIONS_PER_CLIENT=%d: must be >= 1", c.MCPMaxSessionsPerClient)
	for p := range providerID(numProviders) {
		lo, hi := c.Latency.Min[p], c.Latency.Max[p]
		check(lo >= 0 && hi >= lo, "latency model for %s: need 0 <= min (%v) <= max (%v)", p, lo, hi)
	}
	check(c.Latency.TailProbability >= 0 && c.Latency.TailProbability <= 1, "latency model: tail probability %v must be in [0, 1]", c.Latency.TailProbability)
	check(c.Latency.TailFactor >= 0, "latency model: tail factor %v must be >= 0", c.Latency.TailFactor)
	return errors.Join(errs...)
}

// envParser collects every bad variable instead of stopping at the first.
type envParser struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (p *envParser) get(name string) (string, bool) {
	if p.lookup == nil {
		return "", false
	}
	v, ok := p.lookup(name)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

func (p *envParser) fail(name, value, want string) {
	p.errs = append(p.errs, fmt.Errorf("%s=%q: want %s", name, value, want))
}

func (p *envParser) integer(name string, dst *int) {
	if v, ok := p.get(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.fail(name, v, "a whole number")
			return
		}
		*dst = n
	}
}

func (p *envParser) int64(name string, dst *int64) {
	if v, ok := p.get(name); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.fail(name, v, "a whole number of bytes")
			return
		}
		*dst = n
	}
}

func (p *envParser) float(name string, dst *float64) {
	if v, ok := p.get(name); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) {
			p.fail(name, v, "a number (e.g. 0.5)")
			return
		}
		*dst = f
	}
}

// seconds accepts plain seconds as the seed writes them (CACHE_TTL=7200, also
// fractions: 0.5) or a Go duration (2h, 500ms).
func (p *envParser) seconds(name string, dst *time.Duration) {
	if v, ok := p.get(name); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && math.Abs(f) < 1e9 {
			*dst = time.Duration(f * float64(time.Second))
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			p.fail(name, v, "seconds (e.g. 3600) or a Go duration (e.g. 1h, 500ms)")
			return
		}
		*dst = d
	}
}

func (p *envParser) boolean(name string, dst *bool) {
	if v, ok := p.get(name); ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			*dst = true
		case "0", "false", "no", "off":
			*dst = false
		default:
			p.fail(name, v, "true or false (also 1/0, yes/no, on/off)")
		}
	}
}
