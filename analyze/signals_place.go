package analyze

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// recorded is one recorded series as the analysis reads it: a
// summary.Signal's series, run and points.
type recorded struct {
	result.Series
	// Start is the wall-clock start of the series' run.
	Start  time.Time
	Points []recPoint
}

// recPoint is a summary.SignalPoint: a reading at At (from the run's
// start) covering the Span since the source's previous reading, with a
// gauge's value or a counter's increase V.
type recPoint struct {
	At, Span time.Duration
	V        float64
}

// sourceKey names one source of one run.
type sourceKey struct {
	start  time.Time
	source string
}

// readingTimes returns, per source of a run, the times of its readings:
// every time at which one of its series changed (a source is read as a
// whole, and a reading in which nothing at all changed is rare: a
// process's CPU time moves between any two).
func readingTimes(recs []recorded) map[sourceKey][]time.Duration {
	out := map[sourceKey][]time.Duration{}
	for _, r := range recs {
		k := sourceKey{r.Start, r.Source}
		for _, p := range r.Points {
			out[k] = append(out[k], p.At)
		}
	}
	for k, ts := range out {
		slices.Sort(ts)
		out[k] = slices.Compact(ts)
	}
	return out
}

// placeSignals puts each recorded series on its source's readings (see
// place).
func placeSignals(recs []recorded, ls latencySeries) []signalSeries {
	reads := readingTimes(recs)
	out := make([]signalSeries, 0, len(recs))
	for _, r := range recs {
		out = append(out, place(r, reads[sourceKey{r.Start, r.Source}], ls))
	}
	return out
}

// place compares r reading by reading with the latency: x[j] is the
// series at its source's reading j, a counter's rate over the reading's
// span (increase / span, 0 when it did not change) or a gauge's value
// then; y99[j] and ymean[j] are the server-time p99 and mean of the
// latency windows the span overlaps (the largest p99, the overlap-weighted
// mean). A reading knows only that a counter rose somewhere in its span,
// so the span, not a window, is the unit compared: a 500 ms pause read
// once a second is in one reading or two, and each of those spans holds
// the slow window. The first reading, which has no span, is left out.
func place(r recorded, reads []time.Duration, ls latencySeries) signalSeries {
	s := signalSeries{Series: r.Series}
	if len(reads) < 2 || len(ls.from) == 0 {
		return s
	}
	byAt := make(map[time.Duration]recPoint, len(r.Points))
	for _, p := range r.Points {
		byAt[p.At] = p
	}
	gauge, seen := r.Initial, false
	for j, at := range reads {
		p, ok := byAt[at]
		if ok && (!seen || r.Kind != result.SignalCounter) {
			seen = true
			if r.Kind != result.SignalCounter {
				gauge = p.V
			}
		}
		if j == 0 {
			continue
		}
		from, to := r.Start.Add(reads[j-1]), r.Start.Add(at)
		x := math.NaN()
		switch {
		case !seen && !ok:
			// Not yet exposed by the source.
		case r.Kind == result.SignalCounter && ok && p.Span > 0:
			x = p.V / p.Span.Seconds()
		case r.Kind == result.SignalCounter:
			x = 0
		default:
			x = gauge
		}
		y99, ym := spanLatency(ls, from, to)
		s.at = append(s.at, interval{from, to})
		s.x, s.y99, s.ymean = append(s.x, x), append(s.y99, y99), append(s.ymean, ym)
	}
	s.events, s.event = events(s)
	return s
}

// spanLatency returns the largest p99 and the overlap-weighted mean of the
// windows of ls overlapping [from, to), NaN when none holds requests.
func spanLatency(ls latencySeries, from, to time.Time) (p99, mean float64) {
	p99, mean = math.NaN(), math.NaN()
	w := ls.width
	i0 := max(0, int(math.Floor(float64(from.Sub(ls.from[0]))/float64(w))))
	var sum, wsum float64
	for i := i0; i < len(ls.from) && ls.from[i].Before(to); i++ {
		ov := minTime(to, ls.from[i].Add(w)).Sub(maxTime(from, ls.from[i]))
		if ov <= 0 || math.IsNaN(ls.p99[i]) {
			continue
		}
		if math.IsNaN(p99) || ls.p99[i] > p99 {
			p99 = ls.p99[i]
		}
		sum += ls.mean[i] * float64(ov)
		wsum += float64(ov)
	}
	if wsum > 0 {
		mean = sum / wsum
	}
	return p99, mean
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// events returns the readings of s that stand out: a counter's rate or a
// gauge's value over the median reading by max(5 robust standard
// deviations, 100 % of |median|), and above zero; and the rule in words
// with its threshold.
func events(s signalSeries) ([]interval, string) {
	var vs []float64
	for _, v := range s.x {
		if !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	med, sigma := medianMAD(vs)
	thr := med + max(eventSigmas*sigma, eventMinRatio*math.Abs(med))
	var out []interval
	for j, v := range s.x {
		if v > thr && v > 0 {
			out = append(out, s.at[j])
		}
	}
	what := "value"
	if s.Kind == result.SignalCounter {
		what = "rate"
	}
	if thr == 0 {
		if s.Kind == result.SignalCounter {
			return out, "a reading in which it increased (it stood still in most)"
		}
		return out, "a reading above 0 (it was 0 in most)"
	}
	rule := fmt.Sprintf("a reading whose %s exceeds %s (the median reading %s + max(5×%s, 100%%))",
		what, signalNum(thr, s.Name, s.Kind), signalNum(med, s.Name, s.Kind), signalNum(sigma, s.Name, s.Kind))
	return out, rule
}

// signalNum prints a series' value with its unit: seconds as a duration
// (per second for a counter's rate), bytes in MB, others plainly.
func signalNum(v float64, name, kind string) string {
	per := ""
	if kind == result.SignalCounter {
		per = "/s"
	}
	switch {
	case strings.Contains(name, "_seconds"):
		return latency.Round3(time.Duration(v*float64(time.Second))).String() + per
	case strings.Contains(name, "_bytes"):
		return fmt.Sprintf("%.3g MB%s", v/1e6, per)
	}
	return fmt.Sprintf("%.3g%s", v, per)
}
