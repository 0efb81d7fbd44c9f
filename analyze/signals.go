package analyze

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Server-signal thresholds; see docs/methods.md, "Server signals".
const (
	// SignalFDR is the false-discovery rate of the Benjamini–Hochberg
	// step-up over every test of a label: with no signal related to the
	// latency, one or more is named in at most 1 % of runs.
	SignalFDR = 0.01
	// SignalMaxLag is the lag search, in windows either way.
	SignalMaxLag = 2
	// signalMinR is the weakest rank correlation named, however
	// significant: a weak association over a long run explains little of
	// the latency.
	signalMinR = 0.5
	// signalMinWindows is the fewest windows compared.
	signalMinWindows = 8
	// signalMoved: the latency statistic's slowest window is at least this
	// fraction over its median window, or there is nothing to explain.
	signalMoved = 0.5
	// eventSigmas and eventMinRatio define an event in a series: a reading
	// whose rate (a counter) or value (a gauge) exceeds the series' median
	// reading by max(5 robust standard deviations, 100 % of |median|),
	// and is above zero.
	eventSigmas   = 5
	eventMinRatio = 1.0
	// EventTolerance is how far from a spike episode an event may lie and
	// still match it.
	EventTolerance = time.Second
)

// GeneratorSource is the Series.Source of the generator's own figures
// (CPU, send lag, in flight), recorded on the same axis so that a
// generator stall is never taken for the server's.
const GeneratorSource = "surge"

// SignalFindings say which recorded series moved with a label's latency.
type SignalFindings struct {
	// Window is the width of the windows compared; Windows how many.
	Window  time.Duration `json:"window"`
	Windows int           `json:"windows"`
	// Series is the number of series recorded, Sources the number of
	// sources they came from, Tests the number of tests over them
	// (distinct series × 2 latency figures × 5 lags), all in one
	// Benjamini–Hochberg family at FDR.
	Series  int `json:"series"`
	Sources int `json:"sources"`
	// Distinct is how many of the series were tested: those that varied
	// over the windows, one per distinct shape (a series whose windows
	// equal an earlier one's is tested once, under the better-known
	// name). Leaving out the others depends on the series alone, not on
	// the latency, so the step-up stays valid (independent filtering).
	Distinct int     `json:"distinct"`
	Tests    int     `json:"tests"`
	FDR      float64 `json:"fdr"`
	// Moved is false when neither latency figure varied by 50 % over its
	// median window: there was nothing to explain and nothing is named.
	Moved bool `json:"moved"`
	// Matches are the series that passed, strongest first.
	Matches []SignalMatch `json:"matches"`
	// Generator is set when one of the generator's own series that rises
	// when it falls behind (its send lag, its requests not sent, or one
	// surge has no preset for) passed with the latency rising: the slow
	// windows may be the generator's, and no server signal is named
	// (Matches holds only the generator's). Its in-flight count, which a
	// slow server raises, is a symptom and does not count.
	Generator bool `json:"generator,omitempty"`
	// Unjudged, when set, says why nothing is named: the generator was
	// limited or starved, or the machine busy, so a window's slowness may
	// be the machine's. Matches are kept for reading.
	Unjudged string `json:"unjudged,omitempty"`
	Text     string `json:"text"`
}

// SignalMatch is one series that moved with the latency.
type SignalMatch struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	Labels string `json:"labels,omitempty"`
	Kind   string `json:"kind"`
	// Meaning is what the series stands for, from the presets; "" for an
	// unknown name.
	Meaning string `json:"meaning,omitempty"`
	// Symptom is set for a series that follows the load (requests
	// served) rather than causing latency.
	Symptom bool `json:"symptom,omitempty"`
	// Stat is the latency figure it moved with: "p99" or "mean", both on
	// server time (latency less send lag).
	Stat string `json:"stat"`
	// Lag is in windows: > 0 when the series moved first. R is the rank
	// (Spearman) correlation at that lag, P its p-value on NEff effective
	// pairs (uncorrected; it passed the family's step-up).
	Lag  int     `json:"lag"`
	R    float64 `json:"r"`
	P    float64 `json:"p"`
	NEff float64 `json:"n_eff"`
	// Episodes is the number of spike episodes, Matched how many started
	// within EventTolerance of an event of this series, Event the event's
	// rule, EpisodeP the chance of as many matches or more had the
	// episodes started at random times (a description: the naming rests
	// on the correlation test).
	Episodes int     `json:"episodes,omitempty"`
	Matched  int     `json:"matched,omitempty"`
	Event    string  `json:"event,omitempty"`
	EpisodeP float64 `json:"episode_p,omitempty"`
	// Generator is set for the generator's own series.
	Generator bool `json:"generator,omitempty"`
	// Same are the series whose windows were identical to this one's,
	// tested with it.
	Same []string `json:"same,omitempty"`
	Text string   `json:"text"`
}

// signalSeries is one recorded series read against the latency, reading
// by reading (see place): at[j] is reading j's span, x[j] the series'
// rate or value in it (NaN before the series appeared), y99[j] and
// ymean[j] the latency of the windows it overlaps; events are the
// readings that stand out.
type signalSeries struct {
	result.Series
	at            []interval
	x, y99, ymean []float64
	events        []interval
	event         string
}

type interval struct{ from, to time.Time }

// latencySeries are a label's windows: server-time p99 and mean per
// window, NaN where no request was due or the window was skipped.
type latencySeries struct {
	from      []time.Time
	width     time.Duration
	p99, mean []float64
	n         int
}

// serverLatency returns the label's windows with their server-time p99
// (the window p99 less its largest send lag, a lower bound) and mean
// (latency less send lag, averaged).
func serverLatency(s *summary.Series, skip func(time.Time) bool) latencySeries {
	ls := latencySeries{width: s.Width}
	for i := range s.Windows {
		w := &s.Windows[i]
		p, m := math.NaN(), math.NaN()
		if w.Latency != nil && w.Latency.Count() > 0 && (skip == nil || !skip(s.From(i))) {
			p = float64(max(w.Latency.Quantile(SpikeQuantile)-w.MaxSendLag, 0))
			m = float64(w.Latency.Mean()) - float64(w.SendLag)/float64(w.Sent)
			m = max(m, 0)
			ls.n++
		}
		ls.from = append(ls.from, s.From(i))
		ls.p99, ls.mean = append(ls.p99, p), append(ls.mean, m)
	}
	return ls
}

// moved reports whether ys (NaN = missing) has a window at least
// signalMoved over its median, and returns the median and the maximum.
func moved(ys []float64) (bool, float64, float64) {
	var v []float64
	for _, y := range ys {
		if !math.IsNaN(y) {
			v = append(v, y)
		}
	}
	if len(v) == 0 {
		return false, 0, 0
	}
	mx := slices.Max(v)
	med := median(v)
	return mx > (1+signalMoved)*med, med, mx
}

// test is one hypothesis of the family.
type test struct {
	series  int
	stat    string
	lag     int
	r, neff float64
	p       float64
}

// correlateSignals tests every series against the label's windows and
// the spike episodes; sp may be nil.
func correlateSignals(ls latencySeries, sigs []signalSeries, sp *Spikes) *SignalFindings {
	f := &SignalFindings{Window: ls.width, Windows: ls.n, Series: len(sigs), FDR: SignalFDR, Matches: []SignalMatch{}}
	sources := map[string]bool{}
	for _, s := range sigs {
		sources[s.Source] = true
	}
	f.Sources = len(sources)
	m99, med99, max99 := moved(ls.p99)
	mMean, _, _ := moved(ls.mean)
	f.Moved = m99 || mMean
	var eps []Episode
	if sp != nil && sp.Unjudged == "" {
		eps = sp.Episodes
	}
	testable, dups := distinctShapes(sigs)
	f.Distinct = len(testable)
	tests := runTests(testable, sigs)
	f.Tests = len(tests)
	if ls.n < signalMinWindows || len(sigs) == 0 {
		f.Text = f.noneText(fmt.Sprintf("too few windows to compare (%d, at least %d needed)", ls.n, signalMinWindows))
		if len(sigs) == 0 {
			f.Text = "server signals: none recorded"
		}
		return f
	}
	best := passing(tests, sigs)
	for i, b := range best {
		for _, d := range dups[i] {
			b.Same = append(b.Same, sigs[d].Name+sigs[d].Labels)
		}
		if len(eps) > 0 {
			b.Episodes = len(eps)
			b.Matched, b.EpisodeP = matchEpisodes(eps, sigs[i].events, ls)
			b.Event = sigs[i].event
		}
	}
	if !f.Moved {
		f.Matches = f.Matches[:0]
		f.Text = f.noneText(fmt.Sprintf("the latency held steady (window p99 on server time from a median %s to at most %s), so there was nothing to explain",
			latency.Round3(dur(med99)), latency.Round3(dur(max99))))
		return f
	}
	f.rank(best)
	for i := range f.Matches {
		f.Matches[i].Text = f.Matches[i].sentence(eps, f.Window)
	}
	f.Text = f.sentence()
	return f
}

// runTests correlates each testable series with both latency figures at
// every lag.
func runTests(testable []int, sigs []signalSeries) []test {
	tests := make([]test, 0, len(testable)*2*(2*SignalMaxLag+1))
	var buf pairs
	for _, i := range testable {
		rx := ranksNaN(sigs[i].x)
		for _, st := range []struct {
			name string
			y    []float64
		}{{"p99", ranksNaN(sigs[i].y99)}, {"mean", ranksNaN(sigs[i].ymean)}} {
			for lag := -SignalMaxLag; lag <= SignalMaxLag; lag++ {
				r, p, neff := lagCorrNaN(rx, st.y, lag, &buf)
				tests = append(tests, test{series: i, stat: st.name, lag: lag, r: r, p: p, neff: neff})
			}
		}
	}
	return tests
}

// passing returns, per series with a test that passed the step-up and
// the strength floor, its strongest such test.
func passing(tests []test, sigs []signalSeries) map[int]*SignalMatch {
	ps := make([]float64, len(tests))
	for i, t := range tests {
		ps[i] = t.p
	}
	pass := benjaminiHochberg(ps, SignalFDR)
	best := map[int]*SignalMatch{}
	for i, t := range tests {
		if !pass[i] || math.Abs(t.r) < signalMinR {
			continue
		}
		if b := best[t.series]; b == nil || math.Abs(t.r) > math.Abs(b.R) {
			s := sigs[t.series]
			best[t.series] = &SignalMatch{Source: s.Source, Name: s.Name, Labels: s.Labels, Kind: s.Kind,
				Stat: t.stat, Lag: t.lag, R: t.r, P: t.p, NEff: t.neff, Generator: s.Source == GeneratorSource}
		}
	}
	return best
}

// rank fills Matches from best: causes before symptoms, series rising
// with the latency before those falling, strongest first;
// when a generator series rose with the latency, only the generator's.
func (f *SignalFindings) rank(best map[int]*SignalMatch) {
	for _, b := range best {
		b.Meaning, b.Symptom = meaningOf(b.Name)
		f.Matches = append(f.Matches, *b)
	}
	slices.SortFunc(f.Matches, func(a, b SignalMatch) int {
		if c := cmpBool(a.Symptom, b.Symptom); c != 0 {
			return c
		}
		if c := cmpBool(a.R < 0, b.R < 0); c != 0 {
			return c
		}
		if d := math.Abs(b.R) - math.Abs(a.R); d != 0 {
			return int(math.Copysign(1, d))
		}
		return strings.Compare(a.Name+a.Labels, b.Name+b.Labels)
	})
	for _, m := range f.Matches {
		if p := presetOf(m.Name); m.Generator && m.R > 0 && (p == nil || p.Stall) {
			f.Generator = true
		}
	}
	if f.Generator {
		f.Matches = slices.DeleteFunc(f.Matches, func(m SignalMatch) bool { return !m.Generator })
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// pairs are reusable buffers of a lag test's pairs.
type pairs struct{ x, y []float64 }

// lagCorrNaN is the test of rx[t−lag] against ry[t] over the readings
// where both are known (not NaN). rx and ry are the series' ranks over
// all their readings (ranksNaN), ranked once per series rather than once
// per lag: the pairs of one lag are then ranks of a subset, a monotone
// transform of the values, so r stays a rank correlation (exactly
// Spearman's when no reading is missing and the lag is 0).
func lagCorrNaN(rx, ry []float64, lag int, buf *pairs) (r, p, neff float64) {
	buf.x, buf.y = buf.x[:0], buf.y[:0]
	for t := range ry {
		if u := t - lag; u >= 0 && u < len(rx) && !math.IsNaN(rx[u]) && !math.IsNaN(ry[t]) {
			buf.x, buf.y = append(buf.x, rx[u]), append(buf.y, ry[t])
		}
	}
	n := float64(len(buf.x))
	if len(buf.x) < signalMinWindows {
		return 0, 1, n
	}
	r = pearson(buf.x, buf.y)
	if r == 0 {
		return 0, 1, n
	}
	neff = effectiveN(buf.x, buf.y)
	return r, corrP(r, neff), neff
}

// matchEpisodes counts the episodes that start within EventTolerance of
// an event, and the binomial chance of as many or more if the episodes'
// starts fell at random over the windows: each would match with the
// share of the compared time that lies within EventTolerance of an event.
func matchEpisodes(eps []Episode, events []interval, ls latencySeries) (int, float64) {
	if len(events) == 0 {
		return 0, 1
	}
	near := func(t time.Time) bool {
		for _, e := range events {
			if !t.Before(e.from.Add(-EventTolerance)) && !t.After(e.to.Add(EventTolerance)) {
				return true
			}
		}
		return false
	}
	matched := 0
	for _, e := range eps {
		if near(e.Start) {
			matched++
		}
	}
	// The chance share, sampled every 10 ms over the compared windows.
	var in, all int
	const step = 10 * time.Millisecond
	for i, from := range ls.from {
		if math.IsNaN(ls.p99[i]) {
			continue
		}
		for t := from; t.Before(from.Add(ls.width)); t = t.Add(step) {
			all++
			if near(t) {
				in++
			}
		}
	}
	if all == 0 {
		return matched, 1
	}
	return matched, binomTail(matched, len(eps), float64(in)/float64(all))
}

func (f *SignalFindings) noneText(why string) string {
	return fmt.Sprintf("server signals: none named: %s; %s", why, f.tested())
}

// tested says what was tested.
func (f *SignalFindings) tested() string {
	return fmt.Sprintf("%d series from %d source(s), %d of them varying and distinct, tested over %d windows of %s (%d tests, Benjamini–Hochberg at %.0f%% false discoveries)",
		f.Series, f.Sources, f.Distinct, f.Windows, f.Window, f.Tests, 100*f.FDR)
}

func (f *SignalFindings) sentence() string {
	if len(f.Matches) == 0 {
		return f.noneText("no series passed the test")
	}
	tested := f.tested()
	if f.Generator {
		return fmt.Sprintf("server signals: none named: the generator's own %s moved with the slow windows (%s), so they may be the generator's, not the server's (%s)",
			f.Matches[0].Name, f.Matches[0].figures(), tested)
	}
	names := make([]string, 0, 3)
	for _, m := range f.Matches[:min(3, len(f.Matches))] {
		names = append(names, m.Name)
	}
	more := ""
	if len(f.Matches) > 3 {
		more = fmt.Sprintf(" and %d more", len(f.Matches)-3)
	}
	return fmt.Sprintf("server signals: %d series moved with the latency (%s): %s%s", len(f.Matches), tested, strings.Join(names, ", "), more)
}

// figures returns the numbers a match rests on.
func (m *SignalMatch) figures() string {
	var parts []string
	if m.Episodes > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d episodes", m.Matched, m.Episodes))
	}
	if m.P < 1 {
		parts = append(parts, fmt.Sprintf("r = %.2f at lag %d on %s", m.R, m.Lag, m.Stat))
	}
	return strings.Join(parts, ", ")
}

// sentence returns the match's finding.
func (m *SignalMatch) sentence(eps []Episode, width time.Duration) string {
	name := m.Name + m.Labels
	what := "moves with"
	if m.R < 0 {
		what = "falls as"
	}
	var s string
	switch {
	case m.Episodes > 0 && 2*m.Matched >= m.Episodes:
		// Most episodes start at an event: say so; fewer are only figures.
		at := make([]string, 0, 4)
		for _, e := range eps[:min(4, len(eps))] {
			at = append(at, "+"+e.Offset.Round(100*time.Millisecond).String())
		}
		if len(eps) > 4 {
			at = append(at, "…")
		}
		s = fmt.Sprintf("p99 spikes at %s coincide with %s events (%s; an event is %s)",
			strings.Join(at, ", "), name, m.figures(), m.Event)
	default:
		s = fmt.Sprintf("%s %s the %s latency (%s)", name, what, m.Stat, m.figures())
	}
	if m.Lag > 0 {
		s += fmt.Sprintf(", the series moving %s first", time.Duration(m.Lag)*width)
	} else if m.Lag < 0 {
		s += fmt.Sprintf(", the series moving %s after", time.Duration(-m.Lag)*width)
	}
	if m.Meaning != "" {
		s += ": " + m.Meaning
	}
	if m.Kind == result.SignalCounter && (strings.HasSuffix(m.Name, "_bucket") || strings.HasSuffix(m.Name, "_count")) {
		// A histogram's bucket or count is how many observations there
		// were: its rate falls when fewer happen, whatever they measure.
		s += " (a count of observations: its rate is how many there were, not how long they took)"
	}
	if m.Source != "" && m.Source != GeneratorSource {
		s += " [" + m.Source + "]"
	}
	return s
}

// distinctShapes returns the indices of the series to test, those whose
// windows (where the latency is known) vary and differ from every earlier
// one's, and for each the later series identical to it. Series with a
// preset meaning come first, so that a duplicate is tested under the
// name a finding can explain.
func distinctShapes(sigs []signalSeries) ([]int, map[int][]int) {
	order := make([]int, len(sigs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ma, _ := meaningOf(sigs[a].Name)
		mb, _ := meaningOf(sigs[b].Name)
		return cmpBool(ma == "", mb == "")
	})
	var buf []byte
	key := func(idx int) (string, bool) {
		x := sigs[idx].x
		buf = append(buf[:0], sigs[idx].Source...)
		buf = append(buf, 0)
		first, varies, n := math.NaN(), false, 0
		for i, v := range x {
			if math.IsNaN(sigs[idx].y99[i]) || math.IsNaN(v) {
				v = math.NaN() // one bit pattern for every unknown reading
			} else {
				if n == 0 {
					first = v
				} else if v != first {
					varies = true
				}
				n++
			}
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		return string(buf), varies && n >= signalMinWindows
	}
	seen := map[string]int{}
	dups := map[int][]int{}
	var out []int
	for _, i := range order {
		k, ok := key(i)
		if !ok {
			continue
		}
		if j, dup := seen[k]; dup {
			dups[j] = append(dups[j], i)
			continue
		}
		seen[k] = i
		out = append(out, i)
	}
	slices.Sort(out)
	return out, dups
}

// unjudge marks f not judged because of why (see machineBusy).
func (f *SignalFindings) unjudge(why string) {
	if f == nil || why == "" {
		return
	}
	f.Unjudged = why
	named := ""
	if len(f.Matches) > 0 {
		names := make([]string, 0, len(f.Matches))
		for _, m := range f.Matches {
			names = append(names, m.Name)
		}
		named = fmt.Sprintf(" (%s moved with the latency, for reading only)", strings.Join(names, ", "))
	}
	f.Text = fmt.Sprintf("server signals not judged: %s, so slow windows may be the machine's, not the server's%s; %s; rerun on a quieter machine",
		why, named, f.tested())
}

// DetectSignals tests the recorded series against the windows of st that
// skip does not exclude (the cold phase), and matches them to the spike
// episodes sp (nil when none were judged).
func DetectSignals(st *summary.Stats, recs []recorded, sp *Spikes, skip func(time.Time) bool) *SignalFindings {
	ls := serverLatency(st.Series, skip)
	return correlateSignals(ls, placeSignals(recs, ls), sp)
}
