package guard

import (
	"math"
)

// Prediction is the risk model's answer for one feature vector.
type Prediction struct {
	Risk       float64 // 0..100
	Confidence float64 // 0..1
	// Checksum is the result of the simulated forest evaluation (ModelCostIterations
	// rounds). It never affects Risk or Confidence; it is kept so the work is real.
	Checksum uint64
}

// malicious applies the SENSITIVITY_LEVEL thresholds.
func (p Prediction) malicious(s Sensitivity) bool {
	risk, conf := s.thresholds()
	return p.Risk >= risk && p.Confidence >= conf
}

// featureKey is a Features vector quantised into bins, packed into 64 bits. The
// model scores the bins' representative values, never the raw features, so a
// cached prediction is exactly what an uncached one would be: the cache changes
// cost, never verdicts. Layout (low bits first):
//
//	bits  0–7   rate bin     round(4·log2(1+req/s))         → 2^(b/4) − 1 req/s
//	bits  8–12  gap CV bin   round(10·cv), ≤ 30              → b/10
//	bits 13–18  body bin     round(2·log2(1+bytes)), ≤ 63    → 2^(b/2) − 1 bytes
//	bits 19–24  share bin    round(40·share'), ≤ 40          → b/40
//	bits 25–30  samples bin  ⌊2·log2(samples)⌋, ≤ 63          → 2^(b/2) samples
//
// share' is the traffic share discounted while the window holds fewer than
// shareMinGlobal requests (one client alone on an idle guard is not an attack):
// share' = share · min(1, global/shareMinGlobal).
type featureKey uint64

const shareMinGlobal = 10000

func quantize(f Features) featureKey {
	share := f.TrafficShare * min(1, f.GlobalRequests/shareMinGlobal)
	rate := bin(4*math.Log2(1+max(0, f.RequestRate)), 255)
	cv := bin(10*f.GapCV, 30)
	body := bin(2*math.Log2(1+max(0, f.MeanBodyBytes)), 63)
	sh := bin(40*share, 40)
	samples := uint64(0)
	if f.Samples >= 1 {
		samples = uint64(min(63, math.Floor(2*math.Log2(f.Samples))))
	}
	return featureKey(rate | cv<<8 | body<<13 | sh<<19 | samples<<25)
}

func bin(x float64, maxBin uint64) uint64 {
	if !(x > 0) { // also NaN
		return 0
	}
	return uint64(min(float64(maxBin), math.Round(x)))
}

// representative returns the features the bins stand for.
func (k featureKey) representative() Features {
	rate := float64(k & 0xff)
	cv := float64(k >> 8 & 0x1f)
	body := float64(k >> 13 & 0x3f)
	share := float64(k >> 19 & 0x3f)
	samples := float64(k >> 25 & 0x3f)
	return Features{
		Samples:        math.Exp2(samples / 2),
		RequestRate:    math.Exp2(rate/4) - 1,
		GapCV:          cv / 10,
		MeanBodyBytes:  math.Exp2(body/2) - 1,
		TrafficShare:   share / 40,
		GlobalRequests: shareMinGlobal,
	}
}

// riskModel is the deterministic stand-in for the original's RandomForest. It is a
// logistic score over four features (seed-systems.md C.1):
//
//	x_rate  = log2(1 + requests/s)
//	x_reg   = 1 − min(gapCV, 1)          regular, machine-like arrivals → 1
//	x_body  = 1 for 256..2048-byte bodies (the original flags 325–1375 B),
//	          0.5 above, 0 below
//	x_share = share' of global traffic (see featureKey)
//
//	z    = −7 + 0.9·x_rate + 1.5·x_reg + 1.0·x_body + 3.0·x_share
//	risk = 100 / (1 + e^−z)
//
// and a confidence that grows with the evidence, n samples against
// MIN_SAMPLES_REQUIRED m:
//
//	confidence = 1 − 2^(−n/m)            (0.5 at n = m, 0.75 at 2m, 0.875 at 3m)
//
// Landmarks at medium sensitivity (risk ≥ 75 needs z ≥ 1.1): a perfectly regular
// client alone needs ~160 req/s, an irregular one ~500 req/s, a regular client
// sending 1 KB bodies ~70 req/s; a browser-like client at a few req/s scores < 5.
type riskModel struct {
	minSamples int
	iterations int
}

func (m riskModel) score(k featureKey) Prediction {
	f := k.representative()
	xRate := math.Log2(1 + f.RequestRate)
	xReg := 1 - min(f.GapCV, 1)
	xBody := 0.0
	switch {
	case f.MeanBodyBytes >= 256 && f.MeanBodyBytes <= 2048:
		xBody = 1
	case f.MeanBodyBytes > 2048:
		xBody = 0.5
	}
	z := -7 + 0.9*xRate + 1.5*xReg + 1.0*xBody + 3.0*f.TrafficShare
	return Prediction{
		Risk:       100 / (1 + math.Exp(-z)),
		Confidence: 1 - math.Exp2(-f.Samples/float64(max(1, m.minSamples))),
		Checksum:   forestWork(uint64(k), m.iterations),
	}
}

// forestWork is the simulated inference cost: a chain of dependent 64-bit mixing
// rounds (SplitMix64's finaliser), which the compiler cannot shorten or skip. About
// 3.7 ns a round on this machine (BenchmarkModelScore: 150000 rounds took 0.58 ms),
// so the default 200000 rounds cost ~0.75 ms.
func forestWork(seed uint64, rounds int) uint64 {
	h := seed ^ 0x9e3779b97f4a7c15
	for range rounds {
		h += 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}
