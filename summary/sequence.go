package summary

import (
	"time"

	"github.com/surge-dev/surge/result"
)

// DefaultSeqBuckets is the number of buckets a Sequence keeps when
// Options.SeqBuckets is zero.
const DefaultSeqBuckets = 1024

// Sequence is the latency of sent requests in the order they were
// scheduled, downsampled to a bounded number of buckets: bucket i holds the
// requests whose sequence number falls in [i·Stride, (i+1)·Stride). When the
// run outgrows the buckets they merge pairwise and Stride doubles, so memory
// stays flat whatever the run's length. Results of several runs overlay:
// request k of every run lands in the same bucket. The cold phase is found
// on it, since a cold phase is counted in requests.
type Sequence struct {
	// Stride is a power of two.
	Stride  uint64
	Buckets []SeqBucket

	max   int
	shift uint // Stride == 1 << shift
}

// SeqBucket sums the sent requests of one Sequence bucket.
type SeqBucket struct {
	Count int64
	// Sum is the sum of their latencies, in nanoseconds.
	Sum float64
	// First and Last are the earliest and latest intended send offsets
	// (from their run's start) among them.
	First, Last time.Duration
}

// NewSequence returns an empty Sequence of at most maxBuckets buckets (0 =
// DefaultSeqBuckets).
func NewSequence(maxBuckets int) *Sequence {
	if maxBuckets < 2 {
		maxBuckets = DefaultSeqBuckets
	}
	return &Sequence{Stride: 1, max: maxBuckets}
}

// Add places r, a sent result, in its bucket.
func (s *Sequence) Add(r *result.Result) {
	i := r.Seq >> s.shift
	for i >= uint64(s.max) {
		s.coarsen()
		i = r.Seq >> s.shift
	}
	for uint64(len(s.Buckets)) <= i {
		s.Buckets = append(s.Buckets, SeqBucket{})
	}
	b := &s.Buckets[i]
	if b.Count == 0 || r.Intended < b.First {
		b.First = r.Intended
	}
	if b.Count == 0 || r.Intended > b.Last {
		b.Last = r.Intended
	}
	b.Count++
	b.Sum += float64(r.Latency)
}

func (s *Sequence) coarsen() {
	s.Buckets = Halve(s.Buckets, (*SeqBucket).merge)
	s.Stride *= 2
	s.shift++
}

func (b *SeqBucket) merge(o *SeqBucket) {
	switch {
	case b.Count == 0:
		*b = *o
	case o.Count > 0:
		b.First, b.Last = min(b.First, o.First), max(b.Last, o.Last)
		b.Count += o.Count
		b.Sum += o.Sum
	}
}

// clone returns a deep copy of s.
func (s *Sequence) clone() *Sequence {
	c := *s
	c.Buckets = append([]SeqBucket(nil), s.Buckets...)
	return &c
}
