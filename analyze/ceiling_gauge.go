package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Gauge-confirmation thresholds; see docs/methods.md.
const (
	// gaugePinnedShare: a pool is full over the plateau when its busy gauge
	// is at its maximum in at least this share of the plateau's windows,
	// and (for a pair with a waiting gauge) work waited in as many.
	gaugePinnedShare = 0.8
	// gaugeAgree: the pool's size agrees with the estimated ceiling when
	// they differ by at most this fraction of the size.
	gaugeAgree = 0.25
)

// CeilingPair names the gauges of one kind of pool: Busy counts the
// slots in use, Size the slots in all (empty when the exporter has none:
// the busy gauge's own maximum stands in), Waiting the work waiting for a
// slot (empty when there is none; a counter counts as waiting when it
// increased).
type CeilingPair struct {
	Busy, Size, Waiting string
	// What names the pool in a finding.
	What string
}

// CeilingGauges are the pools the ceiling's confirmation knows. The
// correlation presets (helper "correlate") name the same metrics for their
// own findings; this small table is the ceiling's, kept here so that the
// confirmation does not depend on them.
var CeilingGauges = []CeilingPair{
	{"surge_lab_pool_busy", "surge_lab_pool_size", "surge_lab_pool_waiting", "the lab's /pool"},
	{"hikaricp_connections_active", "hikaricp_connections_max", "hikaricp_connections_pending", "HikariCP's connection pool"},
	{"tomcat_threads_busy_threads", "tomcat_threads_config_max_threads", "", "Tomcat's request threads"},
	{"jetty_threads_busy", "jetty_threads_config_max", "jetty_threads_jobs", "Jetty's thread pool"},
	{"executor_active_threads", "executor_pool_max_threads", "executor_queued_tasks", "an executor's threads"},
	{"go_sql_stats_connections_in_use", "go_sql_stats_connections_max_open", "go_sql_stats_connections_waited_for", "Go database/sql's connection pool"},
}

// CeilingGauge is what a scrape showed of a pool over the ceiling's
// plateau.
type CeilingGauge struct {
	// Busy, Size and Waiting are the series read (name and labels); Size is
	// "" when the busy gauge's maximum over the run stood in for it.
	Busy    string `json:"busy"`
	Size    string `json:"size,omitempty"`
	Waiting string `json:"waiting,omitempty"`
	What    string `json:"what"`
	// Pool is the pool's size: Size's value, or Busy's maximum.
	Pool float64 `json:"pool"`
	// Windows counts the plateau windows the scrape covered; Pinned those
	// where Busy was at Pool, Waited those where work waited.
	Windows int `json:"windows"`
	Pinned  int `json:"pinned"`
	Waited  int `json:"waited"`
	// WaitingFirst and WaitingLast are the waiting gauge at the plateau's
	// first and last windows, WaitingMax its highest (increases for a
	// counter).
	WaitingFirst float64 `json:"waiting_first"`
	WaitingLast  float64 `json:"waiting_last"`
	WaitingMax   float64 `json:"waiting_max"`
	// Confirmed is true when the pool was full (and work waited) in at
	// least 80 % of the covered plateau windows; Agrees when, in
	// addition, Pool is within 25 % of the estimated ceiling.
	Confirmed bool   `json:"confirmed"`
	Agrees    bool   `json:"agrees"`
	Text      string `json:"text"`
}

// signalTrack and signalPoint are the summary's recorded series and
// their readings (summary.Signal), named for what the confirmation reads.
type (
	signalTrack = summary.Signal
	signalPoint = summary.SignalPoint
)

// gaugeAt returns a gauge's value at offset t: its last reading at or
// before t, its Initial before any.
func gaugeAt(tr *signalTrack, t time.Duration) float64 {
	v := tr.Initial
	for _, p := range tr.Points {
		if p.At > t {
			break
		}
		v = p.V
	}
	return v
}

// rose returns a counter's increase over (lo, hi], or a gauge's value at
// hi.
func rose(tr *signalTrack, lo, hi time.Duration) float64 {
	if tr.Kind != result.SignalCounter {
		return gaugeAt(tr, hi)
	}
	sum := 0.0
	for _, p := range tr.Points {
		if p.At > lo && p.At <= hi {
			sum += p.V
		}
	}
	return sum
}

// peak returns a gauge's largest value over the run.
func peak(tr *signalTrack) float64 {
	m := tr.Initial
	for _, p := range tr.Points {
		m = max(m, p.Max)
	}
	return m
}

// confirmCeiling looks in tracks for a pool full over c's plateau, in the
// windows of s, whose runs are runs; it sets c.Gauge to the first pair of
// CeilingGauges found that covers the plateau (a confirmed one first), and
// adds its clause to c.Text.
func confirmCeiling(c *Ceiling, s *summary.Series, runs []result.Meta, tracks []*signalTrack) {
	if c == nil || len(c.plateau) == 0 || len(tracks) == 0 || len(runs) == 0 {
		return
	}
	type key struct {
		run          int
		name, labels string
	}
	byKey := map[key]*signalTrack{}
	for _, tr := range tracks {
		byKey[key{tr.Run, tr.Name, tr.Labels}] = tr
	}
	var best *CeilingGauge
	for _, tr := range tracks {
		for _, pair := range CeilingGauges {
			if tr.Name != pair.Busy || tr.Kind == result.SignalCounter {
				continue
			}
			size := byKey[key{tr.Run, pair.Size, tr.Labels}]
			wait := byKey[key{tr.Run, pair.Waiting, tr.Labels}]
			g := judgePool(c, s, runs, tr, size, wait, pair)
			if g != nil && (best == nil || g.Confirmed && !best.Confirmed) {
				best = g
			}
		}
	}
	if best == nil {
		return
	}
	c.Gauge = best
	c.Text += "; " + best.Text
}

// judgePool reads one pool's gauges over c's plateau windows of its run,
// nil when the scrape covered none of them.
func judgePool(c *Ceiling, s *summary.Series, runs []result.Meta, busy, size, wait *signalTrack, pair CeilingPair) *CeilingGauge {
	g := &CeilingGauge{Busy: busy.Name + busy.Labels, What: pair.What, WaitingFirst: math.NaN()}
	if size != nil {
		g.Size = size.Name + size.Labels
	}
	if wait != nil {
		g.Waiting = wait.Name + wait.Labels
	}
	if busy.Run < 0 || busy.Run >= len(runs) {
		return nil
	}
	start := runs[busy.Run].Start
	for _, i := range c.plateau {
		lo := s.From(i).Sub(start)
		hi, mid := lo+s.Width, lo+s.Width/2
		if runOf(s.From(i).Add(s.Width/2), runs) != busy.Run || len(busy.Points) == 0 || busy.Points[0].At > hi {
			continue
		}
		pool := peak(busy)
		if size != nil {
			pool = gaugeAt(size, mid)
		}
		g.Pool = pool
		g.Windows++
		if pool > 0 && gaugeAt(busy, mid) >= pool-math.Max(0.5, 0.05*pool) {
			g.Pinned++
		}
		if wait != nil {
			w := rose(wait, lo, hi)
			if w > 0 {
				g.Waited++
			}
			if math.IsNaN(g.WaitingFirst) {
				g.WaitingFirst = w
			}
			g.WaitingLast, g.WaitingMax = w, max(g.WaitingMax, w)
		}
	}
	if g.Windows == 0 {
		return nil
	}
	if math.IsNaN(g.WaitingFirst) {
		g.WaitingFirst = 0
	}
	need := gaugePinnedShare * float64(g.Windows)
	g.Confirmed = float64(g.Pinned) >= need && (wait == nil || float64(g.Waited) >= need)
	g.Agrees = g.Confirmed && math.Abs(g.Pool-c.Concurrency) <= gaugeAgree*g.Pool
	g.Text = g.sentence(c)
	return g
}

// sentence says what the pool's gauges showed, next to the estimate.
func (g *CeilingGauge) sentence(c *Ceiling) string {
	sizeOf := g.Size
	if sizeOf == "" {
		sizeOf = "its own maximum over the run"
	}
	waited := ""
	if g.Waiting != "" {
		trend := "holding"
		switch {
		case g.WaitingLast > g.WaitingFirst:
			trend = "rising"
		case g.WaitingLast < g.WaitingFirst:
			trend = "falling"
		}
		waited = fmt.Sprintf(", and %s was above 0 in %d (%s, %.0f → %.0f, at most %.0f)",
			g.Waiting, g.Waited, trend, g.WaitingFirst, g.WaitingLast, g.WaitingMax)
	}
	saw := fmt.Sprintf("%s was at %.0f (%s) in %d of the %d plateau windows the scrape covered%s",
		g.Busy, g.Pool, sizeOf, g.Pinned, g.Windows, waited)
	switch {
	case g.Agrees && c.Detected:
		return fmt.Sprintf("the scrape confirms it: %s: %s of %.0f is full", saw, g.What, g.Pool)
	case g.Confirmed && c.Detected:
		return fmt.Sprintf("the scrape shows %s full but not as the limit: %s, against the estimated %.1f at once, so another limit binds first",
			g.What, saw, c.Concurrency)
	case g.Confirmed:
		return fmt.Sprintf("the scrape shows %s full: %s", g.What, saw)
	}
	return fmt.Sprintf("the scrape does not show %s full: %s", g.What, saw)
}

// runOf returns the index of the run whose start is the latest at or
// before t, -1 when none is.
func runOf(t time.Time, runs []result.Meta) int {
	best := -1
	for i := range runs {
		if !runs[i].Start.After(t) && (best < 0 || runs[i].Start.After(runs[best].Start)) {
			best = i
		}
	}
	return best
}
