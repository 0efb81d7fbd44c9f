package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Cold-phase thresholds; see docs/methods.md.
const (
	// coldBatch is the fewest requests averaged into one point of the
	// series the truncation rule runs on (MSER-5 uses batches of 5).
	coldBatch = 5
	// coldMinBatches is the fewest batches a cold phase must span.
	coldMinBatches = 2
	// coldSigmas and coldMinRatio: the cold phase's median batch mean must
	// exceed the steady median by coldSigmas robust standard deviations
	// and by coldMinRatio of the steady median. With 10 %, a clean 20ms
	// endpoint whose first 10 requests ran 1.2× slower on a loaded CI
	// machine (connections opening while other tests started) was called
	// a cold phase: a finding should be a start clearly slower than that.
	coldSigmas   = 3
	coldMinRatio = 0.5
	// coldMinDuration: a cold phase lasts at least this long in schedule
	// time. Shorter is the first connections opening and the processes'
	// first burst of work: nginx at max rate with 50 connections, whose
	// first 105 requests (6ms of the schedule) ran 1.8× slower, is no
	// server warming up.
	coldMinDuration = 100 * time.Millisecond
	// coldPrefix: a cold phase starts slow. The median of its first
	// quarter of batches (at least coldMinBatches) must be over the
	// threshold too; a slow stretch after a start at the steady level is a
	// stall, not a cold phase.
	coldPrefix = 4
	// coldSettle: the cold phase ends where the requests come down, for
	// good, to the threshold or to the steady median plus this fraction of
	// the way up to the cold median, whichever is higher.
	coldSettle = 0.1
)

// ColdPhase is a slower phase at the start of a run, found in the server
// time (latency minus send lag) by request order.
type ColdPhase struct {
	// Requests is the length of the cold phase in requests (of one run when
	// runs overlay), Duration its length in schedule time: from the first
	// request's intended send time to the first steady request's.
	Requests int64         `json:"requests"`
	Duration time.Duration `json:"duration"`
	// End is the intended send offset, from the run's start, of the first
	// steady-state request: steady-state figures count from there.
	End time.Duration `json:"end"`
	// FirstMean is the mean server time of the first batch of requests,
	// ColdMean that of the whole cold phase, SteadyMean that of the rest.
	FirstMean  time.Duration `json:"first_mean"`
	ColdMean   time.Duration `json:"cold_mean"`
	SteadyMean time.Duration `json:"steady_mean"`
	// Slowdown is ColdMean / SteadyMean.
	Slowdown float64 `json:"slowdown"`
	// ColdMedian is the cold phase's median batch mean, SteadyMedian that
	// of the batches after it, Threshold the level ColdMedian had to
	// exceed: SteadyMedian plus the robust margin.
	ColdMedian   time.Duration `json:"cold_median"`
	SteadyMedian time.Duration `json:"steady_median"`
	Threshold    time.Duration `json:"threshold"`
	// Unjudged, when not empty, says why the cold phase was not judged:
	// what the run recorded of the machine says it may be the machine's
	// (see machineBusy). Nothing is then cut from the steady state.
	Unjudged string `json:"unjudged,omitempty"`
	// Text says it in a sentence.
	Text string `json:"text"`
}

// Stall is a slower stretch that the cold-phase search found after a start
// at the steady level: the server (or the host) stopped for a while in the
// middle of the run. It is not a cold phase and nothing is cut for it.
type Stall struct {
	// Start is the intended send offset of its first slow batch, from the
	// run's start, Duration its length in schedule time, Requests its
	// size in requests.
	Start    time.Duration `json:"start"`
	Duration time.Duration `json:"duration"`
	Requests int64         `json:"requests"`
	// Mean is its mean server time, SteadyMean that of the rest of the
	// run, Slowdown their ratio.
	Mean       time.Duration `json:"mean"`
	SteadyMean time.Duration `json:"steady_mean"`
	Slowdown   float64       `json:"slowdown"`
	// Unjudged, when not empty, says why the stall was not judged, as for
	// ColdPhase.
	Unjudged string `json:"unjudged,omitempty"`
	Text     string `json:"text"`
}

type batch struct {
	n           int64
	server      float64 // ns
	first, last time.Duration
}

// mean is the batch's mean server time.
func (b batch) mean() float64 { return b.server / float64(b.n) }

// batches groups non-empty buckets into batches of at least coldBatch
// requests.
func batches(buckets []summary.SeqBucket) []batch {
	var out []batch
	var cur batch
	for _, b := range buckets {
		if b.Count == 0 {
			continue
		}
		if cur.n == 0 {
			cur.first, cur.last = b.First, b.Last
		}
		cur.n += b.Count
		cur.server += b.Server
		cur.first, cur.last = min(cur.first, b.First), max(cur.last, b.Last)
		if cur.n >= coldBatch {
			out = append(out, cur)
			cur = batch{}
		}
	}
	if cur.n > 0 {
		out = append(out, cur)
	}
	return out
}

// mserErrors returns, for each truncation point d in [0, len(bs)/2], the
// squared standard error of the mean of the remaining batches,
// Σ w(x − x̄)² / (Σ w)² over bs[d:] (the marginal standard error rule,
// White 1997, weighted by batch size). Latencies are in milliseconds to
// keep the sums well conditioned.
func mserErrors(bs []batch) []float64 {
	n := len(bs)
	w, wx, wxx := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for i := n - 1; i >= 0; i-- {
		x := bs[i].mean() / 1e6
		f := float64(bs[i].n)
		w[i], wx[i], wxx[i] = w[i+1]+f, wx[i+1]+f*x, wxx[i+1]+f*x*x
	}
	v := make([]float64, n/2+1)
	for d := range v {
		mean := wx[d] / w[d]
		v[d] = max(wxx[d]-w[d]*mean*mean, 0) / (w[d] * w[d])
	}
	return v
}

// argmin returns the index of the least of v[:limit+1].
func argmin(v []float64, limit int) int {
	best, bestD := math.Inf(1), 0
	for d := 0; d <= limit && d < len(v); d++ {
		if v[d] < best {
			best, bestD = v[d], d
		}
	}
	return bestD
}

// cut is a truncation point d of a batch series and the levels it was
// judged by.
type cut struct {
	d                    int
	coldMed, med, thresh float64
}

// judge reports whether the batches before d are clearly slower than those
// after: median batch mean above the steady median by coldSigmas robust
// standard deviations and by coldMinRatio, and mean above the steady mean
// by coldMinRatio too (on nginx at max rate, a start whose median batch
// was over the threshold while its mean equalled the steady mean, its
// tail's, was called a cold phase "1.0× slower").
func judge(bs []batch, d int) (cut, bool) {
	steady := make([]float64, 0, len(bs)-d)
	for _, b := range bs[d:] {
		steady = append(steady, b.mean())
	}
	cold := make([]float64, 0, d)
	for _, b := range bs[:d] {
		cold = append(cold, b.mean())
	}
	med, sigma := medianMAD(steady)
	c := cut{d: d, coldMed: median(cold), med: med, thresh: med + max(coldSigmas*sigma, coldMinRatio*med)}
	return c, c.coldMed > c.thresh && span(bs[:d]).mean() > (1+coldMinRatio)*span(bs[d:]).mean()
}

// startsSlow reports whether the first quarter of the batches before c.d
// (at least coldMinBatches) has its median over c's threshold.
func startsSlow(bs []batch, c cut) bool {
	k := max(coldMinBatches, (c.d+coldPrefix-1)/coldPrefix)
	first := make([]float64, 0, k)
	for _, b := range bs[:k] {
		first = append(first, b.mean())
	}
	return median(first) > c.thresh
}

// settle moves c's end back to where the requests reach the steady level
// for good: the first batch j ≥ coldMinBatches at or under the settle level
// such that the median of the batches from j to c's end is too. The level
// is the threshold, or the steady median plus coldSettle of the way up to
// the cold median when that is higher. MSER alone can run on through a
// stretch after the cold phase that is slower than the steady state but
// nothing like the cold phase (on /cold with n=400 at max rate, CPU
// contention at 7–10ms against 4ms made it cut 576 and 672 requests in);
// the decay itself ends where it meets that level. c is kept when the
// shorter cut fails the rule.
func settle(bs []batch, c cut) cut {
	level := max(c.thresh, c.med+coldSettle*(c.coldMed-c.med))
	rest := make([]float64, 0, c.d)
	for j := coldMinBatches; j < c.d; j++ {
		if bs[j].mean() > level {
			continue
		}
		rest = rest[:0]
		for _, b := range bs[j:c.d] {
			rest = append(rest, b.mean())
		}
		if median(rest) <= level {
			if s, ok := judge(bs, j); ok {
				return s
			}
			return c
		}
	}
	return c
}

// findCut looks for a cold phase in bs: the MSER truncation point, and when
// that fails its threshold, the best shorter one, and so on (a long cut can
// fail where a short cold phase, such as a JVM's first 48 requests, is
// plain). A cut that passes but whose first batches are at the steady level
// is a stall: the first one is returned as stall, and the search goes on.
func findCut(bs []batch) (cold, stall *cut) {
	if len(bs) < 2*coldMinBatches {
		return nil, nil
	}
	v := mserErrors(bs)
	for limit := len(bs) / 2; limit >= coldMinBatches; {
		d := argmin(v, limit)
		if d < coldMinBatches {
			return nil, stall
		}
		if c, ok := judge(bs, d); ok {
			if startsSlow(bs, c) {
				c = settle(bs, c)
				if bs[c.d].first-bs[0].first < coldMinDuration {
					return nil, stall
				}
				return &c, stall
			}
			if stall == nil {
				stall = &c
			}
		}
		limit = d - 1
	}
	return nil, stall
}

// DetectCold looks for a cold phase at the start of s; see detectStart. It
// returns nil when there is none, or when s is too short to tell (fewer
// than 4 batches).
func DetectCold(s *summary.Sequence) *ColdPhase {
	c, _ := detectStart(s)
	return c
}

// detectStart looks for a cold phase at the start of s, on server time
// (latency minus send lag, so requests that waited in the generator's own
// queue are not one): the truncation point that minimises the standard
// error of the remaining mean (MSER), or a shorter one when that fails,
// accepted when the requests before it are clearly slower than those after
// (median batch mean above the steady median by 3 robust standard
// deviations and by 50 %) and the first of them are too. It searches
// s.Buckets and, when those are coarser than one request each, s.Head too,
// so that a short cold phase in a long run is not one bucket. A slow
// stretch after a start at the steady level is returned as a stall.
func detectStart(s *summary.Sequence) (*ColdPhase, *Stall) {
	if s == nil {
		return nil, nil
	}
	all := batches(s.Buckets)
	total := batch{}
	if len(all) > 0 {
		total = span(all)
	}
	var cold *ColdPhase
	var stall *Stall
	k, st := findCut(all)
	if k != nil {
		cold = coldPhase(all, *k, total)
	}
	if st != nil {
		stall = stallOf(all, *st, total)
	}
	if s.Stride > 1 && (cold == nil || cold.Requests <= summary.HeadLen/2) {
		head := batches(s.Head)
		hk, hst := findCut(head)
		// The head's cut is judged against the head's steady part; it
		// must also be clearly slower than the rest of the whole run (a
		// head cut once read 7.64ms "against 116ms after them").
		if hk != nil {
			if c := coldPhase(head, *hk, total); c.Slowdown > 1+coldMinRatio {
				cold = c
			}
		}
		if stall == nil && hst != nil {
			stall = stallOf(head, *hst, total)
		}
	}
	if cold != nil {
		return cold, nil
	}
	return nil, stall
}

// span sums bs, not empty, into one batch.
func span(bs []batch) batch {
	out := batch{first: bs[0].first, last: bs[len(bs)-1].last}
	for _, b := range bs {
		out.n += b.n
		out.server += b.server
	}
	return out
}

// rest returns the mean server time of total without part.
func rest(total, part batch) time.Duration {
	if n := total.n - part.n; n > 0 {
		return dur((total.server - part.server) / float64(n))
	}
	return 0
}

func coldPhase(bs []batch, k cut, total batch) *ColdPhase {
	cold := span(bs[:k.d])
	c := &ColdPhase{
		Requests:     cold.n,
		End:          bs[k.d].first,
		FirstMean:    dur(bs[0].mean()),
		ColdMean:     dur(cold.mean()),
		SteadyMean:   rest(total, cold),
		ColdMedian:   dur(k.coldMed),
		SteadyMedian: dur(k.med),
		Threshold:    dur(k.thresh),
	}
	c.Duration = c.End - bs[0].first
	if c.SteadyMean > 0 {
		c.Slowdown = float64(c.ColdMean) / float64(c.SteadyMean)
	}
	c.Text = fmt.Sprintf("cold phase: the first %d requests (%s of the schedule) were slower in server time "+
		"(latency minus send lag), mean %s against %s after them (%.1f× slower), the first %d at %s; "+
		"their median batch of %d, %s, is over the threshold %s (the steady median %s plus the larger of 3 robust "+
		"standard deviations and 50 %%).",
		c.Requests, latency.Round3(c.Duration), latency.Round3(c.ColdMean), latency.Round3(c.SteadyMean), c.Slowdown,
		bs[0].n, latency.Round3(c.FirstMean), coldBatch, latency.Round3(c.ColdMedian), latency.Round3(c.Threshold),
		latency.Round3(c.SteadyMedian))
	return c
}

func stallOf(bs []batch, k cut, total batch) *Stall {
	from := 0
	for from < k.d-1 && bs[from].mean() <= k.thresh {
		from++
	}
	if from == 0 {
		// Slow from its first batch but not in its first quarter: neither
		// a clear start-up nor a stall after a steady start.
		return nil
	}
	slow := span(bs[from:k.d])
	st := &Stall{
		Start:      bs[from].first,
		Duration:   bs[k.d].first - bs[from].first,
		Requests:   slow.n,
		Mean:       dur(slow.mean()),
		SteadyMean: rest(total, slow),
	}
	if st.Duration < coldMinDuration {
		return nil
	}
	if st.SteadyMean > 0 {
		st.Slowdown = float64(st.Mean) / float64(st.SteadyMean)
	}
	st.Text = fmt.Sprintf("stall, not a cold phase: from +%s for %s of the schedule, %d requests were slower in server time, "+
		"mean %s against %s in the rest of the run (%.1f× slower); the run's first %d requests, at %s, were under "+
		"the threshold %s (the steady median %s plus the larger of 3 robust standard deviations and 50 %%), "+
		"so this is no start-up and nothing is cut from the steady state.",
		latency.Round3(st.Start), latency.Round3(st.Duration), st.Requests, latency.Round3(st.Mean), latency.Round3(st.SteadyMean),
		st.Slowdown, bs[0].n, latency.Round3(dur(bs[0].mean())), latency.Round3(dur(k.thresh)), latency.Round3(dur(k.med)))
	return st
}

// machineBusy returns why the machine rather than the server may have made
// requests slow, "" when nothing the run recorded says so: the generator
// limited or starved of CPU, surge's own wait for a CPU, or the machine's
// CPU pressure (the grounds on which spikes are left unjudged too). On a
// 2-core machine shared with other work, clean nginx runs at 500/s had
// starts 13× slower for 1.9 s in server time while the run queue reached
// 20 on 2 CPUs.
func machineBusy(g Generator) string {
	switch {
	case g.Limited:
		return "the generator limited this run (see the generator line)"
	case g.Starved:
		return "the generator was starved of CPU (see the generator line)"
	}
	if busy, why := g.Machine.contended(); busy {
		return why
	}
	if g.Machine.Pressure > PressureLimit {
		return fmt.Sprintf("other processes competed for the CPU (some task waited for one %.0f%% of the run, over %.0f%%)",
			100*g.Machine.Pressure, 100*PressureLimit)
	}
	return ""
}

// unjudge marks c not judged because of why: the slow start may be the
// machine's, so nothing is cut from the steady state.
func (c *ColdPhase) unjudge(why string) {
	c.Unjudged = why
	c.Text = fmt.Sprintf("cold phase not judged: the first %d requests (%s of the schedule) were slower in server time, "+
		"mean %s against %s after them (%.1f× slower), but %s, so they may be the machine's, not the server's; "+
		"nothing is cut from the steady state; rerun on a quieter machine",
		c.Requests, latency.Round3(c.Duration), latency.Round3(c.ColdMean), latency.Round3(c.SteadyMean), c.Slowdown, why)
}

// unjudge marks st not judged because of why, as ColdPhase.unjudge.
func (st *Stall) unjudge(why string) {
	st.Unjudged = why
	st.Text = fmt.Sprintf("stall not judged: from +%s for %s of the schedule, %d requests were slower in server time, "+
		"mean %s against %s in the rest of the run (%.1f× slower), but %s, so it may be the machine's, not the server's",
		latency.Round3(st.Start), latency.Round3(st.Duration), st.Requests, latency.Round3(st.Mean), latency.Round3(st.SteadyMean),
		st.Slowdown, why)
}
