package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Concurrency-ceiling thresholds; see docs/methods.md.
const (
	// CeilingMinWindows is the fewest saturated windows (throughput under
	// 90 % of the offered rate while p50 is 1.5× its lowest, the
	// saturation rule) a ceiling is estimated from.
	CeilingMinWindows = 3
	// ceilingFlat bounds the plateau: the saturated windows' throughput
	// has a robust spread (1.4826·MAD) of at most this fraction of its
	// median, or throughput did not stop rising.
	ceilingFlat = 0.1
	// ceilingLowLatency: a window runs at low load when it kept up with
	// its offered rate and its p50 is within this factor of the run's
	// lowest window p50; the service time is measured in those windows.
	ceilingLowLatency = 1.2
)

// Ceiling is a server's concurrency ceiling estimated by Little's law: once
// throughput stops rising while latency does, the server completes at most
// Throughput requests per second, each of which needs Service of its time
// when nothing queues, so Concurrency = Throughput × Service of them are
// in service at once. The response time under congestion counts the
// queue too: Throughput × Response is InSystem, the requests in the server
// at once, waiting ones included, which is not the ceiling.
type Ceiling struct {
	// Detected is true when the ceiling was estimated.
	Detected bool `json:"detected"`
	// Concurrency is Throughput × Service: the number of requests the
	// server serves at once at most.
	Concurrency float64 `json:"concurrency,omitempty"`
	// Throughput is the median successful completions per second of the
	// plateau (the saturated windows).
	Throughput float64 `json:"throughput,omitempty"`
	// Service is the mean server time (latency less send lag) in the
	// low-load windows,
	// or, without any, the fastest request's latency (ServiceFrom says
	// which: "low_load" or "fastest").
	Service     time.Duration `json:"service,omitempty"`
	ServiceFrom string        `json:"service_from,omitempty"`
	// LowWindows counts the low-load windows, Windows the plateau's.
	LowWindows int `json:"low_windows"`
	Windows    int `json:"windows"`
	// At is the plateau's first window's offset; OfferedMin and
	// OfferedMax the offered rates over it (requests/s).
	At         time.Duration `json:"at,omitempty"`
	OfferedMin float64       `json:"offered_min,omitempty"`
	OfferedMax float64       `json:"offered_max,omitempty"`
	// Spread is the plateau throughput's robust standard deviation over
	// its median.
	Spread float64 `json:"spread"`
	// Response is the mean server time over the plateau, queueing in the
	// server included, and InSystem = Throughput × Response the mean
	// number of requests in the server at once.
	Response time.Duration `json:"response,omitempty"`
	InSystem float64       `json:"in_system,omitempty"`
	// Gauge is the scrape's confirmation, nil when no recorded gauge pair
	// (see CeilingGauges) was found for the plateau.
	Gauge *CeilingGauge `json:"gauge,omitempty"`
	// Unjudged says why a run that fell behind its offered rate was not
	// given a ceiling; "" when it was, or when nothing fell behind.
	Unjudged string `json:"unjudged,omitempty"`
	Text     string `json:"text"`

	// plateau holds the series indexes of the plateau's windows, for
	// matching them to a scrape's readings.
	plateau []int
}

// ceilWindow is one window's figures for the ceiling.
type ceilWindow struct {
	i                 int // index in the series
	offered, sent, tp float64
	p50               time.Duration
	busy              time.Duration
	completed         int64
	minLatency        time.Duration
	latSum            time.Duration // latency total of the sent requests due
	latN              int64
	lagSum            time.Duration // their send lag total
	low, congested    bool
}

// DetectCeiling estimates the concurrency ceiling of the label st from its
// time windows, skipping those skip excludes (the cold phase), given the
// generator's health g. It returns nil when saturation would not be judged
// either (fewer than 3 windows with requests due, or no offered rate: max
// rate or a closed model).
func DetectCeiling(st *summary.Stats, skip func(from time.Time) bool, g Generator) *Ceiling {
	s := st.Series
	ws, scheduled := ceilWindows(s, skip)
	if len(ws) < 3 || !scheduled {
		return nil
	}
	// The last window is usually partial: shown by saturation, judged by
	// neither.
	ws = ws[:len(ws)-1]
	base := ws[0].p50
	for _, w := range ws {
		base = min(base, w.p50)
	}
	var plateau, low []ceilWindow
	fastest := time.Duration(math.MaxInt64)
	for i := range ws {
		w := &ws[i]
		keeps := w.tp >= satFollow*w.offered
		w.congested = !keeps && float64(w.p50) >= satLatency*float64(base)
		w.low = keeps && w.latN > 0 && float64(w.p50) <= ceilingLowLatency*float64(base)
		fastest = min(fastest, w.minLatency)
		if w.congested {
			plateau = append(plateau, *w)
		}
		if w.low {
			low = append(low, *w)
		}
	}
	c := &Ceiling{Windows: len(plateau), LowWindows: len(low)}
	if len(plateau) == 0 {
		c.Text = "no concurrency ceiling: throughput followed the offered rate, or latency did not rise, in every window"
		return c
	}
	c.At = time.Duration(plateau[0].i-ws[0].i) * s.Width
	var tps []float64
	var busy time.Duration
	var done int64
	genBehind := 0
	c.OfferedMin = math.Inf(1)
	for _, w := range plateau {
		c.plateau = append(c.plateau, w.i)
		tps = append(tps, w.tp)
		busy += w.busy
		done += w.completed
		c.OfferedMin, c.OfferedMax = min(c.OfferedMin, w.offered), max(c.OfferedMax, w.offered)
		if w.sent < satFollow*w.offered {
			genBehind++
		}
	}
	med, sigma := medianMAD(tps)
	c.Throughput = med
	if med > 0 {
		c.Spread = sigma / med
	}
	if done > 0 {
		c.Response = busy / time.Duration(done)
	}
	c.InSystem = med * c.Response.Seconds()
	c.Service, c.ServiceFrom = serviceTime(low, fastest)
	c.Concurrency = med * c.Service.Seconds()
	if med <= 0 {
		// Nothing completed while the offered load went unserved: the
		// server stalled (a pause, an outage), which spikes and errors
		// name; a count of requests served at once has nothing to rest on.
		c.Text = "no concurrency ceiling: no request succeeded in the windows that fell behind the offered rate (a stall, not a limit on how many are served at once)"
		return c
	}
	switch why := machineBusy(g); {
	case len(plateau) < satMinWindows:
		// One slow window is not a fall behind (saturation says none).
		c.Text = fmt.Sprintf("no concurrency ceiling: only 1 window fell behind the offered rate with latency up (at least %d are needed to judge one)",
			CeilingMinWindows)
		return c
	case len(plateau) < CeilingMinWindows:
		c.Unjudged = fmt.Sprintf("only %d window(s) fell behind the offered rate with latency up (at least %d are needed)",
			len(plateau), CeilingMinWindows)
	case genBehind*2 > len(plateau):
		c.Unjudged = "the generator fell behind too (sent < 90% of offered in most of those windows): the limit may be surge's connections or CPU, not the server's"
	case why != "":
		c.Unjudged = why
	case c.Spread > ceilingFlat:
		c.Unjudged = fmt.Sprintf("throughput did not level off: it varied by %.0f%% over those windows (at most %.0f%%)",
			100*c.Spread, 100*ceilingFlat)
	}
	if c.Unjudged != "" {
		c.Text = fmt.Sprintf("concurrency ceiling not judged: %d window(s) from +%s fell behind the offered rate (%s) with throughput near %.1f/s, but %s; "+
			"the estimate, %.1f at once (%.1f/s × %s), is not to be relied on",
			c.Windows, c.At, rateRange(c.OfferedMin, c.OfferedMax), c.Throughput, c.Unjudged, c.Concurrency, c.Throughput, latency.Round3(c.Service))
		return c
	}
	c.Detected = true
	c.Text = c.sentence()
	return c
}

// serviceTime returns the mean server time of the low-load windows, or
// without any the fastest request's latency, and which it is.
func serviceTime(low []ceilWindow, fastest time.Duration) (time.Duration, string) {
	if len(low) == 0 {
		return fastest, "fastest"
	}
	// Latency less send lag per window: the windows' time in flight over
	// their completions would count the first window's requests in flight
	// but not yet done (0.8 % high on a 50ms pool), and the label's mean
	// send lag is the congested windows' when the generator lagged there
	// (it made 35µs of a 20ms pool's service time).
	var sum time.Duration
	var n int64
	for _, w := range low {
		sum += w.latSum - w.lagSum
		n += w.latN
	}
	return sum / time.Duration(n), "low_load"
}

// sentence is a detected ceiling's finding.
func (c *Ceiling) sentence() string {
	from := fmt.Sprintf("the mean server time of the %d window(s) under capacity", c.LowWindows)
	if c.ServiceFrom == "fastest" {
		from = "the fastest request's latency, as no window ran under capacity: an underestimate if service times vary; ramp from a lower rate to measure it"
	}
	n := math.Round(c.Concurrency)
	return fmt.Sprintf("concurrency ceiling: the server completes at most ~%.0f requests at once (%.1f/s × %s = %.2f; %s): "+
		"look for a pool, thread or connection limit of %.0f. From +%s (offered %s) throughput held at %.1f/s (±%.0f%%) over %d windows "+
		"while the mean server time rose to %s: on average %.1f requests were in the server at once (%.1f/s × %s), all but ~%.0f of them waiting",
		n, c.Throughput, latency.Round3(c.Service), c.Concurrency, from,
		max(n, 1), c.At, rateRange(c.OfferedMin, c.OfferedMax), c.Throughput, 100*c.Spread, c.Windows,
		latency.Round3(c.Response), c.InSystem, c.Throughput, latency.Round3(c.Response), max(n, 1))
}

// rateRange prints an offered range: "120.0/s" or "100.0–140.0/s".
func rateRange(lo, hi float64) string {
	if hi-lo < 0.05 {
		return fmt.Sprintf("%.1f/s", lo)
	}
	return fmt.Sprintf("%.1f–%.1f/s", lo, hi)
}

// ceilWindows returns the figures of the windows of s with requests due
// that skip keeps, and whether any request was sent late (an offered rate
// existed).
func ceilWindows(s *summary.Series, skip func(from time.Time) bool) ([]ceilWindow, bool) {
	sec := s.Width.Seconds()
	var ws []ceilWindow
	scheduled := false
	for i := range s.Windows {
		w := &s.Windows[i]
		if w.Requests == 0 || w.Latency == nil || skip != nil && skip(s.From(i)) {
			continue
		}
		scheduled = scheduled || w.MaxSendLag > 0
		ws = append(ws, ceilWindow{
			i:          i,
			offered:    float64(w.Requests) / sec,
			sent:       float64(w.Sent) / sec,
			tp:         float64(w.Succeeded) / sec,
			p50:        w.Latency.Quantile(0.5),
			busy:       w.Busy,
			completed:  w.Completed,
			minLatency: w.Latency.Min(),
			latSum:     w.Latency.Total(),
			latN:       w.Latency.Count(),
			lagSum:     w.SendLag,
		})
	}
	return ws, scheduled
}
