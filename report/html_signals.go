package report

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// MaxSignalCharts is the number of server-signal charts a run's page draws:
// the series named in findings first, then those that changed most; the
// page says how many more were recorded.
const MaxSignalCharts = 12

// htmlSignals are the server signals of a run, ready to draw: one stepped
// line per series on the run's time axis (seconds from its origin).
type htmlSignals struct {
	Series []htmlSignal `json:"series"`
	// More counts the series recorded that changed but are not drawn.
	More    int          `json:"more,omitempty"`
	Sources []htmlSource `json:"sources"`
}

// htmlSignal is one series as a step function: V[i] holds from T[i] to
// T[i+1]. A counter is drawn as its increase per second over each reading's
// span (0 where a reading saw no increase), a gauge as its value (the mean
// of the readings a coarsened point holds, their largest in Max).
type htmlSignal struct {
	Name   string `json:"name"` // metric name and labels
	Source int    `json:"source"`
	Kind   string `json:"kind"`
	Named  bool   `json:"named,omitempty"`
	// Unjudged is set for a named series whose findings were not judged
	// (the machine was busy): it moved with the latency, for reading only.
	Unjudged bool      `json:"unjudged,omitempty"`
	T        []float64 `json:"t"`
	V        []float64 `json:"v"`
	Max      []float64 `json:"max,omitempty"`
}

// htmlSource is one scraped source of a run: its readings, how many failed
// and why, and the spans in which readings are missing (a successful
// reading came over 1.5 typical intervals after the one before it).
type htmlSource struct {
	Source   string       `json:"source"`
	Readings int          `json:"readings"`
	Failed   int          `json:"failed"`
	LastErr  string       `json:"last_err,omitempty"`
	Took     string       `json:"took"`
	Series   int          `json:"series"`
	Changed  int          `json:"changed"`
	Missed   [][2]float64 `json:"missed,omitempty"`
}

// AddScrape implements result.ScrapeConsumer: server signals go to the
// run's summary.
func (r *Run) AddScrape(m *result.Meta, s *result.Scrape) { r.Summary.AddScrape(m, s) }

var _ result.ScrapeConsumer = (*Run)(nil)

// sourceKey names a source of one run of a summary.
type sourceKey struct {
	run int
	src string
}

// signalsOf returns what the page draws of the run's server signals, nil
// when none was recorded.
func signalsOf(r *Run, org time.Time) *htmlSignals {
	s := r.Summary
	sigs, srcs := s.Signals(), s.ScrapeSources()
	if len(sigs) == 0 && len(srcs) == 0 {
		return nil
	}
	hs := &htmlSignals{Series: []htmlSignal{}, Sources: []htmlSource{}}
	shift := func(run int) time.Duration {
		if run >= 0 && run < len(s.Runs) && !org.IsZero() {
			return s.Runs[run].Start.Sub(org)
		}
		return 0
	}
	srcIndex := map[sourceKey]int{}
	for _, src := range srcs {
		srcIndex[sourceKey{src.Run, src.Source}] = len(hs.Sources)
		hs.Sources = append(hs.Sources, htmlSource{Source: src.Source, Readings: src.Readings, Failed: src.Failed,
			LastErr: src.LastErr, Took: round(src.TookP50).String() + " p50, " + round(src.TookMax).String() + " max",
			Series: src.Series, Changed: src.Changed})
	}
	// The last reading of each source seen in any series: where a gauge's
	// last value stops holding.
	ends := map[sourceKey]time.Duration{}
	for _, g := range sigs {
		k := sourceKey{g.Run, g.Source}
		if _, ok := srcIndex[k]; !ok {
			srcIndex[k] = len(hs.Sources)
			hs.Sources = append(hs.Sources, htmlSource{Source: g.Source})
		}
		if n := len(g.Points); n > 0 {
			ends[k] = max(ends[k], g.Points[n-1].At)
		}
	}
	for k, i := range srcIndex {
		hs.Sources[i].Missed = missedSpans(sigs, k, shift(k.run))
	}
	named := namedSeries(r.Findings)
	type ranked struct {
		h      htmlSignal
		bucket bool // a histogram's bucket: its _sum and _count say more
		score  float64
	}
	var all []ranked
	for _, g := range sigs {
		k := sourceKey{g.Run, g.Source}
		h := stepsOf(g, shift(g.Run), ends[k])
		h.Name, h.Kind, h.Source = g.Name+g.Labels, g.Kind, srcIndex[k]
		judged, ok := named[g.Source+"\x00"+g.Name+g.Labels]
		h.Named, h.Unjudged = ok, ok && !judged
		all = append(all, ranked{h, strings.HasSuffix(g.Name, "_bucket"), variation(h.T, h.V)})
	}
	// Named first (by judged findings before those left unjudged),
	// histogram buckets last (each histogram has a dozen,
	// which would crowd out everything else), then by how much the series
	// moved for its level; the summary's (run, ID) order breaks ties.
	slices.SortStableFunc(all, func(a, b ranked) int {
		if a.h.Named != b.h.Named {
			if a.h.Named {
				return -1
			}
			return 1
		}
		if a.h.Unjudged != b.h.Unjudged {
			if b.h.Unjudged {
				return -1
			}
			return 1
		}
		if a.bucket != b.bucket {
			if b.bucket {
				return -1
			}
			return 1
		}
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	for i, x := range all {
		if i == MaxSignalCharts {
			hs.More = len(all) - i
			break
		}
		hs.Series = append(hs.Series, x.h)
	}
	return hs
}

// stepsOf turns a series' points into steps on the origin's axis: each
// point holds over [At−Span, At], as the summary defines it, a counter's
// as its increase per second, a gauge's as its value. Time no point
// covers (readings that did not change a counter) is 0 for a counter.
// end is its source's last reading seen, where the line stops.
func stepsOf(g *summary.Signal, shift, end time.Duration) htmlSignal {
	h := htmlSignal{T: []float64{}, V: []float64{}}
	sec := func(d time.Duration) float64 { return round3((d + shift).Seconds()) }
	add := func(t float64, v, mx float64) {
		n := len(h.T)
		if n > 0 && t <= h.T[n-1] {
			// A step at the same time (rounding, a first sight) replaces
			// the one before.
			h.T, h.V, h.Max = h.T[:n-1], h.V[:n-1], h.Max[:n-1]
			n--
		}
		vv, mm := sig4(v), sig4(mx)
		if n > 0 && h.V[n-1] == vv && h.Max[n-1] == mm {
			return // the step goes on
		}
		h.T, h.V, h.Max = append(h.T, t), append(h.V, vv), append(h.Max, mm)
	}
	counter := g.Kind == result.SignalCounter
	coarse := false
	var last time.Duration
	var lastV, lastMax float64
	for i, p := range g.Points {
		v, mx := p.V, p.Max
		if counter {
			v = 0
			if p.Span > 0 {
				v = p.V / p.Span.Seconds()
			}
			mx = v
		}
		from := max(p.At-p.Span, last)
		if counter && i > 0 && from > last {
			add(sec(last), 0, 0) // readings in between saw no increase
		}
		add(sec(from), v, mx)
		coarse = coarse || (!counter && p.Max != p.V)
		last, lastV, lastMax = p.At, v, mx
	}
	if len(g.Points) > 0 {
		if counter {
			lastV, lastMax = 0, 0
		}
		// The line's end: a vertex that add must not fold into the step.
		at := sec(max(last, end))
		if n := len(h.T); n == 0 || at > h.T[n-1] {
			h.T, h.V, h.Max = append(h.T, at), append(h.V, sig4(lastV)), append(h.Max, sig4(lastMax))
		}
	}
	if !coarse {
		h.Max = nil
	}
	return h
}

// missedSpans returns the spans of the source k in which readings are
// missing: a successful reading whose span since the one before exceeds
// 1.5 times the source's median span. A reading's span is the shortest
// of its points' there: a point that merges readings (a series' still
// stretch before its first change, or points merged past the summary's
// bound) spans more than one.
func missedSpans(sigs []*summary.Signal, k sourceKey, shift time.Duration) [][2]float64 {
	seen := map[time.Duration]time.Duration{} // reading's At: its span
	for _, g := range sigs {
		if (sourceKey{g.Run, g.Source}) != k {
			continue
		}
		for _, p := range g.Points {
			if sp, ok := seen[p.At]; p.Span > 0 && (!ok || p.Span < sp) {
				seen[p.At] = p.Span
			}
		}
	}
	if len(seen) < 3 {
		return nil
	}
	spans := make([]time.Duration, 0, len(seen))
	for _, sp := range seen {
		spans = append(spans, sp)
	}
	slices.Sort(spans)
	typical := spans[len(spans)/2]
	var out [][2]float64
	for at, sp := range seen {
		if sp*2 > typical*3 {
			out = append(out, [2]float64{round3((at - sp + shift).Seconds()), round3((at + shift).Seconds())})
		}
	}
	slices.SortFunc(out, func(a, b [2]float64) int { return cmpFloat(a[0], b[0]) })
	return out
}

// variation is how much a step function moved for its level: its
// time-weighted standard deviation over its mean magnitude (+Inf when it
// moved around 0), 0 for a flat line. The summary folds no NaN or
// infinity, so none reaches here.
func variation(t, v []float64) float64 {
	var w, sum, sq float64
	for i := 0; i+1 < len(t); i++ {
		x := v[i]
		d := t[i+1] - t[i]
		w += d
		sum += d * x
		sq += d * x * x
	}
	if w <= 0 {
		return 0
	}
	mean := sum / w
	sd := math.Sqrt(max(0, sq/w-mean*mean))
	if sd == 0 {
		return 0
	}
	if mean == 0 {
		return math.Inf(1)
	}
	return sd / math.Abs(mean)
}

// namedSeries returns the server signals that findings name (each match
// and the series found identical to it), as Source NUL Name Labels, true
// where a judged finding names it, false where only findings left
// unjudged (a busy machine) list it. A match of the generator's own
// series is named too: it says the slow windows may be the generator's.
func namedSeries(f *analyze.Findings) map[string]bool {
	named := map[string]bool{}
	if f == nil {
		return named
	}
	for _, lf := range f.Labels {
		if lf.Signals == nil {
			continue
		}
		judged := lf.Signals.Unjudged == ""
		for _, m := range lf.Signals.Matches {
			for _, k := range append([]string{m.Name + m.Labels}, m.Same...) {
				k = m.Source + "\x00" + k
				named[k] = named[k] || judged
			}
		}
	}
	return named
}

// sig4 rounds f to 4 significant digits, which is what a small chart
// shows, to keep the page small.
func sig4(f float64) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(f))))
	return math.Round(f*p) / p
}
