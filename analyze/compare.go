package analyze

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Defaults for Compare.
const (
	DefaultResamples  = 1000
	DefaultConfidence = 0.95
	// DefaultMinChange is the smallest relative change judged: below 1 %
	// the block histograms (0.5 % resolution) cannot tell.
	DefaultMinChange = 0.01
)

// Metric names, in report order.
const (
	MetricCount      = "count"
	MetricErrors     = "errors"
	MetricMean       = "mean"
	MetricP50        = "p50"
	MetricP90        = "p90"
	MetricP95        = "p95"
	MetricP99        = "p99"
	MetricMax        = "max"
	MetricThroughput = "throughput"
)

// Metrics lists every compared figure in report order.
var Metrics = []string{MetricCount, MetricErrors, MetricMean, MetricP50, MetricP90, MetricP95, MetricP99, MetricMax, MetricThroughput}

// Verdicts.
const (
	Improved    = "improved"
	Regressed   = "regressed"
	NoChange    = "no significant change"
	NotJudged   = "not judged"
	metricCount = 9
)

// CompareOptions configures Compare. The zero value is usable.
type CompareOptions struct {
	// Resamples is the number of bootstrap resamples (0 = DefaultResamples).
	Resamples int
	// Confidence is the two-sided confidence level in (0,1) (0 =
	// DefaultConfidence).
	Confidence float64
	// MinChange is the smallest relative change that can be a verdict (0 =
	// DefaultMinChange; negative = none).
	MinChange float64
	// Warmup is left out at the start of every run on both sides. Negative
	// means automatic: the latest cold phase found in any run (by
	// DetectCold on its time blocks), so both sides lose the same time.
	Warmup time.Duration
	// Seed seeds the resampling, so a comparison is reproducible.
	Seed uint64
}

// Comparison is the result of Compare.
type Comparison struct {
	// Excluded is the time left out at the start of every run, on both
	// sides; ExcludedWhy says why.
	Excluded    time.Duration `json:"excluded"`
	ExcludedWhy string        `json:"excluded_why"`
	// BeforeRuns and AfterRuns count the runs of each side.
	BeforeRuns int `json:"before_runs"`
	AfterRuns  int `json:"after_runs"`
	// Block is the time-block width resampled, BlockLength the number of
	// consecutive blocks drawn together.
	Block       time.Duration `json:"block"`
	BlockLength int           `json:"block_length"`
	Resamples   int           `json:"resamples"`
	Confidence  float64       `json:"confidence"`
	MinChange   float64       `json:"min_change"`
	// Labels holds the total first (Label "", All true), then each label
	// seen on both sides.
	Labels []LabelComparison `json:"labels"`
}

// LabelComparison compares one label.
type LabelComparison struct {
	Label   string   `json:"label"`
	All     bool     `json:"all"`
	Metrics []Metric `json:"metrics"`
}

// Metric is one figure before and after.
type Metric struct {
	Name string `json:"name"`
	// Unit: "requests", "ratio" (errors, in [0,1]), "ns" or "req/s".
	Unit   string  `json:"unit"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Change is after/before − 1 when Relative, else after − before (the
	// error rate, in [−1,1]); Low and High bound it at the confidence level.
	Change   float64 `json:"change"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Relative bool    `json:"relative"`
	// HigherIsWorse is true for latencies and errors, false for
	// throughput.
	HigherIsWorse bool   `json:"higher_is_worse"`
	Verdict       string `json:"verdict"`
}

// WorseBy returns by how much, at least, the metric got worse beyond noise:
// the confidence bound nearest to no change, in the worse direction; 0 or
// less when it did not get worse significantly.
func (m *Metric) WorseBy() float64 {
	if m.Verdict == NotJudged {
		return 0
	}
	if m.HigherIsWorse {
		return m.Low
	}
	return -m.High
}

// stats are the figures of a set of blocks, indexed like Metrics.
type stats [metricCount]float64

var quantiles = [...]struct {
	q   float64
	idx int
}{{0.5, 3}, {0.9, 4}, {0.95, 5}, {0.99, 6}}

// accumulator merges blocks.
type accumulator struct {
	counts                 []int64
	requests, sent, failed int64
	sum                    float64
	max                    time.Duration
	span                   float64 // seconds
}

func newAccumulator() *accumulator { return &accumulator{counts: make([]int64, latency.SparseBuckets)} }

func (a *accumulator) reset() {
	clear(a.counts)
	a.requests, a.sent, a.failed, a.sum, a.max, a.span = 0, 0, 0, 0, 0, 0
}

func (a *accumulator) add(b *frozen, width time.Duration) {
	a.requests += b.Requests
	a.sent += b.Sent
	a.failed += b.Failed
	a.sum += b.Sum
	a.max = max(a.max, b.Max)
	a.span += width.Seconds()
	for _, bc := range b.buckets {
		a.counts[bc.Index] += int64(bc.Count)
	}
}

func (a *accumulator) stats() stats {
	var s stats
	s[0] = float64(a.requests)
	if a.requests > 0 {
		s[1] = float64(a.failed) / float64(a.requests)
	}
	if a.sent > 0 {
		s[2] = a.sum / float64(a.sent)
		qi := 0
		var seen int64
		for i, c := range a.counts {
			if c == 0 {
				continue
			}
			seen += c
			for qi < len(quantiles) && seen >= int64(math.Ceil(quantiles[qi].q*float64(a.sent))) {
				s[quantiles[qi].idx] = latency.SparseValue(i)
				qi++
			}
			if qi == len(quantiles) {
				break
			}
		}
	}
	s[7] = float64(a.max)
	if a.span > 0 {
		s[8] = float64(a.requests-a.failed) / a.span
	}
	return s
}

// blockLength is the number of consecutive blocks drawn together for n
// blocks: n^(1/3), the order of the optimal length for the variance of a
// mean (Hall, Horowitz and Jing 1995).
func blockLength(n int) int { return max(1, int(math.Round(math.Cbrt(float64(n))))) }

// resample draws, in each stratum independently, a circular block
// bootstrap sample of its blocks and accumulates it.
func resample(a *accumulator, strata []stratum, rng *rand.Rand) {
	a.reset()
	for _, st := range strata {
		n := len(st.blocks)
		l := blockLength(n)
		for taken := 0; taken < n; {
			start := rng.IntN(n)
			for j := 0; j < l && taken < n; j++ {
				a.add(&st.blocks[(start+j)%n], st.width)
				taken++
			}
		}
	}
}

func point(strata []stratum) stats {
	a := newAccumulator()
	for _, st := range strata {
		for i := range st.blocks {
			a.add(&st.blocks[i], st.width)
		}
	}
	return a.stats()
}

// Compare compares the runs of before and after per label and overall,
// with bootstrap confidence intervals over time blocks: requests close in
// time share the server's state (a GC pause, a queue, a cache), so the unit
// resampled is a run of consecutive blocks, within each run (runs are
// independent and are resampled separately, then pooled).
func Compare(before, after *summary.Blocks, o CompareOptions) *Comparison {
	if o.Resamples <= 0 {
		o.Resamples = DefaultResamples
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		o.Confidence = DefaultConfidence
	}
	if o.MinChange == 0 {
		o.MinChange = DefaultMinChange
	}
	o.MinChange = max(o.MinChange, 0)
	c := &Comparison{BeforeRuns: len(before.Runs()), AfterRuns: len(after.Runs()), Resamples: o.Resamples,
		Confidence: o.Confidence, MinChange: o.MinChange, Labels: []LabelComparison{},
		Block: max(before.Width(), after.Width())}
	switch {
	case o.Warmup < 0:
		c.Excluded = max(coldEnd(before), coldEnd(after))
		if c.Excluded > 0 {
			c.ExcludedWhy = fmt.Sprintf("a cold phase was found; the first %s of every run on both sides is left out", latency.Round3(c.Excluded))
		} else {
			c.ExcludedWhy = "no cold phase found; nothing left out"
		}
	case o.Warmup > 0:
		c.Excluded = o.Warmup
		c.ExcludedWhy = fmt.Sprintf("the first %s of every run on both sides is left out (-warmup)", o.Warmup)
	default:
		c.ExcludedWhy = "nothing left out (-warmup 0)"
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	c.Labels = append(c.Labels, compareStrata("", true,
		strata(before, "", true, c.Excluded), strata(after, "", true, c.Excluded), o, rng, &c.BlockLength))
	bl, al := before.Labels(), after.Labels()
	if len(bl) > 1 || len(al) > 1 {
		for _, l := range bl {
			if !slices.Contains(al, l) {
				continue
			}
			var ignore int
			c.Labels = append(c.Labels, compareStrata(l, false,
				strata(before, l, false, c.Excluded), strata(after, l, false, c.Excluded), o, rng, &ignore))
		}
	}
	return c
}

func compareStrata(label string, all bool, bs, as []stratum, o CompareOptions, rng *rand.Rand, blockLen *int) LabelComparison {
	lc := LabelComparison{Label: label, All: all}
	pb, pa := point(bs), point(as)
	for _, st := range bs {
		*blockLen = max(*blockLen, blockLength(len(st.blocks)))
	}
	// Bootstrap distribution of each metric's change.
	changes := make([][]float64, metricCount)
	accB, accA := newAccumulator(), newAccumulator()
	if len(bs) > 0 && len(as) > 0 {
		for range o.Resamples {
			resample(accB, bs, rng)
			resample(accA, as, rng)
			sb, sa := accB.stats(), accA.stats()
			for k := range metricCount {
				if ch, ok := change(k, sb[k], sa[k]); ok {
					changes[k] = append(changes[k], ch)
				}
			}
		}
	}
	alpha := (1 - o.Confidence) / 2
	for k, name := range Metrics {
		m := Metric{Name: name, Before: pb[k], After: pa[k], Relative: k != 1, HigherIsWorse: k != 8 && k != 0}
		switch k {
		case 0:
			m.Unit = "requests"
		case 1:
			m.Unit = "ratio"
		case 8:
			m.Unit = "req/s"
		default:
			m.Unit = "ns"
		}
		ch, ok := change(k, pb[k], pa[k])
		m.Change = ch
		if cs := changes[k]; len(cs) > 0 {
			slices.Sort(cs)
			m.Low, m.High = quantileOf(cs, alpha), quantileOf(cs, 1-alpha)
		}
		switch {
		case !ok || k == 0 || k == 7 || len(changes[k]) < o.Resamples/2:
			// Count is set by the schedule, max is one request: shown, not
			// judged; so is a change from zero.
			m.Verdict = NotJudged
		case m.Low > 0 && (!m.Relative || m.Change >= o.MinChange):
			m.Verdict = verdict(m.HigherIsWorse)
		case m.High < 0 && (!m.Relative || m.Change <= -o.MinChange):
			m.Verdict = verdict(!m.HigherIsWorse)
		default:
			m.Verdict = NoChange
		}
		lc.Metrics = append(lc.Metrics, m)
	}
	return lc
}

func verdict(worse bool) string {
	if worse {
		return Regressed
	}
	return Improved
}

// change returns the change of metric k from b to a: relative, or absolute
// for the error rate; false when relative and b is 0.
func change(k int, b, a float64) (float64, bool) {
	if k == 1 {
		return a - b, true
	}
	if b == 0 {
		return 0, a == 0
	}
	return a/b - 1, true
}

// quantileOf returns the q-quantile (q in [0,1]) of sorted xs by linear
// interpolation.
func quantileOf(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}

// Regressions returns the metrics among names (every judged one when
// names is empty) of every label that got worse by more than bound beyond
// noise: relative metrics by more than bound (0.05 = 5 %), the error rate by
// more than bound in absolute terms (0.05 = 5 percentage points).
func (c *Comparison) Regressions(bound float64, names []string) []LabelMetric {
	var out []LabelMetric
	for _, lc := range c.Labels {
		for _, m := range lc.Metrics {
			if len(names) > 0 && !slices.Contains(names, m.Name) {
				continue
			}
			if m.Verdict == Regressed && m.WorseBy() > bound {
				out = append(out, LabelMetric{lc.Label, lc.All, m})
			}
		}
	}
	return out
}

// LabelMetric is a Metric with its label.
type LabelMetric struct {
	Label string
	All   bool
	Metric
}
