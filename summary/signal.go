package summary

import (
	"math"
	"slices"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// MaxSignalPoints bounds the points of a Signal: a series that outgrows
// it has its neighbouring points merged pairwise (Halve), so a long run
// keeps its shape at a coarser grain and memory stays flat. 1024 points
// are two for each of the most windows a latency Series keeps.
const MaxSignalPoints = 1024

// Signal is one server-signal series of one run, as its source's
// readings recorded it (see result.Scrape), on the run's time axis. Its
// values are all finite (see finite).
type Signal struct {
	result.Series
	// Run is the run's index in Summary.Runs.
	Run int
	// Points are the series' values, one per successful reading of its
	// source from its first sight, in time order, each covering the time
	// since the reading before: [At−Span, At]. Past MaxSignalPoints they
	// are merged pairwise, so a point may cover several readings. The
	// readings between the series' first sight and its first change are
	// one point (its value then did not move).
	Points []SignalPoint

	firstAt time.Duration // first sight
	cur     float64       // a gauge's current value
	v       float64       // the value given in the current reading
	mark    uint64        // the reading that gave v
	changed bool
	// unset is true while the series has had no finite value: it is
	// first seen at its first finite one.
	unset bool
}

// SignalPoint is a Signal's value over [At−Span, At].
type SignalPoint struct {
	// At is the reading's offset from its run's start (Meta.Start), the
	// axis of result.Result.Intended.
	At time.Duration
	// Span is the time since the source's previous successful reading,
	// 0 at the series' first sight; merged points add their spans.
	Span time.Duration
	// V is a gauge's value (the span-weighted mean of a merged point) or
	// a counter's increase over Span (summed when merged).
	V float64
	// Max is the largest gauge value over the point; for a counter, V.
	Max float64
}

// ScrapeSource is what was read of one source of one run: how many
// readings, how many failed and why the last failure did, how long a
// reading took, and how many series it had and how many of them moved.
type ScrapeSource struct {
	// Run is the run's index in Summary.Runs.
	Run    int
	Source string
	// Readings counts every reading of the source, Failed those that
	// failed; LastErr is the last failure's reason.
	Readings, Failed int
	LastErr          string
	// TookP50 and TookMax are the readings' own latency, median and
	// largest, failed readings included (a timeout is a slow reading).
	TookP50, TookMax time.Duration
	// Series counts the source's series, Changed those that changed at
	// least once (the ones Signals returns): "312 series, 41 changed".
	Series, Changed int
}

// signals is the Summary's fold of server signals, per run.
type signals struct {
	runs map[int]*signalRun
	// all are the series of every run in order of first sight.
	all []*Signal
	// order is the sources in order of first reading.
	order []*scrapeSource
}

type signalRun struct {
	byID    map[uint32]*Signal
	sources map[string]*scrapeSource
}

type scrapeSource struct {
	ScrapeSource
	took latency.Coarse
	// dense are the series that have changed: each gets a point at every
	// successful reading.
	dense   []*Signal
	reading uint64        // successful readings so far
	lastOK  time.Duration // At of the last successful reading
}

var _ result.ScrapeConsumer = (*Summary)(nil)

// AddScrape implements result.ScrapeConsumer: it folds one reading of the
// run whose header is m into the run's signals. Once a run's series are
// known it does not allocate but to grow a series' points to
// MaxSignalPoints.
func (s *Summary) AddScrape(m *result.Meta, sc *result.Scrape) {
	if m == nil {
		m = &emptyMeta
	}
	run := s.runIndex(m)
	sg := &s.signals
	sr := sg.runs[run]
	if sr == nil {
		if sg.runs == nil {
			sg.runs = map[int]*signalRun{}
		}
		sr = &signalRun{byID: map[uint32]*Signal{}, sources: map[string]*scrapeSource{}}
		sg.runs[run] = sr
	}
	src := sr.sources[sc.Source]
	if src == nil {
		src = &scrapeSource{ScrapeSource: ScrapeSource{Run: run, Source: sc.Source}}
		sr.sources[sc.Source] = src
		sg.order = append(sg.order, src)
	}
	src.Readings++
	src.took.Record(sc.Took)
	if sc.Err != "" {
		src.Failed++
		src.LastErr = sc.Err
		return
	}
	var span time.Duration
	if src.reading > 0 {
		span = max(sc.At-src.lastOK, 0)
	}
	src.reading++
	r := src.reading
	for _, se := range sc.New {
		if _, dup := sr.byID[se.ID]; dup {
			continue // the first definition stands
		}
		sig := &Signal{Series: se, Run: run, firstAt: sc.At, cur: se.Initial, unset: !finite(se.Initial)}
		sig.Source = sc.Source
		sr.byID[se.ID] = sig
		sg.all = append(sg.all, sig)
		src.Series++
	}
	for _, v := range sc.Values {
		sig := sr.byID[v.ID]
		if sig == nil || sig.Source != sc.Source || !finite(v.V) {
			continue
		}
		if sig.unset {
			// Its first finite value: the series starts here.
			sig.unset, sig.firstAt, sig.cur, sig.Initial = false, sc.At, v.V, v.V
			continue
		}
		if !moved(sig, v.V) {
			continue
		}
		sig.v, sig.mark = v.V, r
		if !sig.changed {
			src.firstChange(sig)
		}
	}
	for _, sig := range src.dense {
		p := SignalPoint{At: sc.At, Span: span}
		switch {
		case sig.Kind == result.SignalCounter:
			if sig.mark == r {
				p.V = sig.v
			}
		case sig.mark == r:
			sig.cur = sig.v
			p.V = sig.cur
		default:
			p.V = sig.cur
		}
		p.Max = p.V
		sig.add(p)
	}
	src.lastOK = sc.At
}

// moved reports whether v, given for sig in a reading, is a change: a
// gauge's other value or a counter's non-zero increase.
func moved(sig *Signal, v float64) bool {
	if sig.Kind == result.SignalCounter {
		return v != 0
	}
	return v != sig.cur
}

// finite reports whether v is neither NaN nor infinite. Non-finite values
// (a summary's quantile before any observation is NaN) are not folded: a
// reading that gives one leaves the series as it was, and a series first
// seen with one starts at its first finite value, so every point is a
// number (JSON has no NaN).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// firstChange makes sig dense: its points from first sight up to the
// source's previous reading, when it did not move, become one point (two
// when readings passed between: its first sight, then the rest).
func (src *scrapeSource) firstChange(sig *Signal) {
	sig.changed = true
	src.Changed++
	src.dense = append(src.dense, sig)
	still := sig.cur
	if sig.Kind == result.SignalCounter {
		still = 0
	}
	sig.add(SignalPoint{At: sig.firstAt, V: still, Max: still})
	if src.reading > 1 && src.lastOK > sig.firstAt {
		sig.add(SignalPoint{At: src.lastOK, Span: src.lastOK - sig.firstAt, V: still, Max: still})
	}
}

// add appends p, merging the points pairwise when they reach
// MaxSignalPoints.
func (sig *Signal) add(p SignalPoint) {
	if sig.Points == nil {
		sig.Points = make([]SignalPoint, 0, 16)
	}
	sig.Points = append(sig.Points, p)
	if len(sig.Points) < MaxSignalPoints {
		return
	}
	if sig.Kind == result.SignalCounter {
		sig.Points = Halve(sig.Points, mergeCounter)
	} else {
		sig.Points = Halve(sig.Points, mergeGauge)
	}
}

func mergeCounter(into, from *SignalPoint) {
	into.At = from.At
	into.Span += from.Span
	into.V += from.V
	into.Max = into.V
}

func mergeGauge(into, from *SignalPoint) {
	w1, w2 := float64(into.Span), float64(from.Span)
	if w1+w2 > 0 {
		into.V = (into.V*w1 + from.V*w2) / (w1 + w2)
	} else {
		into.V = (into.V + from.V) / 2
	}
	into.Max = max(into.Max, from.Max)
	into.At = from.At
	into.Span += from.Span
}

// Signals returns the server-signal series that changed at least once,
// in (Run, ID) order. Series that never moved cannot go with anything
// and are left out; ScrapeSources counts them.
func (s *Summary) Signals() []*Signal {
	var out []*Signal
	for _, sig := range s.signals.all {
		if sig.changed {
			out = append(out, sig)
		}
	}
	slices.SortStableFunc(out, func(a, b *Signal) int {
		if a.Run != b.Run {
			return a.Run - b.Run
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// ScrapeSources returns what was read of each source of each run, in
// order of their first reading.
func (s *Summary) ScrapeSources() []ScrapeSource {
	out := make([]ScrapeSource, len(s.signals.order))
	for i, src := range s.signals.order {
		out[i] = src.ScrapeSource
		out[i].TookP50 = src.took.Quantile(0.5)
		out[i].TookMax = src.took.Max()
	}
	return out
}
