package latency

import (
	"math"
	"slices"
	"time"
)

// Sparse buckets are logarithmic, each 1 % wider than the one below, from
// 1µs to 1h: a quantile taken at a bucket's geometric middle is within
// 0.5 % of the truth.
const sparseGrowth = 1.01

var (
	sparseLogGrowth = math.Log(sparseGrowth)
	// SparseBuckets is the number of Sparse buckets; bucket indexes are in
	// [0, SparseBuckets).
	SparseBuckets = sparseIndex(time.Hour) + 1
)

// Sparse is a mergeable latency histogram for the many small sets a
// bootstrap resamples, the time blocks of a run (summary.Blocks): 1 %-wide
// logarithmic buckets from 1µs to 1h, stored as a map of the buckets in
// use, so a block of a few hundred requests costs a few dozen entries
// where a Coarse costs 8 KB. It keeps no extremes or sum: a block keeps
// its own. The zero value is ready to use.
//
// It is not a Coarse because compare's figures are computed on its
// buckets, and a Coarse's (1.6 % log-linear) would change them.
type Sparse struct {
	counts map[int32]int32
}

// SparseBucket is one bucket in use of a Sparse: its index and count.
type SparseBucket struct{ Index, Count int32 }

func sparseIndex(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	return int(math.Log(float64(d)/float64(time.Microsecond))/sparseLogGrowth) + 1
}

// SparseValue returns the geometric middle of bucket i, in nanoseconds.
func SparseValue(i int) float64 {
	if i == 0 {
		return float64(time.Microsecond)
	}
	return float64(time.Microsecond) * math.Exp((float64(i)-0.5)*sparseLogGrowth)
}

// Record adds one duration; durations of 1µs or less share bucket 0,
// those of an hour or more the last one.
func (s *Sparse) Record(d time.Duration) {
	if s.counts == nil {
		s.counts = map[int32]int32{}
	}
	s.counts[int32(min(sparseIndex(d), SparseBuckets-1))]++
}

// Merge adds every value recorded in o to s.
func (s *Sparse) Merge(o *Sparse) {
	if len(o.counts) > 0 && s.counts == nil {
		s.counts = map[int32]int32{}
	}
	for k, v := range o.counts {
		s.counts[k] += v
	}
}

// Buckets appends the buckets in use to dst[:0], by increasing index, and
// returns it.
func (s *Sparse) Buckets(dst []SparseBucket) []SparseBucket {
	dst = dst[:0]
	for k, v := range s.counts {
		dst = append(dst, SparseBucket{k, v})
	}
	slices.SortFunc(dst, func(x, y SparseBucket) int { return int(x.Index - y.Index) })
	return dst
}
