package analyze

import (
	"math"
	"slices"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Defaults for a Side's time blocks.
const (
	DefaultBlock     = 100 * time.Millisecond
	DefaultMaxBlocks = 512
)

// histGrowth is the bucket growth of the block histograms: 1 % wide
// logarithmic buckets, so a quantile is within 0.5 %.
const histGrowth = 1.01

var (
	histLogGrowth = math.Log(histGrowth)
	histBuckets   = histIndex(time.Hour) + 1
)

func histIndex(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	return int(math.Log(float64(d)/float64(time.Microsecond))/histLogGrowth) + 1
}

func histValue(i int) float64 {
	if i == 0 {
		return float64(time.Microsecond)
	}
	return float64(time.Microsecond) * math.Exp((float64(i)-0.5)*histLogGrowth)
}

// block is what happened to the requests due in one time block of a run.
type block struct {
	requests, sent, failed int64
	sum                    float64 // latency of sent requests, ns
	max                    time.Duration
	hist                   map[int32]int32 // latency buckets of sent requests
	// frozen is hist as sorted (bucket, count) pairs, built by freeze.
	frozen []bucketCount
}

type bucketCount struct{ i, n int32 }

func (b *block) merge(o *block) {
	b.requests += o.requests
	b.sent += o.sent
	b.failed += o.failed
	b.sum += o.sum
	b.max = max(b.max, o.max)
	if len(o.hist) > 0 && b.hist == nil {
		b.hist = map[int32]int32{}
	}
	for k, v := range o.hist {
		b.hist[k] += v
	}
}

func (b *block) freeze() {
	b.frozen = b.frozen[:0]
	for k, v := range b.hist {
		b.frozen = append(b.frozen, bucketCount{k, v})
	}
	slices.SortFunc(b.frozen, func(x, y bucketCount) int { return int(x.i - y.i) })
}

// blockSeries is one run's (or one label's in one run) history in blocks
// of Width by intended send time, bounded like summary.Series.
type blockSeries struct {
	width  time.Duration
	max    int
	blocks []block
}

func (s *blockSeries) add(r *result.Result) {
	i := int(r.Intended / s.width)
	if r.Intended < 0 {
		i = 0
	}
	for i >= s.max {
		n := (len(s.blocks) + 1) / 2
		for j := range n {
			b := s.blocks[2*j]
			if 2*j+1 < len(s.blocks) {
				b.merge(&s.blocks[2*j+1])
			}
			s.blocks[j] = b
		}
		clear(s.blocks[n:])
		s.blocks = s.blocks[:n]
		s.width *= 2
		i = int(r.Intended / s.width)
	}
	for len(s.blocks) <= i {
		s.blocks = append(s.blocks, block{})
	}
	b := &s.blocks[i]
	b.requests++
	if !r.OK() {
		b.failed++
	}
	if r.Flags&result.NotSent != 0 {
		return
	}
	b.sent++
	b.sum += float64(r.Latency)
	b.max = max(b.max, r.Latency)
	if b.hist == nil {
		b.hist = map[int32]int32{}
	}
	b.hist[int32(min(histIndex(r.Latency), histBuckets-1))]++
}

// Side collects the results of one side of a comparison (one or more runs)
// in time blocks per run and label, in bounded memory. Feed it results with
// Add; it is not safe for concurrent use.
type Side struct {
	width time.Duration
	max   int
	runs  []*sideRun
	byID  map[any]*sideRun
	last  *result.Meta
	cur   *sideRun
}

type sideRun struct {
	total  *blockSeries
	labels map[string]*blockSeries
}

// NewSide returns an empty Side with blocks of width (0 = DefaultBlock),
// at most DefaultMaxBlocks per run, coarsened beyond.
func NewSide(width time.Duration) *Side {
	if width <= 0 {
		width = DefaultBlock
	}
	return &Side{width: width, max: DefaultMaxBlocks, byID: map[any]*sideRun{}}
}

// Add records r of the run whose header is m. Warm-up results are left out.
func (sd *Side) Add(m *result.Meta, r *result.Result) {
	if r.Flags&result.Warmup != 0 {
		return
	}
	if m != sd.last || sd.cur == nil {
		var key any = m
		if m != nil && m.ID != "" {
			key = m.ID
		}
		run, ok := sd.byID[key]
		if !ok {
			run = &sideRun{total: sd.newSeries(), labels: map[string]*blockSeries{}}
			sd.byID[key] = run
			sd.runs = append(sd.runs, run)
		}
		sd.last, sd.cur = m, run
	}
	ls, ok := sd.cur.labels[r.Label]
	if !ok {
		ls = sd.newSeries()
		sd.cur.labels[r.Label] = ls
	}
	ls.add(r)
	sd.cur.total.add(r)
}

// AddMarker implements result.Consumer; a comparison has no use for
// markers.
func (sd *Side) AddMarker(*result.Meta, result.Marker) {}

func (sd *Side) newSeries() *blockSeries { return &blockSeries{width: sd.width, max: sd.max} }

// Runs returns the number of runs seen.
func (sd *Side) Runs() int { return len(sd.runs) }

// coldEnd returns the latest end of a cold phase over the side's runs,
// found by DetectCold on each run's blocks, 0 when none has one.
func (sd *Side) coldEnd() time.Duration {
	var end time.Duration
	for _, run := range sd.runs {
		s := &summary.Sequence{Stride: 1}
		for i, b := range run.total.blocks {
			at := time.Duration(i) * run.total.width
			s.Buckets = append(s.Buckets, summary.SeqBucket{Count: b.sent, Sum: b.sum, First: at, Last: at})
		}
		if c := DetectCold(s); c != nil {
			end = max(end, c.End)
		}
	}
	return end
}

// labelNames returns the labels seen in any run, sorted.
func (sd *Side) labelNames() []string {
	seen := map[string]bool{}
	for _, run := range sd.runs {
		for l := range run.labels {
			seen[l] = true
		}
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// stratum is one run's blocks of one label, in time order.
type stratum struct {
	blocks []*block
	width  time.Duration
}

// strata returns, per run, the blocks of label (of every label with all)
// due at or after skip, frozen for resampling.
func (sd *Side) strata(label string, all bool, skip time.Duration) []stratum {
	var out []stratum
	for _, run := range sd.runs {
		s := run.total
		if !all {
			if s = run.labels[label]; s == nil {
				continue
			}
		}
		var bs []*block
		for i := range s.blocks {
			if time.Duration(i)*s.width < skip {
				continue
			}
			b := &s.blocks[i]
			b.freeze()
			bs = append(bs, b)
		}
		if len(bs) > 0 {
			out = append(out, stratum{bs, s.width})
		}
	}
	return out
}

// blockWidth returns the widest block of the side's runs.
func (sd *Side) blockWidth() time.Duration {
	w := sd.width
	for _, run := range sd.runs {
		w = max(w, run.total.width)
	}
	return w
}
