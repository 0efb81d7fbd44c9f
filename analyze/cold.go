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
)

// ColdPhase is a slower phase at the start of a run, found in the latency
// by request order.
type ColdPhase struct {
	// Requests is the length of the cold phase in requests (of one run when
	// runs overlay), Duration its length in schedule time: from the first
	// request's intended send time to the first steady request's.
	Requests int64         `json:"requests"`
	Duration time.Duration `json:"duration"`
	// End is the intended send offset, from the run's start, of the first
	// steady-state request: steady-state figures count from there.
	End time.Duration `json:"end"`
	// FirstMean is the mean latency of the first batch of requests,
	// ColdMean that of the whole cold phase, SteadyMean that of the rest.
	FirstMean  time.Duration `json:"first_mean"`
	ColdMean   time.Duration `json:"cold_mean"`
	SteadyMean time.Duration `json:"steady_mean"`
	// Slowdown is ColdMean / SteadyMean.
	Slowdown float64 `json:"slowdown"`
	// Threshold is the level the cold phase's median batch mean had to
	// exceed: the steady median plus the robust margin.
	Threshold time.Duration `json:"threshold"`
	// Text says it in a sentence.
	Text string `json:"text"`
}

type batch struct {
	n           int64
	sum         float64 // ns
	first, last time.Duration
}

func (b batch) mean() float64 { return b.sum / float64(b.n) }

// batches groups a Sequence's non-empty buckets into batches of at least
// coldBatch requests.
func batches(s *summary.Sequence) []batch {
	var out []batch
	var cur batch
	for _, b := range s.Buckets {
		if b.Count == 0 {
			continue
		}
		if cur.n == 0 {
			cur.first, cur.last = b.First, b.Last
		}
		cur.n += b.Count
		cur.sum += b.Sum
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

// mserCut returns the truncation point d in [0, len(bs)/2] that minimises
// the squared standard error of the mean of the remaining batches,
// Σ w(x − x̄)² / (Σ w)² over bs[d:] (the marginal standard error rule,
// White 1997, weighted by batch size). Latencies are in milliseconds to
// keep the sums well conditioned.
func mserCut(bs []batch) int {
	n := len(bs)
	w, wx, wxx := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for i := n - 1; i >= 0; i-- {
		x := bs[i].mean() / 1e6
		f := float64(bs[i].n)
		w[i], wx[i], wxx[i] = w[i+1]+f, wx[i+1]+f*x, wxx[i+1]+f*x*x
	}
	best, bestD := math.Inf(1), 0
	for d := 0; d <= n/2; d++ {
		mean := wx[d] / w[d]
		sse := max(wxx[d]-w[d]*mean*mean, 0)
		if v := sse / (w[d] * w[d]); v < best {
			best, bestD = v, d
		}
	}
	return bestD
}

// DetectCold looks for a cold phase at the start of s: the truncation
// point that minimises the standard error of the remaining mean (MSER),
// accepted only when the requests before it are clearly slower than those
// after (median batch mean above the steady median by 3 robust standard
// deviations and by 50 %). It returns nil when there is none, or when s is
// too short to tell (fewer than 4 batches).
func DetectCold(s *summary.Sequence) *ColdPhase {
	if s == nil {
		return nil
	}
	bs := batches(s)
	if len(bs) < 2*coldMinBatches {
		return nil
	}
	d := mserCut(bs)
	if d < coldMinBatches {
		return nil
	}
	steady := make([]float64, 0, len(bs)-d)
	for _, b := range bs[d:] {
		steady = append(steady, b.mean())
	}
	cold := make([]float64, 0, d)
	for _, b := range bs[:d] {
		cold = append(cold, b.mean())
	}
	med, sigma := medianMAD(steady)
	threshold := med + max(coldSigmas*sigma, coldMinRatio*med)
	if median(cold) <= threshold {
		return nil
	}
	var c ColdPhase
	var coldSum, steadySum float64
	var steadyN int64
	for _, b := range bs[:d] {
		c.Requests += b.n
		coldSum += b.sum
	}
	for _, b := range bs[d:] {
		steadyN += b.n
		steadySum += b.sum
	}
	c.End = bs[d].first
	c.Duration = c.End - bs[0].first
	c.FirstMean = dur(bs[0].mean())
	c.ColdMean = dur(coldSum / float64(c.Requests))
	c.SteadyMean = dur(steadySum / float64(steadyN))
	c.Threshold = dur(threshold)
	if c.SteadyMean > 0 {
		c.Slowdown = float64(c.ColdMean) / float64(c.SteadyMean)
	}
	c.Text = fmt.Sprintf("cold phase: the first %d requests (%s of the schedule) were slower, mean %s against %s "+
		"in the steady state after them (%.1f× slower); the first %d took %s on average. "+
		"Steady-state figures exclude them.",
		c.Requests, latency.Round3(c.Duration), latency.Round3(c.ColdMean), latency.Round3(c.SteadyMean), c.Slowdown, bs[0].n, latency.Round3(c.FirstMean))
	return &c
}
