package analyze

import (
	"time"

	"github.com/surge-dev/surge/result"
)

// DefaultSeqBuckets is the number of buckets a Sequence keeps when
// RecorderOptions.SeqBuckets is zero.
const DefaultSeqBuckets = 1024

// Sequence is the latency of one label's requests in the order they were
// scheduled, downsampled to a bounded number of buckets: bucket i holds the
// requests whose sequence number falls in [i·Stride, (i+1)·Stride). When the
// run outgrows the buckets they merge pairwise and Stride doubles, so memory
// stays flat whatever the run's length. Results of several runs overlay:
// request k of every run lands in the same bucket.
type Sequence struct {
	Stride  uint64
	Buckets []SeqBucket
	max     int
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

// Mean returns the bucket's mean latency.
func (b *SeqBucket) Mean() time.Duration {
	if b.Count == 0 {
		return 0
	}
	return dur(b.Sum / float64(b.Count))
}

func newSequence(max int) *Sequence { return &Sequence{Stride: 1, max: max} }

func (s *Sequence) add(r *result.Result) {
	i := r.Seq / s.Stride
	for i >= uint64(s.max) {
		s.coarsen()
		i = r.Seq / s.Stride
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
	n := (len(s.Buckets) + 1) / 2
	for i := range n {
		b := s.Buckets[2*i]
		if 2*i+1 < len(s.Buckets) {
			o := s.Buckets[2*i+1]
			switch {
			case b.Count == 0:
				b = o
			case o.Count > 0:
				b.First, b.Last = min(b.First, o.First), max(b.Last, o.Last)
				b.Count += o.Count
				b.Sum += o.Sum
			}
		}
		s.Buckets[i] = b
	}
	clear(s.Buckets[n:])
	s.Buckets = s.Buckets[:n]
	s.Stride *= 2
}

// RecorderOptions configures a Recorder. The zero value is usable.
type RecorderOptions struct {
	// SeqBuckets bounds each Sequence (0 = DefaultSeqBuckets).
	SeqBuckets int
	// IncludeWarmup keeps results flagged result.Warmup, as
	// summary.Options.IncludeWarmup does.
	IncludeWarmup bool
}

// Recorder collects, while results stream, what the analyses need beyond a
// summary.Summary: each label's latency in request order (for the cold
// phase, which is counted in requests). Feed it the same results as the
// summary. It is not safe for concurrent use.
type Recorder struct {
	opts   RecorderOptions
	total  *Sequence
	labels map[string]*Sequence
}

// NewRecorder returns an empty Recorder.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.SeqBuckets < 2 {
		o.SeqBuckets = DefaultSeqBuckets
	}
	return &Recorder{opts: o, total: newSequence(o.SeqBuckets), labels: map[string]*Sequence{}}
}

// Add records r, a result of the run whose header is m (unused today:
// offsets are kept relative to each run's start).
func (rc *Recorder) Add(m *result.Meta, r *result.Result) {
	if r.Flags&result.NotSent != 0 || r.Flags&result.Warmup != 0 && !rc.opts.IncludeWarmup {
		return
	}
	s, ok := rc.labels[r.Label]
	if !ok {
		s = newSequence(rc.opts.SeqBuckets)
		rc.labels[r.Label] = s
	}
	s.add(r)
	rc.total.add(r)
}

// Sequence returns the request-order series of a label, or nil.
func (rc *Recorder) Sequence(label string) *Sequence {
	if rc == nil {
		return nil
	}
	return rc.labels[label]
}

// Total returns the request-order series of all labels together.
func (rc *Recorder) Total() *Sequence {
	if rc == nil {
		return nil
	}
	return rc.total
}
