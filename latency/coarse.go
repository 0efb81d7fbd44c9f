package latency

import (
	"math"
	"math/bits"
	"time"
)

// Coarse buckets are log-linear, as in HDR histograms: each power of two
// from 1.024µs (2^10 ns) to 73 minutes (2^42 ns) is cut into coarseSub equal
// buckets, so a bucket spans at most 1/64 (1.6 %) of its values and a
// quantile, taken at the bucket's middle, is within 0.8 % of the truth.
// The index is two shifts, no logarithm: Record is on the report's hot path.
const (
	coarseSubBits = 6
	coarseSub     = 1 << coarseSubBits
	coarseMinExp  = 10
	coarseMaxExp  = 42
	coarseBuckets = (coarseMaxExp - coarseMinExp) * coarseSub
)

// Coarse is a small mergeable latency histogram for time windows: 1.6 %-wide
// log-linear buckets from 1µs to 1h in 8 KB, with exact count, min, max and
// mean. Use Histogram where 3 significant digits matter; Coarse where there
// are hundreds of them (per window, per label). The zero value is ready to
// use.
type Coarse struct {
	counts [coarseBuckets]uint32
	n      int64
	min    time.Duration
	max    time.Duration
	sum    float64
}

func coarseIndex(d time.Duration) int {
	v := uint64(d)
	e := bits.Len64(v) - 1
	if e < coarseMinExp {
		return 0
	}
	if e >= coarseMaxExp {
		return coarseBuckets - 1
	}
	return (e-coarseMinExp)<<coarseSubBits | int(v>>(e-coarseSubBits))&(coarseSub-1)
}

// coarseValue is the middle of bucket i.
func coarseValue(i int) time.Duration {
	if i == 0 {
		return Lowest // the bucket of everything below 1.024µs
	}
	e := i>>coarseSubBits + coarseMinExp
	m := uint64(i & (coarseSub - 1))
	lo := (coarseSub + m) << (e - coarseSubBits)
	return time.Duration(lo + 1<<(e-coarseSubBits)/2)
}

// Record adds one duration; negative durations count as zero.
func (c *Coarse) Record(d time.Duration) {
	d = max(d, 0)
	if c.n == 0 || d < c.min {
		c.min = d
	}
	c.max = max(c.max, d)
	c.n++
	c.sum += float64(d)
	c.counts[coarseIndex(d)]++
}

// Merge adds every value recorded in o to c.
func (c *Coarse) Merge(o *Coarse) {
	if o.n == 0 {
		return
	}
	if c.n == 0 || o.min < c.min {
		c.min = o.min
	}
	c.max = max(c.max, o.max)
	c.n += o.n
	c.sum += o.sum
	for i, v := range o.counts {
		c.counts[i] += v
	}
}

// Count returns the number of recorded durations.
func (c *Coarse) Count() int64 { return c.n }

// Min and Max return the extremes, exactly.
func (c *Coarse) Min() time.Duration { return c.min }
func (c *Coarse) Max() time.Duration { return c.max }

// Total returns the sum of the recorded durations.
func (c *Coarse) Total() time.Duration { return time.Duration(c.sum) }

// Mean returns the arithmetic mean, 0 when empty.
func (c *Coarse) Mean() time.Duration {
	if c.n == 0 {
		return 0
	}
	return time.Duration(c.sum / float64(c.n))
}

// Quantile returns the duration at quantile q in [0,1], within 0.8 %, never
// outside [Min, Max]; Quantile(0) and Quantile(1) are exact.
func (c *Coarse) Quantile(q float64) time.Duration {
	if c.n == 0 {
		return 0
	}
	if q <= 0 {
		return c.min
	}
	if q >= 1 {
		return c.max
	}
	rank := int64(math.Ceil(q * float64(c.n)))
	var seen int64
	for i, v := range c.counts {
		seen += int64(v)
		if seen >= rank {
			return min(max(coarseValue(i), c.min), c.max)
		}
	}
	return c.max
}
