package guard

import (
	"math"
	"time"
)

// slidingCounter estimates how many events happened in the last W with two fixed
// buckets aligned to multiples of W (the "sliding window counter" of Cloudflare's
// rate limiter): O(1) memory per client whatever the limit, unlike a log of
// timestamps.
//
// With the current bucket starting at s, holding cur events, and the previous one
// holding prev, the count over (t−W, t] is estimated by assuming the previous
// bucket's events were spread evenly:
//
//	est(t) = prev·(1 − (t−s)/W) + cur,        s ≤ t < s+W
//
// The estimate is exact when traffic is uniform and never off by more than prev.
type slidingCounter struct {
	start     int64 // unix ns at which the current bucket began; 0 = never used
	cur, prev uint32
}

// roll moves the buckets forward so that now falls in the current one.
func (c *slidingCounter) roll(now, window int64) {
	if c.start == 0 || now < c.start { // first use, or the clock went backwards
		if c.start == 0 || now < c.start-window {
			c.start, c.cur, c.prev = alignDown(now, window), 0, 0
		}
		return
	}
	if elapsed := now - c.start; elapsed >= window {
		k := elapsed / window
		if k == 1 {
			c.prev = c.cur
		} else {
			c.prev = 0
		}
		c.cur = 0
		c.start += k * window
	}
}

// estimate is est(now); roll must have been called for now.
func (c *slidingCounter) estimate(now, window int64) float64 {
	return float64(c.prev)*(1-fraction(now-c.start, window)) + float64(c.cur)
}

// add counts one event at now.
func (c *slidingCounter) add(now, window int64) {
	c.roll(now, window)
	if c.cur < math.MaxUint32 {
		c.cur++
	}
}

// retryAfter is how long until one more event fits under cap, i.e. the earliest
// t ≥ now with est(t) ≤ cap−1. Within the current bucket est falls linearly as the
// previous bucket's weight drops, so if cur ≤ cap−1
//
//	t = s + W·(1 − (cap−1−cur)/prev)
//
// otherwise the current bucket must first become the previous one:
//
//	t = s + W + W·(1 − (cap−1)/cur).
func (c *slidingCounter) retryAfter(now, window int64, cap int) time.Duration {
	room := float64(cap - 1)
	var at float64
	switch {
	case float64(c.cur) <= room && c.prev == 0:
		return 0
	case float64(c.cur) <= room:
		at = float64(c.start) + float64(window)*(1-(room-float64(c.cur))/float64(c.prev))
	default:
		at = float64(c.start+window) + float64(window)*(1-room/float64(c.cur))
	}
	return max(0, time.Duration(at-float64(now)))
}

// alignDown returns the multiple of window at or before t.
func alignDown(t, window int64) int64 {
	r := t % window
	if r < 0 {
		r += window
	}
	return t - r
}

func fraction(elapsed, window int64) float64 {
	return min(1, max(0, float64(elapsed)/float64(window)))
}

// featureBucket sums what the risk model needs over one bucket of the feature window.
type featureBucket struct {
	requests   float64 // requests seen
	bodyBytes  float64 // sum of request body sizes
	gaps       float64 // inter-arrival gaps counted (requests after the first)
	gapSum     float64 // Σ gap, seconds
	gapSquares float64 // Σ gap², seconds²
}

func (b *featureBucket) weighted(w float64) featureBucket {
	return featureBucket{b.requests * w, b.bodyBytes * w, b.gaps * w, b.gapSum * w, b.gapSquares * w}
}

func (b *featureBucket) plus(o featureBucket) featureBucket {
	return featureBucket{b.requests + o.requests, b.bodyBytes + o.bodyBytes, b.gaps + o.gaps, b.gapSum + o.gapSum, b.gapSquares + o.gapSquares}
}

// featureWindow keeps one client's traffic statistics over FEATURE_WINDOW_SECONDS
// with the same two-bucket weighting as slidingCounter.
type featureWindow struct {
	start     int64
	first     int64 // first request seen (unix ns), for the rate's time base
	last      int64 // previous request, for the inter-arrival gap
	cur, prev featureBucket
}

// add records one request of bodyBytes at now.
func (f *featureWindow) add(now, window int64, bodyBytes int64) {
	switch {
	case f.start == 0 || now < f.start-window:
		f.start, f.first, f.cur, f.prev = alignDown(now, window), now, featureBucket{}, featureBucket{}
	case now >= f.start+window:
		k := (now - f.start) / window
		if k == 1 {
			f.prev = f.cur
		} else {
			f.prev = featureBucket{}
		}
		f.cur = featureBucket{}
		f.start += k * window
	}
	if f.last != 0 && now >= f.last && now-f.last < window {
		gap := float64(now-f.last) / 1e9
		f.cur.gaps++
		f.cur.gapSum += gap
		f.cur.gapSquares += gap * gap
	}
	if f.last == 0 || now-f.last >= window { // a client back after a full window starts afresh
		f.first = now
	}
	f.last = now
	f.cur.requests++
	f.cur.bodyBytes += float64(max(0, bodyBytes))
}

// Features are a client's traffic statistics over the feature window, the risk
// model's input (model.go).
type Features struct {
	Samples        float64 // requests in the window (weighted estimate)
	RequestRate    float64 // requests per second over min(window, time since first request), ≥ 1 s
	GapCV          float64 // coefficient of variation of inter-arrival gaps (0 = perfectly regular)
	MeanBodyBytes  float64 // mean request body size
	TrafficShare   float64 // this client's share of all requests in the window (0..1)
	GlobalRequests float64 // all requests in the window (weighted estimate)
}

// features computes the Features at now given the global request estimate.
func (f *featureWindow) features(now, window int64, global float64) Features {
	w := 1 - fraction(now-f.start, window)
	if now >= f.start+window { // not rolled yet: the current bucket is the previous one
		w = 1 - fraction(now-f.start-window, window)
		b := f.cur.weighted(w)
		return f.summarize(b, now, window, global)
	}
	b := f.prev.weighted(w)
	b = b.plus(f.cur)
	return f.summarize(b, now, window, global)
}

func (f *featureWindow) summarize(b featureBucket, now, window int64, global float64) Features {
	span := float64(min(window, max(int64(time.Second), now-f.first))) / 1e9
	out := Features{Samples: b.requests, RequestRate: b.requests / span, GlobalRequests: global}
	if b.requests > 0 {
		out.MeanBodyBytes = b.bodyBytes / b.requests
	}
	if b.gaps > 0 {
		mean := b.gapSum / b.gaps
		if mean > 0 {
			variance := max(0, b.gapSquares/b.gaps-mean*mean)
			out.GapCV = math.Sqrt(variance) / mean
		}
	}
	if global > 0 {
		out.TrafficShare = min(1, b.requests/global)
	}
	return out
}
