package capacity

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// The fit recovers known σ and κ from points drawn from the law with 2 %
// multiplicative noise, and the intervals cover the truth.
func TestFitUSLRecoversKnownParameters(t *testing.T) {
	cases := []struct{ lambda, sigma, kappa float64 }{
		{100, 0.05, 0.001},
		{1000, 0.02, 0.0002},
		{50, 0.1, 0},
	}
	for _, c := range cases {
		truth := USL{Lambda: c.lambda, Sigma: c.sigma, Kappa: c.kappa}
		rng := rand.New(rand.NewPCG(1, 2))
		var pts []Point
		for _, n := range []float64{1, 2, 4, 8, 12, 16, 24, 32, 48, 64} {
			pts = append(pts, Point{N: n, X: truth.Throughput(n) * (1 + 0.02*(rng.Float64()*2-1))})
		}
		u, err := FitUSL(pts)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(u.Sigma-c.sigma) > 0.25*c.sigma+0.005 || math.Abs(u.Kappa-c.kappa) > 0.25*c.kappa+0.0001 {
			t.Errorf("truth σ=%g κ=%g: fitted σ=%g κ=%g", c.sigma, c.kappa, u.Sigma, u.Kappa)
		}
		if math.Abs(u.Lambda-c.lambda) > 0.05*c.lambda {
			t.Errorf("truth λ=%g: fitted %g", c.lambda, u.Lambda)
		}
		if !(u.SigmaCI[0] <= c.sigma+0.005 && c.sigma <= u.SigmaCI[1]+0.005) {
			t.Errorf("σ=%g outside its interval %v", c.sigma, u.SigmaCI)
		}
		maxX := 0.0
		for _, p := range pts {
			maxX = math.Max(maxX, p.X)
		}
		if u.R2 < 0.98 || u.MaxRelError > 0.05 || u.FitsToRPS != maxX {
			t.Errorf("fit quality: R² %g, max error %g, fits to %g", u.R2, u.MaxRelError, u.FitsToRPS)
		}
		if c.kappa > 0 {
			peakN := math.Sqrt((1 - c.sigma) / c.kappa)
			if math.Abs(u.PeakN-peakN) > 0.2*peakN {
				t.Errorf("peak at N=%g, want %g", u.PeakN, peakN)
			}
		} else if u.PeakN != 0 && u.Kappa > 0 && u.PeakN < 200 {
			t.Errorf("κ=0: a peak at N=%g inside the measured range", u.PeakN)
		}
		if _, err := json.Marshal(u); err != nil {
			t.Errorf("the model does not encode: %v", err)
		}
	}
}

// Past where the target falls apart (an error wall at the last steps), the
// model says it stops fitting rather than bending to the outliers unnoticed.
func TestFitUSLSaysWhereItStopsFitting(t *testing.T) {
	truth := USL{Lambda: 100, Sigma: 0.03, Kappa: 0.0005}
	var pts []Point
	for _, n := range []float64{1, 2, 4, 8, 16, 24, 32} {
		pts = append(pts, Point{N: n, X: truth.Throughput(n)})
	}
	pts = append(pts, Point{N: 40, X: 50}, Point{N: 48, X: 20})
	u, err := FitUSL(pts)
	if err != nil {
		t.Fatal(err)
	}
	if u.FitsToRPS >= truth.Throughput(32) || u.MaxRelError < 0.1 {
		t.Fatalf("fits to %g (max error %g): the collapse after N=32 should end the fit", u.FitsToRPS, u.MaxRelError)
	}
	if _, err := FitUSL(pts[:3]); !errors.Is(err, ErrTooFewPoints) {
		t.Fatalf("3 points: %v", err)
	}
}
