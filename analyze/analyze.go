// Package analyze turns a run's summary into findings a backend engineer can
// act on: a cold phase at the start, latency spikes, the point where the
// server stopped keeping up with the offered rate, whether the generator
// itself limited the run; it also compares runs with bootstrap confidence
// intervals and searches for the highest rate that holds an SLO.
//
// Every finding carries the numbers it rests on and a sentence saying what
// they mean. The methods, their thresholds and their limits are described
// in docs/methods.md.
package analyze

import (
	"math"
	"slices"
	"time"
)

// median returns the median of xs (which it sorts), 0 when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// medianMAD returns the median of xs and its median absolute deviation
// scaled by 1.4826, which estimates the standard deviation of normal data
// while ignoring outliers. xs is not modified.
func medianMAD(xs []float64) (med, sigma float64) {
	c := slices.Clone(xs)
	med = median(c)
	for i, x := range xs {
		c[i] = math.Abs(x - med)
	}
	return med, 1.4826 * median(c)
}

func dur(nanos float64) time.Duration { return time.Duration(math.Round(nanos)) }
