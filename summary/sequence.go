package summary

import (
	"time"

	"github.com/surge-dev/surge/result"
)

// DefaultSeqBuckets is the number of buckets a Sequence keeps when
// Options.SeqBuckets is zero.
const DefaultSeqBuckets = 1024

// HeadLen is the number of a run's first requests that a Sequence also
// keeps one bucket each, in Head, however far it coarsens: a cold phase of
// 48 requests in a run of 50,000 is one bucket of Buckets, but 48 of Head.
const HeadLen = 1024

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
	// Head holds request k (k < HeadLen) of every run in bucket k, at
	// stride 1 whatever Stride is. It grows as Buckets does, by append, so
	// a short run holds only what it sent.
	Head []SeqBucket

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
	// Server is the sum of their server times, latency minus send lag (the
	// time from the request going out to its response), in nanoseconds:
	// Sum − Server is what they waited in the generator's own queue.
	Server float64
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
	s.Buckets = place(s.Buckets, i, r)
	if r.Seq < HeadLen {
		s.Head = place(s.Head, r.Seq, r)
	}
}

// place adds r to bucket i of bs, growing bs to hold it, and returns bs.
func place(bs []SeqBucket, i uint64, r *result.Result) []SeqBucket {
	for uint64(len(bs)) <= i {
		bs = append(bs, SeqBucket{})
	}
	b := &bs[i]
	if b.Count == 0 || r.Intended < b.First {
		b.First = r.Intended
	}
	if b.Count == 0 || r.Intended > b.Last {
		b.Last = r.Intended
	}
	b.Count++
	b.Sum += float64(r.Latency)
	// A result with no send time (an imported one) reads as no lag.
	b.Server += float64(r.Latency - min(max(r.SendLag(), 0), r.Latency))
	return bs
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
		b.Server += o.Server
	}
}

// clone returns a deep copy of s.
func (s *Sequence) clone() *Sequence {
	c := *s
	c.Buckets = append([]SeqBucket(nil), s.Buckets...)
	c.Head = append([]SeqBucket(nil), s.Head...)
	return &c
}
