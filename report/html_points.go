package report

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Point classes: how a request ended, the colour of its dot.
const (
	ClassOK      = 0
	ClassError   = 1
	ClassNotSent = 2
	numClasses   = 3
)

// DefaultMaxPoints is the number of request points a Points keeps when
// NewPoints is given 0: enough to see every request of a run of a few
// minutes at a few hundred requests per second, small enough to keep a
// report of a million requests under a few megabytes.
const DefaultMaxPoints = 200_000

// pointBuckets is the number of time buckets a Points spreads its budget
// over; when a run outgrows them, neighbours merge and the width doubles.
const pointBuckets = 1024

// Point is one request on the latency-over-time chart.
type Point struct {
	// At is the request's intended send time from the start of its run.
	At      time.Duration
	Latency time.Duration
	Class   uint8
}

// Points samples the requests of one run for the latency-over-time chart
// in bounded memory. While a run has at most its budget of requests every one is
// kept. Beyond, each time bucket keeps the slowest request of each class
// (so spikes and failures are never sampled away) and a uniform random
// sample of the rest, in proportion to how many requests the bucket saw.
// It is not safe for concurrent use.
type Points struct {
	// Total counts every request added.
	Total int64

	budget  int
	all     []Point       // every point, until there are more than budget
	sampled bool          // whether buckets replaced all
	width   time.Duration // of one bucket
	perCap  int           // sample capacity of one bucket
	buckets []pointBucket
	rng     *rand.Rand
}

type pointBucket struct {
	n      int64             // requests seen
	sample []Point           // uniform sample of them, at most perCap
	max    [numClasses]Point // slowest of each class
	has    [numClasses]bool  // whether max[c] is set
}

// NewPoints returns an empty Points keeping about n points (0 =
// DefaultMaxPoints). The sample is deterministic for a given input.
func NewPoints(n int) *Points {
	if n <= 0 {
		n = DefaultMaxPoints
	}
	return &Points{
		budget: n,
		width:  time.Millisecond,
		perCap: max(1, n/pointBuckets),
		rng:    rand.New(rand.NewPCG(1, 2)),
	}
}

// ClassOf returns the class of r.
func ClassOf(r *result.Result) uint8 {
	switch {
	case r.Flags&result.NotSent != 0:
		return ClassNotSent
	case r.OK():
		return ClassOK
	}
	return ClassError
}

// Add records r, whose offsets count from its run's start plus shift (the
// run's start minus the chart's origin, for files merged into one run).
func (p *Points) Add(r *result.Result, shift time.Duration) {
	p.Total++
	pt := Point{At: max(0, r.Intended+shift), Latency: r.Latency, Class: ClassOf(r)}
	if !p.sampled {
		if len(p.all) < p.budget {
			p.all = append(p.all, pt)
			return
		}
		// Over budget: from now on, sample per time bucket.
		p.sampled = true
		for _, q := range p.all {
			p.sample(q)
		}
		p.all = nil
	}
	p.sample(pt)
}

func (p *Points) sample(pt Point) {
	i := int(pt.At / p.width)
	for i >= pointBuckets {
		p.coarsen()
		i = int(pt.At / p.width)
	}
	for len(p.buckets) <= i {
		p.buckets = append(p.buckets, pointBucket{})
	}
	b := &p.buckets[i]
	b.n++
	if c := pt.Class; !b.has[c] || pt.Latency > b.max[c].Latency {
		b.max[c], b.has[c] = pt, true
	}
	// Reservoir sampling (Vitter's algorithm R).
	if len(b.sample) < p.perCap {
		b.sample = append(b.sample, pt)
	} else if j := p.rng.Int64N(b.n); j < int64(p.perCap) {
		b.sample[j] = pt
	}
}

// coarsen merges buckets pairwise, by the rule of the summary's series,
// and doubles their width. The merged sample takes from each side in
// proportion to the requests it saw, so it stays a uniform sample of both.
func (p *Points) coarsen() {
	p.buckets = summary.Halve(p.buckets, func(into, from *pointBucket) { *into = p.merge(*into, *from) })
	p.width *= 2
}

func (p *Points) merge(a, b pointBucket) pointBucket {
	out := pointBucket{n: a.n + b.n}
	for c := range numClasses {
		switch {
		case a.has[c] && b.has[c]:
			out.max[c], out.has[c] = a.max[c], true
			if b.max[c].Latency > a.max[c].Latency {
				out.max[c] = b.max[c]
			}
		case a.has[c]:
			out.max[c], out.has[c] = a.max[c], true
		case b.has[c]:
			out.max[c], out.has[c] = b.max[c], true
		}
	}
	if len(a.sample)+len(b.sample) <= p.perCap {
		out.sample = append(a.sample, b.sample...)
		return out
	}
	// Take k from a and perCap-k from b, k proportional to a's share.
	k := int(float64(p.perCap)*float64(a.n)/float64(out.n) + 0.5)
	k = min(k, len(a.sample))
	k = max(k, p.perCap-len(b.sample))
	p.rng.Shuffle(len(a.sample), func(i, j int) { a.sample[i], a.sample[j] = a.sample[j], a.sample[i] })
	p.rng.Shuffle(len(b.sample), func(i, j int) { b.sample[i], b.sample[j] = b.sample[j], b.sample[i] })
	out.sample = append(a.sample[:k], b.sample[:p.perCap-k]...)
	return out
}

// Kept returns the kept points in time order: every request when no more
// than the budget were added, else the per-bucket maxima and samples.
func (p *Points) Kept() []Point {
	if !p.sampled {
		out := slices.Clone(p.all)
		slices.SortStableFunc(out, func(x, y Point) int { return cmpDur(x.At, y.At) })
		return out
	}
	var out []Point
	for i := range p.buckets {
		b := &p.buckets[i]
		from := len(out)
		out = append(out, b.sample...)
		for c := range numClasses {
			if b.has[c] && !slices.Contains(out[from:], b.max[c]) {
				out = append(out, b.max[c])
			}
		}
		slices.SortStableFunc(out[from:], func(x, y Point) int {
			if x.At != y.At {
				return cmpDur(x.At, y.At)
			}
			return cmpDur(x.Latency, y.Latency)
		})
	}
	return out
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
