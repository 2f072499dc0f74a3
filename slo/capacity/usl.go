package capacity

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// Point is one measured step: concurrency N (by Little's law, N = X·R from
// the step's throughput X and mean latency R) and throughput X in req/s.
type Point struct {
	N, X float64
}

// USL is a fitted Universal Scalability Law (Gunther):
//
//	X(N) = λ·N / (1 + σ·(N−1) + κ·N·(N−1))
//
// λ is the throughput of one unit of concurrency, σ the contention (the
// serial fraction: σ alone gives Amdahl's law), κ the coherency cost (the
// crosstalk that makes throughput fall past the peak). The peak is at
// N* = √((1−σ)/κ); with κ = 0 throughput only levels off at λ/σ.
type USL struct {
	Lambda float64 `json:"lambda"`
	Sigma  float64 `json:"sigma"`
	Kappa  float64 `json:"kappa"`
	// SigmaCI and KappaCI are 90 % bootstrap intervals (points resampled).
	SigmaCI [2]float64 `json:"sigma_ci"`
	KappaCI [2]float64 `json:"kappa_ci"`
	// PeakN and PeakRPS are the model's maximum when it has one (κ > 0);
	// with κ = 0 throughput only levels off, at AsymptoteRPS = λ/σ (0: no
	// limit in sight, σ = 0 too).
	PeakN        float64 `json:"peak_concurrency,omitempty"`
	PeakRPS      float64 `json:"peak_rps,omitempty"`
	AsymptoteRPS float64 `json:"asymptote_rps,omitempty"`
	// R2 is the fit's coefficient of determination over the points;
	// MaxRelError the largest |model − measured| / measured.
	R2          float64 `json:"r2"`
	MaxRelError float64 `json:"max_rel_error"`
	// FitsToRPS is the highest measured throughput up to which every point
	// (in order of N) lies within 10 % of the model: beyond it the model
	// stops describing the target.
	FitsToRPS float64 `json:"fits_to_rps"`
	Points    int     `json:"points"`
}

// Throughput is the model's X(N).
func (u USL) Throughput(n float64) float64 {
	return u.Lambda * n / (1 + u.Sigma*(n-1) + u.Kappa*n*(n-1))
}

// ErrTooFewPoints: three parameters need at least four points to say
// anything about the fit.
var ErrTooFewPoints = errors.New("the USL needs at least 4 measured steps with throughput and latency")

// FitUSL fits the law to points by least squares on relative errors (every
// step weighs the same whatever its rate), σ and κ kept ≥ 0, and bootstraps
// 90 % intervals for σ and κ from 200 resamples (seeded: the same points
// give the same intervals).
func FitUSL(points []Point) (USL, error) {
	pts := make([]Point, 0, len(points))
	for _, p := range points {
		if p.N > 0 && p.X > 0 && !math.IsInf(p.N, 0) && !math.IsInf(p.X, 0) {
			pts = append(pts, p)
		}
	}
	if len(pts) < 4 {
		return USL{}, ErrTooFewPoints
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].N < pts[j].N })
	u, err := fit(pts)
	if err != nil {
		return USL{}, err
	}
	rng := rand.New(rand.NewPCG(0x75_73_6c, uint64(len(pts))))
	var sigmas, kappas []float64
	sample := make([]Point, len(pts))
	for range 200 {
		for i := range sample {
			sample[i] = pts[rng.IntN(len(pts))]
		}
		if b, err := fit(sample); err == nil {
			sigmas = append(sigmas, b.Sigma)
			kappas = append(kappas, b.Kappa)
		}
	}
	if len(sigmas) >= 20 {
		sort.Float64s(sigmas)
		sort.Float64s(kappas)
		u.SigmaCI = [2]float64{stat.Quantile(0.05, stat.Empirical, sigmas, nil), stat.Quantile(0.95, stat.Empirical, sigmas, nil)}
		u.KappaCI = [2]float64{stat.Quantile(0.05, stat.Empirical, kappas, nil), stat.Quantile(0.95, stat.Empirical, kappas, nil)}
	}
	u.describe(pts)
	return u, nil
}

// fit minimises Σ ((X(N) − x)/x)² over λ = e^a, σ = e^b, κ = e^c (so they
// stay positive; e^-30 is zero for every practical purpose), with
// Nelder-Mead from a few starts.
func fit(pts []Point) (USL, error) {
	lambda0 := pts[0].X / pts[0].N
	for _, p := range pts {
		lambda0 = max(lambda0, p.X/p.N)
	}
	obj := func(x []float64) float64 {
		u := USL{Lambda: math.Exp(x[0]), Sigma: math.Exp(x[1]), Kappa: math.Exp(x[2])}
		var sum float64
		for _, p := range pts {
			r := (u.Throughput(p.N) - p.X) / p.X
			sum += r * r
		}
		return sum
	}
	best, bestF := []float64(nil), math.Inf(1)
	for _, start := range [][2]float64{{1e-2, 1e-4}, {1e-1, 1e-3}, {1e-3, 1e-6}, {0.3, 1e-2}} {
		x0 := []float64{math.Log(lambda0), math.Log(start[0]), math.Log(start[1])}
		res, err := optimize.Minimize(optimize.Problem{Func: obj}, x0, &optimize.Settings{MajorIterations: 4000, FuncEvaluations: 20000}, &optimize.NelderMead{})
		if err != nil && res == nil {
			continue
		}
		if res.F < bestF {
			best, bestF = res.X, res.F
		}
	}
	if best == nil || math.IsNaN(bestF) {
		return USL{}, errors.New("the USL fit did not converge")
	}
	u := USL{Lambda: math.Exp(best[0]), Sigma: math.Exp(best[1]), Kappa: math.Exp(best[2])}
	if u.Sigma < 1e-9 {
		u.Sigma = 0
	}
	if u.Kappa < 1e-12 {
		u.Kappa = 0
	}
	return u, nil
}

// describe fills the peak and the goodness of fit.
func (u *USL) describe(pts []Point) {
	u.Points = len(pts)
	switch {
	case u.Kappa > 0 && u.Sigma < 1:
		u.PeakN = math.Sqrt((1 - u.Sigma) / u.Kappa)
		u.PeakRPS = u.Throughput(u.PeakN)
	case u.Sigma > 0:
		u.AsymptoteRPS = u.Lambda / u.Sigma
	}
	xs := make([]float64, len(pts))
	var ssRes float64
	fitting := true
	for i, p := range pts {
		xs[i] = p.X
		d := u.Throughput(p.N) - p.X
		ssRes += d * d
		rel := math.Abs(d) / p.X
		u.MaxRelError = max(u.MaxRelError, rel)
		fitting = fitting && rel <= 0.10
		if fitting {
			u.FitsToRPS = max(u.FitsToRPS, p.X)
		}
	}
	mean := stat.Mean(xs, nil)
	var ssTot float64
	for _, x := range xs {
		ssTot += (x - mean) * (x - mean)
	}
	if ssTot > 0 {
		u.R2 = 1 - ssRes/ssTot
	}
}
