package analyze

import (
	"fmt"
	"slices"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Saturation thresholds; see docs/methods.md.
const (
	// satFollow: a window keeps up when its throughput is at least this
	// fraction of its offered rate.
	satFollow = 0.9
	// satLatency: ... and a saturated window's p50 is at least this many
	// times the lowest window p50 of the run.
	satLatency = 1.5
	// satMinWindows is the fewest consecutive saturated windows reported.
	satMinWindows = 2
)

// Point is one window of the offered-versus-achieved curve.
type Point struct {
	Offset time.Duration `json:"offset"` // window start from the first window's
	// Offered is the rate the schedule asked for (requests due per second),
	// Sent the rate that went out, Throughput the successful completions
	// per second.
	Offered    float64 `json:"offered"`
	Sent       float64 `json:"sent"`
	Throughput float64 `json:"throughput"`
	// InFlight is the mean number of requests in flight (busy time /
	// width, Little's law).
	InFlight  float64       `json:"in_flight"`
	P50       time.Duration `json:"p50"`
	P99       time.Duration `json:"p99"`
	Saturated bool          `json:"saturated"`
}

// Saturation says whether, and from which offered rate, the server stopped
// keeping up.
type Saturation struct {
	// Points is the curve, one per window that had requests due.
	Points []Point `json:"points"`
	// Detected is true when at least two consecutive windows fell behind
	// (throughput < 90 % of offered) while p50 rose to 1.5× its lowest.
	Detected bool `json:"detected"`
	// Capacity is the median throughput of the saturated windows: the
	// rate the server sustained once it could not keep up (requests/s).
	Capacity float64 `json:"capacity,omitempty"`
	// FirstBehind is the offered rate of the first saturated window, At
	// its offset.
	FirstBehind float64       `json:"first_behind,omitempty"`
	At          time.Duration `json:"at,omitempty"`
	// BaseP50 is the lowest window p50; PeakP99 and PeakInFlight the
	// highest p99 and in-flight figures once saturated.
	BaseP50      time.Duration `json:"base_p50"`
	PeakP99      time.Duration `json:"peak_p99,omitempty"`
	PeakInFlight float64       `json:"peak_in_flight,omitempty"`
	// GeneratorLimited is true when the saturated windows also show the
	// generator falling behind (sent < 90 % of offered): the bottleneck may
	// be surge, not the server.
	GeneratorLimited bool `json:"generator_limited,omitempty"`
	// Unscheduled is true when the run had no offered rate (max rate or a
	// closed model: every request went out when it was due, send lag 0
	// in every window): throughput then is what the server gave at the
	// run's concurrency, there is no schedule for it to fall behind, and
	// saturation is not judged.
	Unscheduled bool   `json:"unscheduled,omitempty"`
	Text        string `json:"text"`
}

// DetectSaturation builds the offered-versus-achieved curve of s, skipping
// windows that skip excludes (the cold phase), and finds where throughput
// stopped following the offered rate while latency rose. It returns nil
// when fewer than 3 windows had requests due. A run without an offered
// rate (no request in any window was sent late: max rate or a closed
// model, where a request is due when it goes out) is not judged: its
// Saturation has Unscheduled set and says so.
func DetectSaturation(s *summary.Series, skip func(from time.Time) bool) *Saturation {
	sec := s.Width.Seconds()
	var pts []Point
	origin := -1
	scheduled := false
	for i := range s.Windows {
		w := &s.Windows[i]
		if w.Requests == 0 || w.Latency == nil || skip != nil && skip(s.From(i)) {
			continue
		}
		if origin < 0 {
			origin = i
		}
		scheduled = scheduled || w.MaxSendLag > 0
		pts = append(pts, Point{
			Offset:     time.Duration(i-origin) * s.Width,
			Offered:    float64(w.Requests) / sec,
			Sent:       float64(w.Sent) / sec,
			Throughput: float64(w.Succeeded) / sec,
			InFlight:   w.Busy.Seconds() / sec,
			P50:        w.Latency.Quantile(0.5),
			P99:        w.Latency.Quantile(0.99),
		})
	}
	if len(pts) < 3 {
		return nil
	}
	// The last window is usually partial (the schedule ended inside it):
	// its offered rate is not comparable, so it is shown, not judged.
	judged := pts[:len(pts)-1]
	sat := &Saturation{Points: pts, BaseP50: judged[0].P50}
	for _, p := range judged {
		sat.BaseP50 = min(sat.BaseP50, p.P50)
	}
	if !scheduled {
		// Requests were due when they went out, so "offered" is only what
		// was sent: a window whose requests complete in the next one
		// "falls behind" it with no server limit in sight (one JVM run at
		// 833/s was called saturated at 0/s).
		sat.Unscheduled = true
		sat.Text = "saturation not judged: the run had no offered rate (max rate or a closed model, send lag 0 in every window), " +
			"so throughput had no schedule to fall behind; find the knee with an open-model rate ramp or surge capacity"
		return sat
	}
	for i := range judged {
		p := &judged[i]
		p.Saturated = p.Throughput < satFollow*p.Offered && float64(p.P50) >= satLatency*float64(sat.BaseP50)
	}
	// The first run of at least satMinWindows consecutive saturated windows.
	first, run := -1, 0
	for i, p := range judged {
		if !p.Saturated {
			run = 0
			continue
		}
		run++
		if run == satMinWindows {
			first = i - satMinWindows + 1
			break
		}
	}
	if first < 0 {
		maxRate := 0.0
		for _, p := range judged {
			maxRate = max(maxRate, p.Offered)
		}
		sat.Text = fmt.Sprintf("no saturation: throughput followed the offered rate (up to %.1f/s) in every window", maxRate)
		return sat
	}
	sat.Detected = true
	sat.FirstBehind, sat.At = judged[first].Offered, judged[first].Offset
	var xs []float64
	genBehind := 0
	for _, p := range judged[first:] {
		if !p.Saturated {
			continue
		}
		xs = append(xs, p.Throughput)
		sat.PeakP99 = max(sat.PeakP99, p.P99)
		sat.PeakInFlight = max(sat.PeakInFlight, p.InFlight)
		if p.Sent < satFollow*p.Offered {
			genBehind++
		}
	}
	sat.Capacity = median(slices.Clone(xs))
	sat.GeneratorLimited = genBehind*2 > len(xs)
	sat.Text = fmt.Sprintf("saturation: from %s into the run (offered %.1f/s) throughput stopped following the offered rate "+
		"and held at about %.1f/s while in-flight requests rose to %.0f and p99 to %s (p50 was %s unloaded): "+
		"the knee is near %.0f requests/s",
		sat.At, sat.FirstBehind, sat.Capacity, sat.PeakInFlight, latency.Round3(sat.PeakP99), latency.Round3(sat.BaseP50), sat.Capacity)
	if sat.GeneratorLimited {
		sat.Text += "; but the generator also fell behind (sent < 90% of offered): check the generator before blaming the server"
	}
	return sat
}
