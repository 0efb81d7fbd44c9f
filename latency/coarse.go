package latency

import (
	"math"
	"time"
)

// Coarse buckets grow by coarseGrowth: each bucket spans 2 % of its value,
// so a quantile is within 1 % of the truth; 1µs … 1h takes coarseBuckets.
const (
	coarseGrowth  = 1.02
	coarseBuckets = 1110 // ceil(ln(3.6e9)/ln(1.02)) + 1
)

var coarseLogGrowth = math.Log(coarseGrowth)

// Coarse is a small mergeable latency histogram for time windows: 2 %-wide
// logarithmic buckets from 1µs to 1h in 4.4 KB, with exact count, min, max
// and mean. Use Histogram where 3 significant digits matter; Coarse where
// there are hundreds of them (per window, per label). The zero value is
// ready to use.
type Coarse struct {
	counts [coarseBuckets]uint32
	n      int64
	min    time.Duration
	max    time.Duration
	sum    float64
}

func coarseIndex(d time.Duration) int {
	if d <= Lowest {
		return 0
	}
	i := int(math.Log(float64(d)/float64(Lowest))/coarseLogGrowth) + 1
	return min(i, coarseBuckets-1)
}

// coarseValue is the geometric middle of bucket i.
func coarseValue(i int) time.Duration {
	if i == 0 {
		return Lowest
	}
	return time.Duration(float64(Lowest) * math.Exp((float64(i-1)+0.5)*coarseLogGrowth))
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

// Quantile returns the duration at quantile q in [0,1], within 1 %, never
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
