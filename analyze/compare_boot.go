package analyze

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/surge-dev/surge/latency"
)

// stats are the figures of a set of blocks, indexed like Metrics.
type stats [metricCount]float64

var quantiles = [...]struct {
	q   float64
	idx int
}{{0.5, 3}, {0.9, 4}, {0.95, 5}, {0.99, 6}}

// accumulator merges blocks.
type accumulator struct {
	counts                 []int64
	requests, sent, failed int64
	sum                    float64
	max                    time.Duration
	span                   float64 // seconds
}

func newAccumulator() *accumulator { return &accumulator{counts: make([]int64, latency.SparseBuckets)} }

func (a *accumulator) reset() {
	clear(a.counts)
	a.requests, a.sent, a.failed, a.sum, a.max, a.span = 0, 0, 0, 0, 0, 0
}

func (a *accumulator) add(b *frozen, width time.Duration) {
	a.requests += b.Requests
	a.sent += b.Sent
	a.failed += b.Failed
	a.sum += b.Sum
	a.max = max(a.max, b.Max)
	a.span += width.Seconds()
	for _, bc := range b.buckets {
		a.counts[bc.Index] += int64(bc.Count)
	}
}

func (a *accumulator) stats() stats {
	var s stats
	s[0] = float64(a.requests)
	if a.requests > 0 {
		s[1] = float64(a.failed) / float64(a.requests)
	}
	if a.sent > 0 {
		s[2] = a.sum / float64(a.sent)
		qi := 0
		var seen int64
		for i, c := range a.counts {
			if c == 0 {
				continue
			}
			seen += c
			for qi < len(quantiles) && seen >= int64(math.Ceil(quantiles[qi].q*float64(a.sent))) {
				s[quantiles[qi].idx] = latency.SparseValue(i)
				qi++
			}
			if qi == len(quantiles) {
				break
			}
		}
	}
	s[7] = float64(a.max)
	if a.span > 0 {
		s[8] = float64(a.requests-a.failed) / a.span
	}
	return s
}

// blockLength is the number of consecutive blocks drawn together for n
// blocks: n^(1/3), the order of the optimal length for the variance of a
// mean (Hall, Horowitz and Jing 1995).
func blockLength(n int) int { return max(1, int(math.Round(math.Cbrt(float64(n))))) }

// resample draws a bootstrap sample of strata, the runs of one side, and
// accumulates it. With runs set it is hierarchical: first as many runs as
// there are, with replacement, so that the drift between runs is in the
// sample, then within each run drawn a circular block bootstrap of its
// blocks, so that the variation inside a run is too. Without, every run
// is kept and only its blocks are resampled.
func resample(a *accumulator, strata []stratum, runs bool, rng *rand.Rand) {
	a.reset()
	for i := range strata {
		st := &strata[i]
		if runs {
			st = &strata[rng.IntN(len(strata))]
		}
		n := len(st.blocks)
		l := blockLength(n)
		for taken := 0; taken < n; {
			start := rng.IntN(n)
			for j := 0; j < l && taken < n; j++ {
				a.add(&st.blocks[(start+j)%n], st.width)
				taken++
			}
		}
	}
}

func point(strata []stratum) stats {
	a := newAccumulator()
	for _, st := range strata {
		for i := range st.blocks {
			a.add(&st.blocks[i], st.width)
		}
	}
	return a.stats()
}

// quantileOf returns the q-quantile (q in [0,1]) of sorted xs by linear
// interpolation.
func quantileOf(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}
