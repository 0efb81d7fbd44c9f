// Package summary folds a stream of results into per-label and total
// statistics in constant memory: HDR histograms, counters and a bounded set
// of error strings, whatever the number of results.
//
// It follows vegeta's definitions (lib/metrics.go) where vegeta has one —
// requests, rate, throughput, duration, wait, success — with surge's
// measurement rules: latency is measured from the intended send time, and a
// request that was never sent is counted, not dropped.
package summary

import (
	"slices"
	"sort"
	"time"

	"github.com/surge-dev/surge/result"
)

// DefaultBounds are the Gatling-style distribution bounds used when
// Options.Bounds is empty: t < 800ms, 800ms <= t < 1200ms, t >= 1200ms.
var DefaultBounds = []time.Duration{800 * time.Millisecond, 1200 * time.Millisecond}

// DefaultLateAfter is the send lag above which a request counts as late when
// Options.LateAfter is zero.
const DefaultLateAfter = time.Millisecond

// MaxErrors is the number of distinct error strings kept per Stats; results
// with further distinct errors are counted in Stats.OtherErrors.
const MaxErrors = 1000

// Options configures a Summary. The zero value is usable.
type Options struct {
	// Bounds are the Gatling-style distribution bounds; empty means
	// DefaultBounds. They are sorted and deduplicated by New.
	Bounds []time.Duration
	// Hist, if set, are the bucket bounds of a vegeta hist[...] report
	// (report.Hist), counted exactly at Add time into Stats.Hist.
	Hist []time.Duration
	// IncludeWarmup counts results flagged result.Warmup. By default they
	// are skipped and only counted in Summary.WarmupSkipped.
	IncludeWarmup bool
	// LateAfter is the send lag above which a request counts as late;
	// zero means DefaultLateAfter.
	LateAfter time.Duration
	// Window is the initial width of Stats.Series windows (0 =
	// DefaultWindow); MaxWindows bounds their number (0 =
	// DefaultMaxWindows), beyond which windows merge and widen.
	Window     time.Duration
	MaxWindows int
	// SeqBuckets bounds each Stats.Sequence (0 = DefaultSeqBuckets).
	SeqBuckets int
}

// Summary aggregates results into total and per-label Stats. It is not safe
// for concurrent use.
type Summary struct {
	// Total holds the statistics of every counted result.
	Total *Stats
	// Runs are the distinct runs seen, in the order their first result
	// was added. Runs are told apart by Meta.ID, or by the *Meta pointer
	// when the ID is empty.
	Runs []result.Meta
	// WarmupSkipped counts results skipped because they were flagged
	// result.Warmup and Options.IncludeWarmup was false.
	WarmupSkipped int64
	// Markers are the runs' phase markers on the wall clock, in the order
	// added.
	Markers []Marker

	opts   Options
	labels map[string]*Stats
	// aliased is true while every result had the label onlyLabel; see Add.
	aliased   bool
	onlyLabel string
	runIDs    map[string]int // index in Runs
	runPtrs   map[*result.Meta]int
	lastMeta  *result.Meta
	lastRun   int // lastMeta's index in Runs

	// Inputs are the runs of results files the results came from, as
	// read, in the order added (AddInput); empty when the caller did not
	// say. (After the fields Add uses, which stay together.)
	Inputs []Input

	signals signals
}

// New returns an empty Summary configured by o.
func New(o Options) *Summary {
	o.Bounds = normalize(o.Bounds)
	if len(o.Bounds) == 0 {
		o.Bounds = slices.Clone(DefaultBounds)
	}
	o.Hist = normalize(o.Hist)
	if o.LateAfter <= 0 {
		o.LateAfter = DefaultLateAfter
	}
	s := &Summary{
		opts:    o,
		labels:  map[string]*Stats{},
		runIDs:  map[string]int{},
		runPtrs: map[*result.Meta]int{},
	}
	s.Total = s.newStats("")
	return s
}

// normalize returns a sorted copy of ds without duplicates.
func normalize(ds []time.Duration) []time.Duration {
	if len(ds) == 0 {
		return nil
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return slices.Compact(ds)
}

// Options returns the options in effect, with defaults filled in.
func (s *Summary) Options() Options { return s.opts }

// Labels returns the per-label statistics, sorted by label.
func (s *Summary) Labels() []*Stats {
	if s.aliased {
		return []*Stats{s.alias()}
	}
	out := make([]*Stats, 0, len(s.labels))
	for _, st := range s.labels {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// Label returns the statistics of one label, or nil if none was seen.
func (s *Summary) Label(name string) *Stats {
	if s.aliased && name == s.onlyLabel {
		return s.alias()
	}
	return s.labels[name]
}

// Add folds one result in. m is the header of the run r belongs to: offsets
// in r are relative to m.Start, so results of several runs (files) are put on
// one wall-clock time line, m.Start + offset. A nil m stands for a run with
// an empty header. Add does not allocate once every label, error string and
// run has been seen.
func (s *Summary) Add(m *result.Meta, r *result.Result) {
	if m == nil {
		m = &emptyMeta
	}
	if m != s.lastMeta {
		s.addRun(m)
	}
	if r.Flags&result.Warmup != 0 && !s.opts.IncludeWarmup {
		s.WarmupSkipped++
		return
	}
	// While every result has had the same label, that label's statistics
	// are Total's: most runs have one label, and aggregating twice would
	// double the cost of reading a file. The label gets its own copy when a
	// second label appears.
	if len(s.labels) == 0 && !s.aliased {
		s.aliased, s.onlyLabel = true, r.Label
	}
	if s.aliased {
		if r.Label == s.onlyLabel {
			s.Total.add(m.Start, r, &s.opts)
			return
		}
		s.labels[s.onlyLabel] = s.Total.clone(s.onlyLabel)
		s.aliased = false
	}
	st, ok := s.labels[r.Label]
	if !ok {
		st = s.newStats(r.Label)
		s.labels[r.Label] = st
	}
	s.Total.add(m.Start, r, &s.opts)
	st.add(m.Start, r, &s.opts)
}

// alias returns the statistics of the only label seen so far: Total's,
// under the label's name. The copy shares Total's histograms and series.
func (s *Summary) alias() *Stats {
	c := *s.Total
	c.Label = s.onlyLabel
	return &c
}

var emptyMeta result.Meta

// Marker is a result.Marker placed on the wall clock.
type Marker struct {
	At time.Time
	result.Marker
}

// AddMarker records mk, a marker of the run whose header is m.
func (s *Summary) AddMarker(m *result.Meta, mk result.Marker) {
	if m == nil {
		m = &emptyMeta
	}
	if mk.Kind == result.MarkGenerator {
		// End-of-run figures of the generator belong with the run's header.
		for i := range s.Runs {
			r := &s.Runs[i]
			if r.ID == m.ID && r.Start.Equal(m.Start) {
				if r.Attrs == nil {
					r.Attrs = map[string]string{}
				}
				for k, v := range mk.Attrs {
					r.Attrs[k] = v
				}
			}
		}
		return
	}
	s.Markers = append(s.Markers, Marker{At: m.Start.Add(mk.At), Marker: mk})
}

func (s *Summary) addRun(m *result.Meta) {
	s.lastMeta = m
	if m.ID != "" {
		if i, ok := s.runIDs[m.ID]; ok {
			s.lastRun = i
			return
		}
		s.runIDs[m.ID] = len(s.Runs)
	} else {
		if i, ok := s.runPtrs[m]; ok {
			s.lastRun = i
			return
		}
		s.runPtrs[m] = len(s.Runs)
	}
	s.lastRun = len(s.Runs)
	s.Runs = append(s.Runs, *m)
}

// runIndex returns the index in Runs of the run whose header is m, adding
// it when it is new.
func (s *Summary) runIndex(m *result.Meta) int {
	if m != s.lastMeta {
		s.addRun(m)
	}
	return s.lastRun
}

// bucket returns the number of bounds at or below d: 0 for d < bounds[0],
// i for bounds[i-1] <= d < bounds[i], len(bounds) for d >= the last bound.
func bucket(bounds []time.Duration, d time.Duration) int {
	i := 0
	for i < len(bounds) && bounds[i] <= d {
		i++
	}
	return i
}
