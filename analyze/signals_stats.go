package analyze

import (
	"math"
	"slices"
)

// The statistics of the server-signal correlation: a rank correlation per
// lag, its p-value with the sample size corrected for autocorrelation
// (Pyper & Peterman 1998), the Benjamini–Hochberg step-up over every test
// of a run, and the binomial tail of episode matches. See docs/methods.md,
// "Server signals".

// ranks returns the average ranks (1-based) of xs: tied values share the
// mean of the ranks they span, so a counter that is mostly zero ranks its
// zeros alike.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// pearson returns the correlation of x and y (equal lengths), 0 when
// either is constant.
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// autocorr fills out with the sample autocorrelations of x at lags
// 1..len(out) (the usual biased estimator, dividing by the lag-0 sum of
// squares), all zero when x is constant, and returns it.
func autocorr(x []float64, out []float64) []float64 {
	maxLag := len(out)
	n := len(x)
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(n)
	var c0 float64
	for _, v := range x {
		c0 += (v - m) * (v - m)
	}
	clear(out)
	if c0 == 0 {
		return out
	}
	for k := 1; k <= maxLag && k < n; k++ {
		var c float64
		for i := 0; i+k < n; i++ {
			c += (x[i] - m) * (x[i+k] - m)
		}
		out[k-1] = c / c0
	}
	return out
}

// essMaxLag bounds the lags of Pyper & Peterman's sum. Their N/5 counted
// the lag-6 autocorrelation of the lab's pause every 6 windows in both the
// pause counter and the latency, and left 16 effective pairs of 120
// (r = 0.81 then fails a family of 300 tests): two series with the same
// period align at some lag of the search by chance, but two series that
// share a period are, on a server, usually one cause seen twice. The AR(1)
// bound below covers the slow decay of a drifting series.
const essMaxLag = 5

// effectiveN returns the number of independent pairs x and y are worth
// for a correlation test. Two series that both drift slowly share few
// independent windows; a spiky series (no autocorrelation) keeps them
// all. It takes the smaller of two estimates: Pyper & Peterman's,
// 1/N* = 1/N + (2/N)·Σ_j (N−j)/N·ρxx(j)·ρyy(j) over lags j up to
// min(N/5, essMaxLag), and
// Bartlett's for two AR(1) series, N·(1−φxφy)/(1+φxφy), with each lag-1
// autocorrelation φ corrected for its small-sample bias (Kendall:
// φ + (1+3φ)/N). Without the correction the test called 9 % of
// independent pairs of AR(1) series with φ = 0.95 correlated at the 5 %
// level (30 windows); see TestSignalTestCalibration. It is bounded to
// [3, N].
func effectiveN(x, y []float64) float64 {
	n := len(x)
	fn := float64(n)
	lags := max(1, min(n/5, essMaxLag))
	var bx, by [essMaxLag]float64
	ax, ay := autocorr(x, bx[:lags]), autocorr(y, by[:lags])
	var s float64
	for j := 1; j <= lags; j++ {
		s += float64(n-j) / fn * ax[j-1] * ay[j-1]
	}
	pp := fn
	if inv := 1/fn + 2/fn*s; inv > 0 {
		pp = 1 / inv
	}
	phi := func(r float64) float64 { return min(0.99, max(-0.99, r+(1+3*r)/fn)) }
	fx, fy := phi(ax[0]), phi(ay[0])
	bart := fn
	if f := fx * fy; f > 0 {
		bart = fn * (1 - f) / (1 + f)
	}
	return min(fn, max(3, min(pp, bart)))
}

// corrP returns the two-sided p-value of a correlation r between series
// worth neff independent pairs: Student's t with neff−2 degrees of freedom,
// t = r·√((neff−2)/(1−r²)).
func corrP(r, neff float64) float64 {
	df := neff - 2
	if df <= 0 {
		return 1
	}
	if math.Abs(r) >= 1 {
		return 0
	}
	t2 := r * r * df / (1 - r*r)
	return betaInc(df/2, 0.5, df/(df+t2))
}

// betaInc returns the regularized incomplete beta function I_x(a, b), by
// the continued fraction of Numerical Recipes (§6.4), written anew.
func betaInc(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction of betaInc by Lentz's method.
func betaCF(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-14
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// benjaminiHochberg returns which of the p-values ps are discoveries at
// false-discovery rate q: the k smallest, for the largest k with
// p(k) ≤ q·k/m. With no true effect among them it names one or more with
// probability at most q.
func benjaminiHochberg(ps []float64, q float64) []bool {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	k := 0
	for i, j := range idx {
		if ps[j] <= q*float64(i+1)/float64(m) {
			k = i + 1
		}
	}
	out := make([]bool, m)
	for _, j := range idx[:k] {
		out[j] = true
	}
	return out
}

// binomTail returns P(X ≥ k) for X ~ Binomial(n, p).
func binomTail(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	// P(X ≥ k) = I_p(k, n−k+1).
	return betaInc(float64(k), float64(n-k+1), p)
}

// ranksNaN returns the average ranks of the known (not NaN) values of xs,
// NaN where xs is NaN.
func ranksNaN(xs []float64) []float64 {
	known := make([]float64, 0, len(xs))
	for _, v := range xs {
		if !math.IsNaN(v) {
			known = append(known, v)
		}
	}
	rk := ranks(known)
	out := make([]float64, len(xs))
	j := 0
	for i, v := range xs {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		out[i] = rk[j]
		j++
	}
	return out
}

// lagCorr is the analysis's test of y[t] against x[t−lag] (lagCorrNaN on
// their ranks), for the calibration tests.
func lagCorr(x, y []float64, lag int) (r, p float64, neff float64) {
	return lagCorrNaN(ranksNaN(x), ranksNaN(y), lag, &pairs{})
}
