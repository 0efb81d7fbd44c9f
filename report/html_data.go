package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Run is one run of an HTML report: a results file, or the live run of a
// dashboard. Several runs are overlaid, each in its own colour.
type Run struct {
	// Name is the run's name in legends, e.g. its file name.
	Name string
	// Summary holds the run's statistics.
	Summary *summary.Summary
	// Points are the sampled requests for the latency-over-time chart;
	// nil draws none.
	Points *Points
	// Origin is the wall-clock time of offset 0 of Points, normally the
	// Start of the run's first Meta; the zero time means the start of the
	// first run in Summary.Runs.
	Origin time.Time
	// Findings are the run's diagnoses: their spike episodes are shaded
	// across the time charts and the server signals they name are drawn
	// first. nil draws neither.
	Findings *analyze.Findings
	// Until, when set, is the wall-clock time the run has been observed up
	// to (the live dashboard's now): a time window not over by then is
	// still filling, and is not drawn (its rates would read as a dip), and
	// the page shows the progress toward the run's planned duration or
	// count.
	Until time.Time

	lastMeta *result.Meta
	shift    time.Duration // of lastMeta's start from Origin
}

// Add implements result.Consumer: r goes to the run's summary and, unless
// the summary leaves warm-up results out and r is one, to its points, on
// the time axis of the run's first header (Origin, when not set).
func (r *Run) Add(m *result.Meta, res *result.Result) {
	if m != r.lastMeta && m != nil {
		r.lastMeta = m
		if r.Origin.IsZero() {
			r.Origin = m.Start
		}
		r.shift = m.Start.Sub(r.Origin)
	}
	r.Summary.Add(m, res)
	if r.Points != nil && (res.Flags&result.Warmup == 0 || r.Summary.Options().IncludeWarmup) {
		r.Points.Add(res, r.shift)
	}
}

// AddMarker implements result.Consumer: markers go to the run's summary.
func (r *Run) AddMarker(m *result.Meta, mk result.Marker) { r.Summary.AddMarker(m, mk) }

// origin returns the run's time zero on the wall clock.
func (r *Run) origin() time.Time {
	if !r.Origin.IsZero() {
		return r.Origin
	}
	if len(r.Summary.Runs) > 0 {
		return r.Summary.Runs[0].Start
	}
	return time.Time{}
}

// htmlData is the JSON embedded in a report page, the one thing its
// script draws from. Times are seconds from each run's origin, latencies
// milliseconds, rates per second; floats are rounded to keep it small.
type htmlData struct {
	Title    string    `json:"title"`
	Live     bool      `json:"live,omitempty"`
	Token    string    `json:"token,omitempty"` // the live page's dashboard token
	BoundsMS []float64 `json:"bounds_ms"`
	Runs     []htmlRun `json:"runs"`
	// Progress is a live run's, when Run.Until is set.
	Progress *htmlProgress `json:"progress,omitempty"`
}

// htmlProgress is how far a live run has gone: seconds since its start
// and requests so far, against its planned duration and count (0: none
// planned).
type htmlProgress struct {
	ElapsedS float64 `json:"elapsed_s"`
	PlannedS float64 `json:"planned_s,omitempty"`
	Requests int64   `json:"requests"`
	Count    uint64  `json:"count,omitempty"`
}

type htmlRun struct {
	Name     string       `json:"name"`
	Meta     []htmlMeta   `json:"meta"`
	Points   htmlPoints   `json:"points"`
	Windows  htmlWindows  `json:"windows"`
	Hist     htmlHist     `json:"hist"`
	Spectrum htmlSpectrum `json:"spectrum"`
	Buckets  []htmlBucket `json:"buckets"`
	Stages   []htmlStage  `json:"stages,omitempty"`
	Spikes   []htmlSpan   `json:"spikes,omitempty"`
	Signals  *htmlSignals `json:"signals,omitempty"`
	// Findings are the text report's findings, line for line; none
	// without Run.Findings.
	Findings []findingLine `json:"findings,omitempty"`
	Figures  [][2]string   `json:"figures"`
	Total    htmlRow       `json:"total"`
	Labels   []htmlRow     `json:"labels"`
}

type htmlMeta struct {
	ID       string   `json:"id,omitempty"`
	Command  string   `json:"command,omitempty"`
	Profile  string   `json:"profile,omitempty"`
	Start    string   `json:"start,omitempty"`
	Duration string   `json:"duration,omitempty"`
	Host     string   `json:"host,omitempty"`
	Targets  []string `json:"targets,omitempty"`
}

// htmlPoints are the sampled requests, compactly: T holds the differences
// between consecutive intended times in ms (the first from 0), LatUS
// latencies in µs, and Err and NotSent the indexes of points of those
// classes (every other point is OK).
type htmlPoints struct {
	Total   int64   `json:"total"`
	T       []int64 `json:"dt_ms"`
	LatUS   []int64 `json:"lat_us"`
	Err     []int   `json:"err"`
	NotSent []int   `json:"not_sent"`
}

type htmlWindows struct {
	WidthS     float64   `json:"width_s"`
	T          []float64 `json:"t"`
	P50        []any     `json:"p50"`
	P90        []any     `json:"p90"`
	P99        []any     `json:"p99"`
	Max        []any     `json:"max"`
	Offered    []float64 `json:"offered"`
	Throughput []float64 `json:"throughput"`
	Errors     []float64 `json:"errors"`
	InFlight   []float64 `json:"in_flight"`
	SendLagMax []float64 `json:"send_lag_max"`
}

type htmlHist struct {
	MS    []float64 `json:"ms"` // lower edge of each bin
	Count []int64   `json:"count"`
}

type htmlSpectrum struct {
	Nines []float64 `json:"nines"` // -log10(1-q)
	MS    []float64 `json:"ms"`
}

type htmlBucket struct {
	Label string `json:"label"`
	Count int64  `json:"count"`
	Ratio string `json:"ratio"`
}

type htmlStage struct {
	Name string  `json:"name"`
	From float64 `json:"from"`
	To   float64 `json:"to"`
	Kind string  `json:"kind"`
}

// htmlRow is a row of the per-label table, formatted as the text report
// formats it.
type htmlRow struct {
	Label    string `json:"label"`
	Requests int64  `json:"requests"`
	Success  string `json:"success"`
	Rate     string `json:"rate"`
	P50      string `json:"p50"`
	P90      string `json:"p90"`
	P99      string `json:"p99"`
	Max      string `json:"max"`
	Errors   int64  `json:"errors"`
}

// HTMLData returns the JSON that a report page draws, for runs. The HTML
// report embeds it; the live dashboard sends it once a second.
func HTMLData(runs []Run, o Options) ([]byte, error) {
	d, err := buildData(runs, o)
	if err != nil {
		return nil, err
	}
	return json.Marshal(d)
}

func buildData(runs []Run, o Options) (*htmlData, error) {
	d := &htmlData{Title: "surge report", Runs: []htmlRun{}}
	for i := range runs {
		r := &runs[i]
		ro, err := o.resolve(r.Summary)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		if i == 0 {
			for _, b := range ro.Bounds {
				d.BoundsMS = append(d.BoundsMS, ms3(b))
			}
		}
		d.Runs = append(d.Runs, buildRun(r, ro))
	}
	if len(runs) > 0 {
		names := make([]string, len(runs))
		for i := range runs {
			names[i] = runs[i].Name
		}
		d.Title = "surge report: " + strings.Join(names, ", ")
	}
	if len(runs) == 1 && !runs[0].Until.IsZero() {
		d.Title = "surge live: " + runs[0].Name
		d.Progress = progressOf(&runs[0])
	}
	return d, nil
}

func buildRun(r *Run, o Options) htmlRun {
	s := r.Summary
	org := r.origin()
	hr := htmlRun{Name: r.Name, Meta: []htmlMeta{}, Labels: []htmlRow{}}
	for _, m := range s.Runs {
		hr.Meta = append(hr.Meta, metaOf(&m))
	}
	hr.Points = pointsOf(r.Points)
	hr.Windows = windowsOf(s.Total.Series, org, r.Until)
	hr.Hist = histOf(s.Total)
	hr.Spectrum = spectrumOf(s.Total)
	for i, l := range distributionLabels(o.Bounds) {
		n := s.Total.Buckets[i]
		hr.Buckets = append(hr.Buckets, htmlBucket{Label: l, Count: n, Ratio: fmt.Sprintf("%.2f%%", ratio(n, s.Total.Requests)*100)})
	}
	hr.Stages = stagesOf(s, org)
	hr.Spikes = spikesOf(r.Findings, org)
	hr.Signals = signalsOf(r, org)
	if r.Findings != nil {
		hr.Findings = findingLines(r.Findings)
	}
	hr.Figures = figuresOf(s)
	hr.Total = rowOf(s.Total, "Total")
	for _, st := range s.Labels() {
		hr.Labels = append(hr.Labels, rowOf(st, st.Label))
	}
	return hr
}

func metaOf(m *result.Meta) htmlMeta {
	hm := htmlMeta{ID: m.ID, Command: strings.Join(m.Command, " "), Profile: m.Profile, Host: m.Host, Targets: m.Targets}
	if !m.Start.IsZero() {
		hm.Start = m.Start.UTC().Format(time.RFC3339)
	}
	if m.Duration > 0 {
		hm.Duration = m.Duration.String()
	}
	return hm
}

func pointsOf(p *Points) htmlPoints {
	hp := htmlPoints{T: []int64{}, LatUS: []int64{}, Err: []int{}, NotSent: []int{}}
	if p == nil {
		return hp
	}
	hp.Total = p.Total
	var last int64
	for i, pt := range p.Kept() {
		at := pt.At.Milliseconds()
		hp.T = append(hp.T, at-last)
		last = at
		hp.LatUS = append(hp.LatUS, pt.Latency.Microseconds())
		switch pt.Class {
		case ClassError:
			hp.Err = append(hp.Err, i)
		case ClassNotSent:
			hp.NotSent = append(hp.NotSent, i)
		}
	}
	return hp
}

// progressOf returns how far the live run r has gone by r.Until.
func progressOf(r *Run) *htmlProgress {
	p := &htmlProgress{ElapsedS: round3(max(0, r.Until.Sub(r.origin()).Seconds())), Requests: r.Summary.Total.Requests}
	if len(r.Summary.Runs) > 0 {
		m := &r.Summary.Runs[0]
		p.PlannedS, p.Count = round3(m.Duration.Seconds()), m.Count
	}
	return p
}

// windowsOf returns the time windows of se, those that ended by until
// only when until is set.
func windowsOf(se *summary.Series, org, until time.Time) htmlWindows {
	w := htmlWindows{WidthS: round3(se.Width.Seconds()), T: []float64{}}
	width := se.Width.Seconds()
	for i, win := range se.Windows {
		if !until.IsZero() && se.From(i).Add(se.Width).After(until) {
			break // still filling: windows are in time order
		}
		t := se.From(i).Sub(org).Seconds()
		w.T = append(w.T, round3(t))
		if win.Latency != nil && win.Latency.Count() > 0 {
			l := win.Latency
			w.P50 = append(w.P50, ms3(l.Quantile(0.5)))
			w.P90 = append(w.P90, ms3(l.Quantile(0.9)))
			w.P99 = append(w.P99, ms3(l.Quantile(0.99)))
			w.Max = append(w.Max, ms3(l.Max()))
		} else {
			w.P50, w.P90, w.P99, w.Max = append(w.P50, nil), append(w.P90, nil), append(w.P99, nil), append(w.Max, nil)
		}
		w.Offered = append(w.Offered, round3(float64(win.Requests)/width))
		w.Throughput = append(w.Throughput, round3(float64(win.Succeeded)/width))
		w.Errors = append(w.Errors, round3(float64(win.Failed)/width))
		w.InFlight = append(w.InFlight, round3(win.Busy.Seconds()/width))
		w.SendLagMax = append(w.SendLagMax, ms3(win.MaxSendLag))
	}
	return w
}

// histBins is the number of logarithmic bins of the distribution chart.
const histBins = 60

// histOf counts latencies in logarithmic bins from the minimum to the
// maximum, from the HDR histogram.
func histOf(st *summary.Stats) htmlHist {
	h := htmlHist{MS: []float64{}, Count: []int64{}}
	l := st.Latency
	if l.Count() == 0 {
		return h
	}
	lo, hi := max(l.Min(), time.Microsecond), max(l.Max(), time.Microsecond)
	if hi <= lo {
		h.MS, h.Count = []float64{ms3(lo)}, []int64{l.Count()}
		return h
	}
	step := math.Log(float64(hi)/float64(lo)) / histBins
	// One pass over the histogram for every bound: the live dashboard
	// draws this once a second while holding the lock its results need.
	bounds := make([]time.Duration, histBins+1)
	for i := range bounds {
		bounds[i] = time.Duration(float64(lo) * math.Exp(step*float64(i)))
	}
	below := l.CountsBelow(bounds)
	prev := below[0]
	for i := range histBins {
		b := below[i+1]
		if i == histBins-1 {
			b = l.Count()
		}
		h.MS = append(h.MS, ms3(bounds[i]))
		h.Count = append(h.Count, b-prev)
		prev = b
	}
	h.Count[0] += below[0]
	return h
}

// spectrumNines are the percentile spectrum's points: 0, 0.1, … 5 nines
// (p0 … p99.999).
func spectrumOf(st *summary.Stats) htmlSpectrum {
	sp := htmlSpectrum{Nines: []float64{}, MS: []float64{}}
	if st.Latency.Count() == 0 {
		return sp
	}
	for k := 0; k <= 50; k++ {
		n := float64(k) / 10
		q := 1 - math.Pow(10, -n)
		sp.Nines = append(sp.Nines, n)
		sp.MS = append(sp.MS, ms3(st.Latency.Quantile(q)))
	}
	return sp
}

// stagesOf turns stage and warm-up markers into bands: a stage lasts until
// the next stage of its run (or the end), a warm-up until its end marker.
func stagesOf(s *summary.Summary, org time.Time) []htmlStage {
	end := s.Total.End.Sub(org).Seconds()
	var out []htmlStage
	open := -1
	for _, mk := range s.Markers {
		at := round3(mk.At.Sub(org).Seconds())
		switch mk.Kind {
		case result.MarkStage:
			if open >= 0 {
				out[open].To = at
			}
			out = append(out, htmlStage{Name: mk.Name, From: at, To: round3(end), Kind: "stage"})
			open = len(out) - 1
		case result.MarkWarmup:
			name := mk.Name
			if name == "" {
				name = "warm-up"
			}
			out = append(out, htmlStage{Name: name, From: at, To: round3(end), Kind: "warmup"})
		case result.MarkWarmupEnd:
			for i := len(out) - 1; i >= 0; i-- {
				if out[i].Kind == "warmup" {
					out[i].To = at
					break
				}
			}
		}
	}
	return out
}

// figuresOf returns the text report's figures of the total, name and
// value, formatted as the text report formats them.
func figuresOf(s *summary.Summary) [][2]string {
	st := s.Total
	l := st.Latency
	codes := make([]string, 0, len(st.StatusCodes))
	for _, c := range statusCodes(st) {
		codes = append(codes, fmt.Sprintf("%s:%d", c, st.StatusCodes[atoi(c)]))
	}
	lag := st.SendLag
	f := [][2]string{
		{"Requests [total, rate, throughput]", fmt.Sprintf("%d, %.2f, %.2f", st.Requests, st.Rate(), st.Throughput())},
		{"Duration [total, attack, wait]", fmt.Sprintf("%s, %s, %s", round(st.Duration()+st.Wait()), round(st.Duration()), round(st.Wait()))},
		{"Latencies [min, mean, 50, 90, 95, 99, max]", fmt.Sprintf("%s, %s, %s, %s, %s, %s, %s",
			round(l.Min()), round(l.Mean()), round(l.Quantile(0.5)), round(l.Quantile(0.9)),
			round(l.Quantile(0.95)), round(l.Quantile(0.99)), round(l.Max()))},
		{"Latencies+ [99.9, 99.99, stddev]", fmt.Sprintf("%s, %s, %s", round(l.Quantile(0.999)), round(l.Quantile(0.9999)), round(l.StdDev()))},
		{"Bytes In [total, mean]", fmt.Sprintf("%d, %.2f", st.BytesIn, perRequest(st.BytesIn, st.Requests))},
		{"Bytes Out [total, mean]", fmt.Sprintf("%d, %.2f", st.BytesOut, perRequest(st.BytesOut, st.Requests))},
		{"Success [ratio]", fmt.Sprintf("%.2f%%", st.SuccessRatio()*100)},
		{"Status Codes [code:count]", strings.Join(codes, "  ")},
		{"Schedule [send lag 50, 99, max; late, not sent]", fmt.Sprintf("%s, %s, %s; %d, %d",
			round(lag.Quantile(0.5)), round(lag.Quantile(0.99)), round(lag.Max()), st.Late, st.NotSent)},
	}
	if st.Resent > 0 {
		f = append(f, [2]string{"Resent [requests, ratio of sent]", fmt.Sprintf("%d, %.2f%%", st.Resent, ratio(st.Resent, st.Sent)*100)})
	}
	if s.WarmupSkipped > 0 {
		f = append(f, [2]string{"Warm-up [skipped]", fmt.Sprint(s.WarmupSkipped)})
	}
	for _, e := range st.Errors {
		f = append(f, [2]string{"Error", fmt.Sprintf("%s (%d)", e.Error, e.Count)})
	}
	if msg := generatorWarning(s); msg != "" {
		f = append([][2]string{{"WARNING", msg}}, f...)
	}
	var in [][2]string
	for _, msg := range s.InputWarnings() {
		in = append(in, [2]string{"WARNING", msg})
	}
	return append(in, f...)
}

func rowOf(st *summary.Stats, label string) htmlRow {
	if label == "" {
		label = "-"
	}
	l := st.Latency
	return htmlRow{
		Label: label, Requests: st.Requests, Success: fmt.Sprintf("%.2f%%", st.SuccessRatio()*100),
		Rate: fmt.Sprintf("%.2f", st.Rate()),
		P50:  round(l.Quantile(0.5)).String(), P90: round(l.Quantile(0.9)).String(),
		P99: round(l.Quantile(0.99)).String(), Max: round(l.Max()).String(), Errors: st.Failed(),
	}
}

// ms3 returns d in milliseconds with at most 3 decimals (1 µs).
func ms3(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
