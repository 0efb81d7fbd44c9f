package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Spike thresholds; see docs/methods.md.
const (
	// SpikeQuantile is the window percentile watched for spikes, q in [0,1].
	SpikeQuantile = 0.99
	// spikeSigmas: a spike window's p99 exceeds the median window p99 by
	// this many robust standard deviations (1.4826·MAD) ...
	spikeSigmas = 5
	// ... and by at least this fraction of it (the window p99 at least
	// doubles), so neither a very steady run's millisecond of scheduler
	// noise nor the tail of an endpoint whose cost varies per request (a
	// search over random date ranges) counts as a spike; stop-the-world
	// pauses and pool stalls multiply p99 many times.
	spikeMinRatio = 1.0
	// spikeMinWindows is the fewest steady windows needed to judge.
	spikeMinWindows = 5
	// spikeMinSlow is the fewest requests slower than the threshold an
	// episode must hold. A window of fewer than 100 requests has the
	// slowest one as its p99, so without it one slow request at 20/s (or
	// any request at 1/s) made an episode. A stall delays every request
	// due during it, so it is found when it lasts 5/rate or longer (250ms
	// at 20/s, 10ms at 500/s); shorter ones are isolated slow requests.
	spikeMinSlow = 5
)

// Spikes are the latency spikes of a run: windows whose p99 stood out
// from the steady level, merged into episodes.
type Spikes struct {
	// Window is the width of the windows judged.
	Window time.Duration `json:"window"`
	// Level is the median window p99 and Sigma its robust standard
	// deviation (1.4826·MAD over windows); Threshold = Level + max(5·Sigma,
	// 1.0·Level).
	Level     time.Duration `json:"level"`
	Sigma     time.Duration `json:"sigma"`
	Threshold time.Duration `json:"threshold"`
	// Windows is the number of windows judged.
	Windows int `json:"windows"`
	// Slow counts the requests slower than Threshold in the judged windows.
	Slow     int64     `json:"slow"`
	Episodes []Episode `json:"episodes"`
	// Period is the median time between episode starts when there are at
	// least three, 0 otherwise; Regular says whether every interval is
	// within one window of it.
	Period time.Duration `json:"period,omitempty"`
	// GeneratorWindows counts windows over the threshold that are not
	// counted as spikes because their send lag explains half the excess
	// or more: the generator stalled, not the server.
	GeneratorWindows int `json:"generator_windows"`
	// Isolated counts the runs of windows over the threshold left out
	// because they held fewer than 5 slow requests (spikeMinSlow): single
	// slow requests, not an episode. IsolatedSlow is how many they held.
	Isolated     int   `json:"isolated"`
	IsolatedSlow int64 `json:"isolated_slow"`
	// Unjudged, when set, says why the episodes are not claimed as the
	// server's: the generator was limited or starved of CPU during the
	// run, so a window's slowness may be the machine's (at max rate send
	// lag is 0 by construction and cannot show it per window). The
	// episodes are kept for reading.
	Unjudged string `json:"unjudged,omitempty"`
	Regular  bool   `json:"regular,omitempty"`
	Text     string `json:"text"`
}

// Episode is a run of consecutive spike windows.
type Episode struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Offset is Start measured from the first judged window's start.
	Offset time.Duration `json:"offset"`
	// Peak is the highest window p99 in the episode, Max its slowest request.
	Peak time.Duration `json:"peak"`
	Max  time.Duration `json:"max"`
	// Requests are those due in the episode; Slow those slower than the
	// threshold; Share = Slow / Spikes.Slow, the part of all slow requests
	// this episode holds.
	Requests int64   `json:"requests"`
	Slow     int64   `json:"slow"`
	Share    float64 `json:"share"`
}

// countAbove returns how many durations recorded in c exceed d, to the
// histogram's resolution.
func countAbove(c *latency.Coarse, d time.Duration) int64 {
	n := c.Count()
	if n == 0 || c.Max() <= d {
		return 0
	}
	// Smallest rank r in [1, n] whose value exceeds d.
	lo, hi := int64(1), n
	for lo < hi {
		mid := (lo + hi) / 2
		if c.Quantile((float64(mid)-0.5)/float64(n)) > d {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return n - lo + 1
}

// DetectSpikes judges the windows of s whose start is not excluded by skip
// (the cold phase): a window is a spike when its p99 exceeds the median
// window p99 by max(5 robust standard deviations, 100 %), and its send lag
// does not explain half the excess. Consecutive spike windows form an
// episode when they hold at least 5 requests slower than the threshold. It
// returns nil when fewer than 5 windows hold
// requests.
func DetectSpikes(s *summary.Series, skip func(from time.Time) bool) *Spikes {
	type win struct {
		i   int
		p99 time.Duration
		c   *latency.Coarse
		lag time.Duration
	}
	var ws []win
	for i := range s.Windows {
		w := &s.Windows[i]
		if w.Latency == nil || w.Latency.Count() == 0 || skip != nil && skip(s.From(i)) {
			continue
		}
		ws = append(ws, win{i, w.Latency.Quantile(SpikeQuantile), w.Latency, w.MaxSendLag})
	}
	if len(ws) < spikeMinWindows {
		return nil
	}
	p99s := make([]float64, len(ws))
	for i, w := range ws {
		p99s[i] = float64(w.p99)
	}
	med, sigma := medianMAD(p99s)
	sp := &Spikes{Window: s.Width, Level: dur(med), Sigma: dur(sigma), Windows: len(ws),
		Threshold: dur(med + max(spikeSigmas*sigma, spikeMinRatio*med))}
	for _, w := range ws {
		sp.Slow += countAbove(w.c, sp.Threshold)
	}
	origin := s.From(ws[0].i)
	var cur *Episode
	last := -2
	for _, w := range ws {
		if w.p99 <= sp.Threshold {
			continue
		}
		if 2*w.lag >= w.p99-sp.Level {
			// Half the excess or more was spent waiting inside the
			// generator: its stall, not the server's.
			sp.GeneratorWindows++
			continue
		}
		if cur == nil || w.i != last+1 {
			sp.Episodes = append(sp.Episodes, Episode{Start: s.From(w.i), Offset: s.From(w.i).Sub(origin)})
			cur = &sp.Episodes[len(sp.Episodes)-1]
		}
		last = w.i
		cur.End = s.From(w.i + 1)
		cur.Peak = max(cur.Peak, w.p99)
		cur.Max = max(cur.Max, w.c.Max())
		cur.Requests += w.c.Count()
		cur.Slow += countAbove(w.c, sp.Threshold)
	}
	sp.dropIsolated()
	for i := range sp.Episodes {
		if sp.Slow > 0 {
			sp.Episodes[i].Share = float64(sp.Episodes[i].Slow) / float64(sp.Slow)
		}
	}
	if n := len(sp.Episodes); n >= 3 {
		gaps := make([]float64, n-1)
		for i := 1; i < n; i++ {
			gaps[i-1] = float64(sp.Episodes[i].Start.Sub(sp.Episodes[i-1].Start))
		}
		sp.Period = dur(median(gaps))
		sp.Regular = true
		for i := 1; i < n; i++ {
			g := sp.Episodes[i].Start.Sub(sp.Episodes[i-1].Start)
			if math.Abs(float64(g-sp.Period)) > float64(s.Width) {
				sp.Regular = false
			}
		}
	}
	sp.Text = sp.sentence()
	return sp
}

// dropIsolated removes the episodes holding fewer than spikeMinSlow slow
// requests, counting them in Isolated.
func (sp *Spikes) dropIsolated() {
	kept := sp.Episodes[:0]
	for _, e := range sp.Episodes {
		if e.Slow < spikeMinSlow {
			sp.Isolated++
			sp.IsolatedSlow += e.Slow
			continue
		}
		kept = append(kept, e)
	}
	sp.Episodes = kept
}

// discount marks the episodes unjudged when g says the generator was
// limited or starved of CPU, or that other processes competed for it
// (surge's wait for a CPU over WaitLimit of its ready time, or the
// machine's CPU pressure over PressureLimit): on a 2-core machine shared with other work,
// clean nginx runs had episodes of 6–1,700 slow requests (p99 up to
// 434ms against 1.6ms) while the machine held both processes off the
// CPU, and only the run-level figures saw it.
func (sp *Spikes) discount(g Generator) {
	if sp == nil || len(sp.Episodes) == 0 {
		return
	}
	why := g.Text
	busy, busyWhy := g.Machine.contended()
	switch {
	case g.Limited || g.Starved:
	case busy:
		// surge's own wait for a CPU, judged as the generator health
		// judges it.
		why = busyWhy
	case g.Machine.Pressure > PressureLimit:
		// The machine's pressure: a server on the same machine waited too.
		why = fmt.Sprintf("other processes competed for the CPU (some task waited for one %.0f%% of the run, over %.0f%%)",
			100*g.Machine.Pressure, 100*PressureLimit)
	default:
		return
	}
	sp.Unjudged = why
	sp.Text = fmt.Sprintf("spikes not judged: %d window run(s) rose over %s (steady p99 %s), but %s, so they may be the machine's, not the server's; rerun on a quieter machine",
		len(sp.Episodes), latency.Round3(sp.Threshold), latency.Round3(sp.Level), why)
}

func (sp *Spikes) sentence() string {
	s := sp.serverSentence()
	if sp.Isolated > 0 {
		s += fmt.Sprintf("; %d window run(s) over the threshold held only %d slow request(s) in all, fewer than %d each: isolated slow requests, not an episode",
			sp.Isolated, sp.IsolatedSlow, spikeMinSlow)
	}
	if sp.GeneratorWindows > 0 {
		s += fmt.Sprintf("; %d window(s) over the threshold were left out because the generator sent late (send lag explains the excess)", sp.GeneratorWindows)
	}
	return s
}

func (sp *Spikes) serverSentence() string {
	if len(sp.Episodes) == 0 {
		return fmt.Sprintf("no latency spikes: no run of %s windows with p99 over %s (steady p99 %s + max(5×%s, 100%%)) held %d or more slower requests, in %d windows",
			sp.Window, latency.Round3(sp.Threshold), latency.Round3(sp.Level), latency.Round3(sp.Sigma), spikeMinSlow, sp.Windows)
	}
	var slow int64
	var peak time.Duration
	for _, e := range sp.Episodes {
		slow += e.Slow
		peak = max(peak, e.Peak)
	}
	s := fmt.Sprintf("%d latency spike episode(s): window p99 up to %s against a steady %s (threshold %s); "+
		"they hold %d of the %d requests slower than the threshold (%.0f%%)",
		len(sp.Episodes), latency.Round3(peak), latency.Round3(sp.Level), latency.Round3(sp.Threshold), slow, sp.Slow, 100*ratio(slow, sp.Slow))
	if sp.Period > 0 && sp.Regular {
		s += fmt.Sprintf("; they recur every %s, like a periodic pause (GC, a cron job, a flush)", latency.Round3(sp.Period))
	}
	return s
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
