package summary

import (
	"slices"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Defaults for Blocks.
const (
	DefaultBlock     = 100 * time.Millisecond
	DefaultMaxBlocks = 512
)

// Block is what happened to the requests due in one time block of a run.
type Block struct {
	// Requests counts every result, Sent those that went out, Failed
	// those not OK (including not sent).
	Requests, Sent, Failed int64
	// Sum is the total latency of the sent requests, in ns; Max the
	// largest.
	Sum float64
	Max time.Duration
	// Latency holds the latencies of the sent requests.
	Latency latency.Sparse
}

func (b *Block) merge(o *Block) {
	b.Requests += o.Requests
	b.Sent += o.Sent
	b.Failed += o.Failed
	b.Sum += o.Sum
	b.Max = max(b.Max, o.Max)
	b.Latency.Merge(&o.Latency)
}

// BlockSeries is one run's (or one label's in one run) history in blocks
// of Width by intended send offset from the run's start. Memory is
// bounded as in Series: past its maximum, blocks merge pairwise and Width
// doubles.
type BlockSeries struct {
	Width time.Duration
	// Blocks are in time order: block i holds the results due in
	// [i·Width, (i+1)·Width) (those due before the start in block 0).
	Blocks []Block

	max int
}

func (s *BlockSeries) add(r *result.Result) {
	i := int(r.Intended / s.Width)
	if r.Intended < 0 {
		i = 0
	}
	for i >= s.max {
		s.Blocks = Halve(s.Blocks, (*Block).merge)
		s.Width *= 2
		i = int(r.Intended / s.Width)
	}
	for len(s.Blocks) <= i {
		s.Blocks = append(s.Blocks, Block{})
	}
	b := &s.Blocks[i]
	b.Requests++
	if !r.OK() {
		b.Failed++
	}
	if r.Flags&result.NotSent != 0 {
		return
	}
	b.Sent++
	b.Sum += float64(r.Latency)
	b.Max = max(b.Max, r.Latency)
	b.Latency.Record(r.Latency)
}

// RunBlocks are the blocks of one run: of all its results and per label.
type RunBlocks struct {
	Total  *BlockSeries
	Labels map[string]*BlockSeries
	// Summary holds the run's statistics, so that the health of the
	// generator during the run can be judged (analyze.GeneratorHealth).
	Summary *Summary
	// Source names where the run came from (Blocks.Source when its first
	// result came), e.g. a results file; "" when the caller did not say.
	Source string
}

// Blocks collects results in time blocks per run and label, in bounded
// memory: what a comparison of runs resamples, since requests close in
// time share the server's state. Warm-up results are left out. It
// implements result.Consumer and is not safe for concurrent use.
type Blocks struct {
	// Source names the input being read (a results file, say), recorded
	// in every run whose first result comes while it is set.
	Source string

	width time.Duration
	max   int
	runs  []*RunBlocks
	byID  map[any]*RunBlocks
	last  *result.Meta
	cur   *RunBlocks
}

// NewBlocks returns an empty Blocks with blocks of width (0 =
// DefaultBlock), at most DefaultMaxBlocks per run, coarsened beyond.
func NewBlocks(width time.Duration) *Blocks {
	if width <= 0 {
		width = DefaultBlock
	}
	return &Blocks{width: width, max: DefaultMaxBlocks, byID: map[any]*RunBlocks{}}
}

// Add records r of the run whose header is m; runs are told apart by
// Meta.ID, or by the *Meta pointer when the ID is empty.
func (bs *Blocks) Add(m *result.Meta, r *result.Result) {
	if r.Flags&result.Warmup != 0 {
		return
	}
	if m != bs.last || bs.cur == nil {
		var key any = m
		if m != nil && m.ID != "" {
			key = m.ID
		}
		run, ok := bs.byID[key]
		if !ok {
			run = &RunBlocks{Total: bs.newSeries(), Labels: map[string]*BlockSeries{}, Summary: New(Options{}), Source: bs.Source}
			bs.byID[key] = run
			bs.runs = append(bs.runs, run)
		}
		bs.last, bs.cur = m, run
	}
	bs.cur.Summary.Add(m, r)
	ls, ok := bs.cur.Labels[r.Label]
	if !ok {
		ls = bs.newSeries()
		bs.cur.Labels[r.Label] = ls
	}
	ls.add(r)
	bs.cur.Total.add(r)
}

// AddMarker implements result.Consumer: the markers go to the run's
// Summary (the generator's end-of-run figures among them); blocks keep
// none. A marker of a run with no result yet is dropped.
func (bs *Blocks) AddMarker(m *result.Meta, mk result.Marker) {
	if run := bs.run(m); run != nil {
		run.Summary.AddMarker(m, mk)
	}
}

// run returns the run whose header is m, nil when none has been seen.
func (bs *Blocks) run(m *result.Meta) *RunBlocks {
	if m == bs.last && bs.cur != nil {
		return bs.cur
	}
	var key any = m
	if m != nil && m.ID != "" {
		key = m.ID
	}
	return bs.byID[key]
}

func (bs *Blocks) newSeries() *BlockSeries { return &BlockSeries{Width: bs.width, max: bs.max} }

// Runs returns the runs seen, in the order their first result came.
func (bs *Blocks) Runs() []*RunBlocks { return bs.runs }

// Labels returns the labels seen in any run, sorted.
func (bs *Blocks) Labels() []string {
	seen := map[string]bool{}
	for _, run := range bs.runs {
		for l := range run.Labels {
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

// Width returns the widest block of the runs (runs longer than
// DefaultMaxBlocks blocks have wider ones).
func (bs *Blocks) Width() time.Duration {
	w := bs.width
	for _, run := range bs.runs {
		w = max(w, run.Total.Width)
	}
	return w
}
