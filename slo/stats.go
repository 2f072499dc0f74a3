package slo

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/combin"
	"gonum.org/v1/gonum/stat/distuv"
)

// This file holds the rank statistics MannWhitney rests on. gonum gives
// the distributions; the Mann-Whitney U test, its exact null distribution
// and the Hodges-Lehmann interval are written here on top of it (gonum has
// none of them). The block bootstrap's pieces are in bootstrap.go.

// exactMWULimit is the largest pooled sample (n1+n2) for which the exact
// permutation distribution of the rank sum is computed; above it the normal
// approximation with tie correction is as good and much cheaper.
const exactMWULimit = 60

// tieGroup is a run of equal values in the pooled, sorted sample: size
// values sharing the midrank rank2/2 (rank2 is twice the midrank, an
// integer even when the midrank is a half).
type tieGroup struct {
	size  int
	rank2 int
}

// rankTies sorts the pooled sample x ∪ y and returns its tie groups and
// twice the rank sum of x (W₂ = 2·Σ rank(xᵢ), midranks for ties).
func rankTies(x, y []float64) (groups []tieGroup, w2 int) {
	type obs struct {
		v     float64
		fromX bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	for i := 0; i < len(all); {
		j := i
		for j+1 < len(all) && all[j+1].v == all[i].v {
			j++
		}
		// 1-based ranks i+1..j+1, midrank (i+j+2)/2.
		g := tieGroup{size: j - i + 1, rank2: i + j + 2}
		for k := i; k <= j; k++ {
			if all[k].fromX {
				w2 += g.rank2
			}
		}
		groups = append(groups, g)
		i = j + 1
	}
	return groups, w2
}

// rankSumCounts returns the exact permutation distribution of W₂, twice the
// rank sum of a subsample of size n1 drawn from the pooled sample whose tie
// structure is groups: counts[w2] is the number of the C(N, n1) ways to pick
// the subsample that give W₂ = w2. With no ties this is the classical
// Mann-Whitney null distribution; with ties it is the exact conditional one
// (choosing k of a group of t contributes k·rank2 in C(t, k) ways).
func rankSumCounts(groups []tieGroup, n1 int) []float64 {
	n := 0
	for _, g := range groups {
		n += g.size
	}
	maxW2 := n * (n + 1) // 2 × the largest possible rank sum
	ways := make([][]float64, n1+1)
	for k := range ways {
		ways[k] = make([]float64, maxW2+1)
	}
	ways[0][0] = 1
	for _, g := range groups {
		next := make([][]float64, n1+1)
		for k := range next {
			next[k] = make([]float64, maxW2+1)
		}
		for k := 0; k <= n1; k++ {
			for s, c := range ways[k] {
				if c == 0 {
					continue
				}
				for j := 0; j <= g.size && k+j <= n1; j++ {
					next[k+j][s+j*g.rank2] += c * float64(combin.Binomial(g.size, j))
				}
			}
		}
		ways = next
	}
	return ways[n1]
}

// MannWhitneyP is the two-sided p-value of the Mann-Whitney U (Wilcoxon
// rank-sum) test of x against y: the probability, if x and y came from the
// same distribution, of a rank sum at least as far from its mean
// n1(N+1)/2 as the observed one. Exact (permutation distribution with
// midranks) for N = n1+n2 ≤ 60, otherwise the normal approximation
//
//	z = (U − n1n2/2) / √(n1n2/12 · ((N+1) − Σ(t³−t)/(N(N−1))))
//
// with the tie correction. It returns 1 when either sample is empty or
// every value is equal.
func MannWhitneyP(x, y []float64) float64 {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	groups, w2 := rankTies(x, y)
	if len(groups) == 1 {
		return 1
	}
	n := n1 + n2
	mean2 := n1 * (n + 1) // 2 × E[W]
	if n <= exactMWULimit {
		counts := rankSumCounts(groups, n1)
		dev := math.Abs(float64(w2 - mean2))
		var extreme, total float64
		for s, c := range counts {
			total += c
			if math.Abs(float64(s-mean2)) >= dev-1e-9 {
				extreme += c
			}
		}
		return math.Min(1, extreme/total)
	}
	var tie float64
	for _, g := range groups {
		t := float64(g.size)
		tie += t*t*t - t
	}
	N1, N2, N := float64(n1), float64(n2), float64(n)
	u := float64(w2)/2 - N1*(N1+1)/2
	sigma := math.Sqrt(N1 * N2 / 12 * ((N + 1) - tie/(N*(N-1))))
	if sigma == 0 {
		return 1
	}
	z := (u - N1*N2/2) / sigma
	return math.Min(1, 2*distuv.UnitNormal.CDF(-math.Abs(z)))
}

// MinMannWhitneyP is the smallest two-sided p-value the U test can give
// for samples of n1 and n2 values (no ties): complete separation, which is
// 2 of the C(n1+n2, n1) equally likely orderings. With 3 runs a side it is
// 0.1, so at α = 0.05 no difference can ever be significant.
func MinMannWhitneyP(n1, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	return math.Min(1, 2/combin.GeneralizedBinomial(float64(n1+n2), float64(n1)))
}

// RunsNeeded is the smallest number of runs per side with which the U test
// can reach significance at alpha (benchstat's "need >= 4 samples to detect
// a difference at alpha level 0.05").
func RunsNeeded(alpha float64) int {
	for n := 1; n < 1000; n++ {
		if MinMannWhitneyP(n, n) <= alpha {
			return n
		}
	}
	return 1000
}

// uLowerCritical returns the largest k ≥ 0 with P(U ≤ k−1) ≤ alpha/2 under
// the null hypothesis (no ties), for samples of m and n: the order statistic
// that bounds the Hodges-Lehmann confidence interval. k = 0 means no
// interval exists at this level with so few samples.
func uLowerCritical(m, n int, alpha float64) int {
	if m+n <= exactMWULimit {
		groups := make([]tieGroup, m+n)
		for i := range groups {
			groups[i] = tieGroup{size: 1, rank2: 2 * (i + 1)}
		}
		counts := rankSumCounts(groups, m)
		total := combin.GeneralizedBinomial(float64(m+n), float64(m))
		w2min := m * (m + 1) // U = W − m(m+1)/2, so U = u at W₂ = w2min + 2u
		var cum float64
		k := 0
		for u := 0; u <= m*n; u++ {
			cum += counts[w2min+2*u] / total
			if cum > alpha/2+1e-12 {
				break
			}
			k = u + 1
		}
		return k
	}
	mn := float64(m * n)
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	k := int(math.Floor(mn/2 - z*math.Sqrt(mn*float64(m+n+1)/12)))
	if k < 0 {
		return 0
	}
	return k
}

// HodgesLehmann estimates the shift d between x and y (y ≈ x + d) as the
// median of all pairwise differences yⱼ − xᵢ, with the distribution-free
// confidence interval at level 1−alpha that inverts the U test (Bauer 1972;
// Kayenta's judge uses the same interval): [D₍ₖ₎, D₍ₘₙ₊₁₋ₖ₎] of the sorted
// differences, k from the U distribution. ok is false when the samples are
// too small for any interval at that level.
func HodgesLehmann(x, y []float64, alpha float64) (shift, lo, hi float64, ok bool) {
	m, n := len(x), len(y)
	if m == 0 || n == 0 {
		return 0, 0, 0, false
	}
	d := make([]float64, 0, m*n)
	for _, xi := range x {
		for _, yj := range y {
			d = append(d, yj-xi)
		}
	}
	sort.Float64s(d)
	shift = median(d)
	k := uLowerCritical(m, n, alpha)
	if k < 1 {
		return shift, 0, 0, false
	}
	return shift, d[k-1], d[len(d)-k], true
}

// median of a sample (the mean of the two middle values for an even count);
// it does not modify x.
func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
