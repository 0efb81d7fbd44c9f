// Package latency records durations in mergeable HDR histograms.
//
// A Histogram keeps 3 significant digits from 1µs to 1h in constant memory,
// so percentiles of any number of requests, and of several runs merged, are
// exact to within 0.1 % — never averaged, never sampled.
package latency

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	// Lowest is the smallest duration the histogram is specified for; shorter
	// values are still recorded, at 1ns resolution.
	Lowest = time.Microsecond
	// Highest is the largest duration the histogram holds; longer values are
	// recorded as Highest (max stays exact).
	Highest = time.Hour
	// SigFigs is the number of significant decimal digits kept.
	SigFigs = 3
)

// Histogram is a latency distribution with exact count, min, max, mean and
// standard deviation beside HDR quantiles. The zero value is not usable;
// call New.
type Histogram struct {
	h     *hdrhistogram.Histogram
	n     int64
	min   time.Duration
	max   time.Duration
	sum   float64 // ns
	sumSq float64 // ns²
}

// New returns an empty Histogram.
func New() *Histogram {
	// The HDR range starts at 1ns, not Lowest: its resolution is a power-of-two
	// unit at most as large as the lowest value, and 1ns keeps 3 significant
	// digits even for the fastest loopback requests.
	return &Histogram{h: hdrhistogram.New(1, int64(Highest), SigFigs)}
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	f := float64(d)
	h.sum += f
	h.sumSq += f * f
	v := int64(d)
	if v < 1 {
		v = 1
	} else if v > int64(Highest) {
		v = int64(Highest)
	}
	_ = h.h.RecordValue(v) // cannot fail: v is clamped to the trackable range
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
	h.sumSq += o.sumSq
	h.h.Merge(o.h)
}

// Clone returns an independent copy of h.
func (h *Histogram) Clone() *Histogram {
	c := New()
	c.Merge(h)
	return c
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.n, h.min, h.max, h.sum, h.sumSq = 0, 0, 0, 0, 0
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() int64 { return h.n }

// Min returns the smallest recorded duration, exactly.
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the largest recorded duration, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Total returns the sum of all recorded durations.
func (h *Histogram) Total() time.Duration { return time.Duration(h.sum) }

// Mean returns the arithmetic mean, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// StdDev returns the population standard deviation, or 0 when empty.
func (h *Histogram) StdDev() time.Duration {
	if h.n == 0 {
		return 0
	}
	m := h.sum / float64(h.n)
	v := h.sumSq/float64(h.n) - m*m
	if v < 0 {
		v = 0
	}
	return time.Duration(math.Sqrt(v))
}

// Quantile returns the duration below or at which a fraction q of the
// recorded durations fall, q in [0,1]. Quantile(0) is Min and Quantile(1) is
// Max, exactly; other values are within the histogram's 3 significant digits
// and never outside [Min, Max].
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	d := time.Duration(h.h.ValueAtQuantile(q * 100))
	return min(max(d, h.min), h.max)
}

// CountBelow returns how many recorded durations are below d. Durations
// within the histogram's resolution of d (0.1 %) may land on either side.
func (h *Histogram) CountBelow(d time.Duration) int64 {
	if h.n == 0 || d <= h.min {
		return 0
	}
	if d > h.max {
		return h.n
	}
	return h.CountsBelow([]time.Duration{d})[0]
}

// CountsBelow returns CountBelow of each of ds, which must be in ascending
// order, in one pass over the histogram: CountBelow walks every bucket
// (tens of thousands for 1ns … 1h), so a caller with many bounds (a
// histogram drawn in 60 bins, once a second by the live dashboard) calls
// this once instead.
func (h *Histogram) CountsBelow(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	if h.n == 0 {
		return out
	}
	i := 0
	for i < len(ds) && ds[i] <= h.min {
		i++ // 0
	}
	var c int64
	for _, b := range h.h.Distribution() {
		for i < len(ds) && ds[i] <= h.max && b.From >= int64(ds[i]) {
			out[i] = c
			i++
		}
		if i == len(ds) || ds[i] > h.max {
			break
		}
		c += b.Count
	}
	for ; i < len(ds); i++ {
		if ds[i] > h.max {
			out[i] = h.n
		} else {
			out[i] = c
		}
	}
	return out
}
