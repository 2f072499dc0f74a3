package guard

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestRiskModelLandmarks(t *testing.T) {
	m := riskModel{minSamples: 10}
	cases := []struct {
		name     string
		f        Features
		min, max float64 // risk range
	}{
		{"browser, 2 req/s, irregular", Features{Samples: 200, RequestRate: 2, GapCV: 1}, 0, 5},
		{"scripted client, 4 req/s, regular", Features{Samples: 200, RequestRate: 4, GapCV: 0}, 0, 10},
		{"regular bot, 200 req/s", Features{Samples: 2000, RequestRate: 200, GapCV: 0}, 75, 95},
		{"irregular, 600 req/s", Features{Samples: 2000, RequestRate: 600, GapCV: 1}, 75, 95},
		{"regular, 80 req/s, 1 KB bodies", Features{Samples: 2000, RequestRate: 80, GapCV: 0, MeanBodyBytes: 1012}, 75, 95},
		{"flood, 3000 req/s, a third of all traffic", Features{Samples: 5000, RequestRate: 3000, GapCV: 0.3, TrafficShare: 0.33, GlobalRequests: 20000}, 99, 100},
	}
	for _, c := range cases {
		p := m.score(quantize(c.f))
		if p.Risk < c.min || p.Risk > c.max {
			t.Errorf("%s: risk %.1f, want %v..%v", c.name, p.Risk, c.min, c.max)
		}
	}
}

func TestConfidenceGrowsWithSamples(t *testing.T) {
	m := riskModel{minSamples: 10}
	prev := -1.0
	for _, n := range []float64{1, 10, 20, 40, 100} {
		p := m.score(quantize(Features{Samples: n, RequestRate: 1}))
		if p.Confidence <= prev {
			t.Errorf("confidence %.3f at %v samples is not above %.3f", p.Confidence, n, prev)
		}
		prev = p.Confidence
	}
	// 1 − 2^(−n/m): quantisation keeps n within a factor √2 below the true count.
	if p := m.score(quantize(Features{Samples: 20})); p.Confidence < 0.6 || p.Confidence > 0.75 {
		t.Errorf("confidence at 2·MIN_SAMPLES = %.3f, want ≈ 0.75 (≥ 0.6 after binning)", p.Confidence)
	}
}

func TestSensitivityThresholds(t *testing.T) {
	// A prediction between the levels: malicious only at the stricter settings.
	p := Prediction{Risk: 80, Confidence: 0.8}
	want := map[Sensitivity]bool{SensitivityLow: false, SensitivityMedium: true, SensitivityHigh: true}
	for s, w := range want {
		if got := p.malicious(s); got != w {
			t.Errorf("risk 80 conf 0.8 at %s: malicious %v, want %v", s, got, w)
		}
	}
	if (Prediction{Risk: 99, Confidence: 0.7}).malicious(SensitivityMedium) {
		t.Error("confidence 0.7 should not pass the medium level (0.75)")
	}
}

func TestQuantizedScoringIsStable(t *testing.T) {
	// Scoring twice, or scoring the representative of a key, gives the same answer:
	// the basis of "the cache changes cost, never verdicts".
	m := riskModel{minSamples: 10, iterations: 10}
	f := Features{Samples: 123, RequestRate: 37.2, GapCV: 0.41, MeanBodyBytes: 900, TrafficShare: 0.02, GlobalRequests: 5000}
	k := quantize(f)
	if m.score(k) != m.score(k) {
		t.Error("score is not deterministic")
	}
	if quantize(k.representative()) != k {
		t.Errorf("representative of %x quantises to %x", k, quantize(k.representative()))
	}
}

// modelConfig lets only the risk model refuse: limits far away.
func modelConfig() Config {
	cfg := testConfig()
	cfg.RequestRateLimit = 1 << 20
	cfg.BlockThresholdViolations = 1000
	return cfg
}

// firstRefusal sends up to n GETs from ip, gap apart, and returns the index of the
// first non-200 answer and its status (-1, 0 if none).
func (tg *testGuard) firstRefusal(ip string, n int, gap time.Duration) (int, int) {
	tg.t.Helper()
	for i := range n {
		tg.clock.Advance(gap)
		if s := tg.get(ip, "/").status; s != http.StatusOK {
			return i, s
		}
	}
	return -1, 0
}

func TestModelBlocksAfterMinSamples(t *testing.T) {
	// A perfectly regular client at 500 req/s. Its measured rate builds up over its
	// first second (rate = n / max(1 s, age)), and risk passes 75 near request 140.
	// With a small MIN_SAMPLES_REQUIRED that is when it is blocked; with 200, no
	// verdict comes before 200 samples, and confidence 0.75 needs 2·200 (≥ 512
	// after binning), so the block comes later.
	for _, c := range []struct {
		minSamples int
		from, to   int // the first refusal must fall in [from, to]
	}{{5, 100, 200}, {10, 100, 200}, {200, 400, 700}} {
		cfg := modelConfig()
		cfg.MinSamplesRequired = c.minSamples
		tg := startGuard(t, cfg)
		i, s := tg.firstRefusal("192.0.2.10", c.to+1, 2*time.Millisecond)
		if s != http.StatusForbidden || i < c.from || i > c.to {
			t.Errorf("MIN_SAMPLES_REQUIRED=%d: first refusal at request %d (status %d), want 403 within %d..%d",
				c.minSamples, i, s, c.from, c.to)
		}
		fams := tg.scrape()
		if v := metricValue(fams, "ddos_requests_blocked_total", "reason", reasonLabelModel); v != 1 {
			t.Errorf("ml_detection count %v, want 1", v)
		}
		if v := metricValue(fams, "ddos_blocks_started_total", "reason", "ml_detection"); v != 1 {
			t.Errorf("ddos_blocks_started_total{ml_detection} %v, want 1", v)
		}
	}
	// With a huge MIN_SAMPLES_REQUIRED the model never speaks.
	cfg := modelConfig()
	cfg.MinSamplesRequired = 100000
	tg := startGuard(t, cfg)
	if i, s := tg.firstRefusal("192.0.2.10", 300, 2*time.Millisecond); i != -1 {
		t.Errorf("no verdict expected before MIN_SAMPLES_REQUIRED, got %d at %d", s, i)
	}
	if v := metricValue(tg.scrape(), "ddos_model_predictions_total"); v != 0 {
		t.Errorf("predictions %v before MIN_SAMPLES_REQUIRED, want 0", v)
	}
}

func TestSensitivityLevelChangesVerdicts(t *testing.T) {
	// Regular traffic at 125 req/s scores risk ≈ 70: blocked at high (65), not at medium (75) or low (85).
	want := map[Sensitivity]bool{SensitivityHigh: true, SensitivityMedium: false, SensitivityLow: false}
	for level, blocked := range want {
		cfg := modelConfig()
		cfg.SensitivityLevel = level
		tg := startGuard(t, cfg)
		i, _ := tg.firstRefusal("192.0.2.11", 400, 8*time.Millisecond)
		if got := i >= 0; got != blocked {
			t.Errorf("SENSITIVITY_LEVEL=%s: blocked %v (at %d), want %v", level, got, i, blocked)
		}
	}
}

func TestDynamicRateAdjustmentLowersRiskyClientsLimit(t *testing.T) {
	// Regular 125 req/s (risk passes 50 near request 80 and levels off at ≈ 70, not
	// malicious at low sensitivity): with the adjustment its limit drops to
	// 100·(1 − risk/100) ≤ 47 → cap ≤ 70, so it is refused soon after request 80;
	// without it the cap stays 150.
	for _, c := range []struct {
		dynamic  bool
		min, max int
	}{{true, 60, 110}, {false, 150, 150}} {
		cfg := testConfig()
		cfg.SensitivityLevel = SensitivityLow
		cfg.DynamicRateAdjustment = c.dynamic
		cfg.BlockThresholdViolations = 1000
		tg := startGuard(t, cfg)
		i, s := tg.firstRefusal("192.0.2.12", 300, 8*time.Millisecond)
		if s != http.StatusTooManyRequests || i < c.min || i > c.max {
			t.Errorf("DYNAMIC_RATE_ADJUSTMENT=%v: first refusal %d at request %d, want 429 within %d..%d", c.dynamic, s, i, c.min, c.max)
		}
	}
}

func TestFeatureWindowLimitsWhatTheModelRemembers(t *testing.T) {
	// 30 quick requests, a pause, then more: with a short feature window the pause
	// makes the client new again (no verdict for MIN_SAMPLES_REQUIRED requests);
	// with a long one it is still a known high-rate client.
	for _, c := range []struct {
		window       time.Duration
		wantVerdicts bool
	}{{60 * time.Second, false}, {3600 * time.Second, true}} {
		var f featureWindow
		w := int64(c.window)
		now := int64(1_700_000_000) * int64(time.Second)
		for range 30 {
			now += int64(10 * time.Millisecond)
			f.add(now, w, 0)
		}
		now += int64(5 * time.Minute)
		f.add(now, w, 0)
		got := f.features(now, w, 100).Samples >= 10
		if got != c.wantVerdicts {
			t.Errorf("FEATURE_WINDOW=%v: samples %.1f after a 5 min pause", c.window, f.features(now, w, 100).Samples)
		}
	}
}

func TestFeatures(t *testing.T) {
	const w = int64(300 * time.Second)
	var f featureWindow
	now := int64(1_700_000_100) * int64(time.Second)
	for i := range 100 { // 10 req/s, perfectly regular, 500-byte bodies
		f.add(now+int64(i)*int64(100*time.Millisecond), w, 500)
	}
	got := f.features(now+int64(99)*int64(100*time.Millisecond), w, 1000)
	if got.Samples != 100 || got.MeanBodyBytes != 500 || got.TrafficShare != 0.1 || got.GapCV > 1e-6 {
		t.Errorf("features %+v", got)
	}
	if got.RequestRate < 9.9 || got.RequestRate > 10.2 { // 100 requests over 9.9 s
		t.Errorf("rate %.2f, want ≈ 10.1", got.RequestRate)
	}
}

func TestCacheOnOffSameVerdictsAndCacheCounts(t *testing.T) {
	// The same traffic (many clients at mixed rates, one attacker) through a
	// cached and an uncached guard gives the same statuses; only the model work differs.
	run := func(cache bool) ([]int, *testGuard) {
		cfg := testConfig()
		cfg.EnableModelCache = cache
		tg := startGuard(t, cfg)
		var st []int
		for round := range 60 {
			for c := range 20 {
				if (round+c)%3 == 0 {
					st = append(st, tg.get("10.0.0."+itoa(c+1), "/").status)
				}
			}
			for range 10 {
				st = append(st, tg.get("192.0.2.99", "/").status)
				tg.clock.Advance(5 * time.Millisecond)
			}
		}
		return st, tg
	}
	on, tgOn := run(true)
	off, tgOff := run(false)
	if !equalInts(on, off) {
		t.Fatalf("cache on and off disagree:\n%v\n%v", on, off)
	}
	if count(on, http.StatusForbidden) == 0 {
		t.Error("the attacker was never blocked")
	}
	fOn, fOff := tgOn.scrape(), tgOff.scrape()
	hits, lookups := metricValue(fOn, "cache_hits_total"), metricValue(fOn, "cache_requests_total")
	predOn, predOff := metricValue(fOn, "ddos_model_predictions_total"), metricValue(fOff, "ddos_model_predictions_total")
	if lookups <= 0 || hits <= 0 || hits > lookups || predOn != lookups-hits {
		t.Errorf("cache on: hits %v lookups %v predictions %v (want predictions = lookups − hits)", hits, lookups, predOn)
	}
	if metricValue(fOff, "cache_requests_total") != 0 {
		t.Error("cache off should not count lookups")
	}
	// Cache off pays for every scored request: at least 3× the model evaluations.
	if predOff < 3*predOn {
		t.Errorf("model evaluations: cache off %v, cache on %v; want off ≥ 3× on", predOff, predOn)
	}
}

func TestModelCacheTTLAndMaxSize(t *testing.T) {
	c := newPredictionCache(int64(10*time.Second), 3)
	p := Prediction{Risk: 1}
	c.put(1, p, 0)
	if _, ok := c.get(1, int64(9*time.Second)); !ok {
		t.Error("entry gone before its TTL")
	}
	if _, ok := c.get(1, int64(10*time.Second)); ok {
		t.Error("entry alive at its TTL (MODEL_CACHE_TTL_SECONDS)")
	}
	for k := range featureKey(10) {
		c.put(k, p, 0)
		c.get(0, 0) // keep key 0 recently used
	}
	if n := c.len(); n != 3 {
		t.Errorf("cache holds %d entries, MODEL_CACHE_MAX_SIZE is 3", n)
	}
	if _, ok := c.get(0, 0); !ok {
		t.Error("the most recently used entry was evicted")
	}
	if _, ok := c.get(9, 0); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get(1, 0); ok {
		t.Error("an old entry survived")
	}
}

func TestModelCacheTTLThroughTheGuard(t *testing.T) {
	// Five clients with identical, steady behaviour (10 req/s for 20 s) share cache
	// entries. A short TTL re-scores what a long one keeps.
	predictions := func(ttl time.Duration) float64 {
		cfg := testConfig()
		cfg.ModelCacheTTL = ttl
		tg := startGuard(t, cfg)
		for range 200 {
			tg.clock.Advance(100 * time.Millisecond)
			for c := range 5 {
				tg.get("10.1.0."+itoa(c+1), "/")
			}
		}
		return metricValue(tg.scrape(), "ddos_model_predictions_total")
	}
	short, long := predictions(time.Second), predictions(time.Hour)
	if short <= long || long <= 0 {
		t.Errorf("predictions with a 1 s TTL %v, with 1 h %v; want more with the short TTL", short, long)
	}
}

func TestBatchPredictionSize(t *testing.T) {
	for _, c := range []struct {
		size, queued, wantBatches int
	}{{100, 250, 3}, {10, 250, 25}, {1, 7, 7}} {
		var mu sync.Mutex
		scored := 0
		b := newBatchScorer(c.size, func(k featureKey) Prediction {
			mu.Lock()
			scored++
			mu.Unlock()
			return Prediction{Risk: float64(k)}
		})
		// Queue everything before any worker runs, then start one: batches are full.
		replies := make([]chan Prediction, c.queued)
		for i := range replies {
			replies[i] = make(chan Prediction, 1)
			b.queue <- &scoreRequest{key: featureKey(i), reply: replies[i]}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		b.start(ctx, 1, &wg)
		for i, r := range replies {
			if p := <-r; p.Risk != float64(i) {
				t.Errorf("reply %d carries the prediction for %v", i, p.Risk)
			}
		}
		cancel()
		wg.Wait()
		if got := int(b.batches.Load()); got != c.wantBatches {
			t.Errorf("BATCH_PREDICTION_SIZE=%d, %d queued: %d batches, want %d", c.size, c.queued, got, c.wantBatches)
		}
		if got := int(b.largest.Load()); got != min(c.size, c.queued) {
			t.Errorf("largest batch %d, want %d", got, min(c.size, c.queued))
		}
	}
}

func TestBatchScoresDuplicatesOnce(t *testing.T) {
	b := newBatchScorer(100, func(k featureKey) Prediction { return Prediction{Risk: float64(k)} })
	replies := make([]chan Prediction, 50)
	for i := range replies {
		replies[i] = make(chan Prediction, 1)
		b.queue <- &scoreRequest{key: featureKey(i % 5), reply: replies[i]}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.start(ctx, 1, &wg)
	for i, r := range replies {
		if p := <-r; p.Risk != float64(i%5) {
			t.Errorf("reply %d wrong: %v", i, p.Risk)
		}
	}
	cancel()
	wg.Wait()
	if b.predictions.Load() != 5 || b.rows.Load() != 50 {
		t.Errorf("predictions %d rows %d, want 5 and 50", b.predictions.Load(), b.rows.Load())
	}
}

func TestModelCostIterationsIsWork(t *testing.T) {
	// MODEL_COST_ITERATIONS never changes a score, only the work done.
	k := quantize(Features{Samples: 50, RequestRate: 20})
	a := riskModel{minSamples: 10, iterations: 0}.score(k)
	b := riskModel{minSamples: 10, iterations: 150000}.score(k)
	if a.Risk != b.Risk || a.Confidence != b.Confidence {
		t.Errorf("iterations changed the score: %+v vs %+v", a, b)
	}
	if a.Checksum == b.Checksum {
		t.Error("150000 rounds produced the same checksum as none")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
