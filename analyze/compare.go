package analyze

import (
	"cmp"
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
	// IncludeLimited keeps the runs the generator limited in the verdicts;
	// by default they are named in Comparison.Limited and left out.
	IncludeLimited bool
	// MoreRuns says how to record more runs a side, for the noise sentence
	// of a comparison with too few ("" = "-repeat", the flag of attack and
	// run; surge ab gives "-rounds").
	MoreRuns string
}

// MinRuns is the number of runs each side needs for the runs to be
// resampled: with 2 against 2 every ordering of the runs has a chance of
// 1 in 3, so no resampling of them can support a 95 % claim.
const MinRuns = 3

// SingleRunMin is, per figure (indexed like Metrics), the smallest change
// called when a side has fewer than MinRuns runs, where the drift between
// runs cannot be measured: relative for latencies and throughput (0.10 = 10 %), absolute
// for the error rate (0.01 = 1 percentage point). It covers the drift of
// same-vs-same pairs of single runs measured on the lab with and without a
// CPU-bound background process (docs/methods.md, TestCompareLabNoise):
// at these minimums at most 10 % of such pairs call any change.
var SingleRunMin = [metricCount]float64{0, 0.01, 0.10, 0.10, 0.30, 0.50, 1.00, 0, 0.10}

// Comparison is the result of Compare.
type Comparison struct {
	// Excluded is the time left out at the start of every run, on both
	// sides; ExcludedWhy says why.
	Excluded    time.Duration `json:"excluded"`
	ExcludedWhy string        `json:"excluded_why"`
	// BeforeRuns and AfterRuns count the runs of each side; BeforeJudged
	// and AfterJudged those judged (the limited ones left out, see
	// Limited).
	BeforeRuns   int `json:"before_runs"`
	AfterRuns    int `json:"after_runs"`
	BeforeJudged int `json:"before_judged"`
	AfterJudged  int `json:"after_judged"`
	// Block is the time-block width resampled, BlockLength the number of
	// consecutive blocks drawn together.
	Block       time.Duration `json:"block"`
	BlockLength int           `json:"block_length"`
	Resamples   int           `json:"resamples"`
	Confidence  float64       `json:"confidence"`
	MinChange   float64       `json:"min_change"`
	// Hierarchical is true when both sides have MinRuns runs or more and
	// the runs were resampled (the interval covers the drift between
	// runs); false when a side has fewer, and each figure's Metric.Min is
	// its SingleRunMin. Widen is the factor the intervals were widened by for
	// the few runs resampled (1 when not hierarchical); Noise says all
	// this in a sentence.
	Hierarchical bool `json:"hierarchical"`
	// Jitter, with fewer than MinRuns runs on a side, is the larger
	// send-lag p99 of the runs: how late the machine ran surge's own
	// timers meanwhile, which it does to the server's too. A latency
	// figure that moved by less than the same figure of the send lag
	// (Metric.Jitter: its mean for the mean, its p90 for p90 …) is not
	// called. 0 when hierarchical (the runs' drift is measured).
	Jitter time.Duration `json:"jitter"`
	Widen  float64       `json:"widen"`
	Noise  string        `json:"noise"`
	// Limited names the runs the generator limited: left out of the
	// verdicts unless CompareOptions.IncludeLimited.
	Limited []LimitedRun `json:"limited"`
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
	HigherIsWorse bool `json:"higher_is_worse"`
	// Min is the smallest change that could be called (see
	// Comparison.Hierarchical).
	Min float64 `json:"min_change"`
	// Jitter, with fewer than MinRuns runs a side, is the same figure of
	// the runs' send lag (the larger side's), under which a latency change
	// is not called (see Comparison.Jitter).
	Jitter  time.Duration `json:"jitter"`
	Verdict string        `json:"verdict"`
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

// Compare compares the runs of before and after per label and overall,
// with bootstrap confidence intervals. Requests close in time share the
// server's state (a GC pause, a queue, a cache), so inside a run the unit
// resampled is a stretch of consecutive time blocks; and two runs of the
// same thing differ by more than the variation inside either (the
// server's and the machine's state drift between runs), so with several
// runs on each side the runs are resampled first, then blocks within each
// (a hierarchical bootstrap), and the interval is widened for the few runs
// there are (widen). With one run on a side the drift cannot be measured:
// then only a change beyond that figure's SingleRunMin is called.
//
// A run the generator limited (GeneratorHealth) is named in
// Comparison.Limited and left out unless o.IncludeLimited.
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
	c := &Comparison{Resamples: o.Resamples, Confidence: o.Confidence, MinChange: max(o.MinChange, 0),
		Labels: []LabelComparison{}, Block: max(before.Width(), after.Width())}
	br, bl := sound(before, "before", o.IncludeLimited)
	ar, al := sound(after, "after", o.IncludeLimited)
	c.Limited = append(bl, al...)
	c.BeforeRuns, c.AfterRuns = len(before.Runs()), len(after.Runs())
	c.BeforeJudged, c.AfterJudged = len(br), len(ar)
	c.Hierarchical = len(br) >= MinRuns && len(ar) >= MinRuns
	c.Widen = 1
	if c.Hierarchical {
		c.Widen = widen(len(br), len(ar), o.Confidence)
	}
	if !c.Hierarchical {
		c.Jitter = jitter(MetricP99, br, ar)
	}
	c.Noise = noiseText(c, cmp.Or(o.MoreRuns, "-repeat"))
	switch {
	case o.Warmup < 0:
		c.Excluded = max(coldEnd(br), coldEnd(ar))
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
	c.Labels = append(c.Labels, compareStrata("", true, br, ar, c, o, rng))
	bls, als := before.Labels(), after.Labels()
	if len(bls) > 1 || len(als) > 1 {
		for _, l := range bls {
			if !slices.Contains(als, l) {
				continue
			}
			c.Labels = append(c.Labels, compareStrata(l, false, br, ar, c, o, rng))
		}
	}
	return c
}

// minChange returns the smallest change of metric k that can be called.
func minChange(c *Comparison, o CompareOptions, k int) float64 {
	switch {
	case o.MinChange < 0:
		return 0
	case c.Hierarchical && k == 1:
		// The error rate is judged in absolute terms, on its interval.
		return 0
	case c.Hierarchical:
		return o.MinChange
	default:
		return max(o.MinChange, SingleRunMin[k])
	}
}

func compareStrata(label string, all bool, bruns, aruns []*summary.RunBlocks, c *Comparison, o CompareOptions, rng *rand.Rand) LabelComparison {
	bs, as := strata(bruns, label, all, c.Excluded), strata(aruns, label, all, c.Excluded)
	lc := LabelComparison{Label: label, All: all}
	pb, pa := point(bs), point(as)
	if all {
		for _, st := range bs {
			c.BlockLength = max(c.BlockLength, blockLength(len(st.blocks)))
		}
	}
	changes := bootstrap(bs, as, c.Hierarchical, o.Resamples, rng)
	alpha := (1 - o.Confidence) / 2
	for k, name := range Metrics {
		m := Metric{Name: name, Before: pb[k], After: pa[k], Relative: k != 1, HigherIsWorse: k != 8 && k != 0,
			Min: minChange(c, o, k)}
		if !c.Hierarchical && k >= 2 && k <= 6 {
			m.Jitter = jitter(name, bruns, aruns)
		}
		m.Unit = units[k]
		ch, ok := change(k, pb[k], pa[k])
		m.Change = ch
		if cs := changes[k]; len(cs) > 0 {
			slices.Sort(cs)
			m.Low, m.High = widened(ch, quantileOf(cs, alpha), quantileOf(cs, 1-alpha), c.Widen, m.Relative)
		}
		switch {
		case !ok || k == 0 || k == 7 || len(changes[k]) < o.Resamples/2:
			// Count is set by the schedule, max is one request: shown, not
			// judged; so is a change from zero.
			m.Verdict = NotJudged
		case m.Unit == "ns" && math.Abs(m.After-m.Before) < float64(m.Jitter):
			// Within what the machine's own timing varied by in these runs.
			m.Verdict = NoChange
		case m.Low > 0 && m.Change >= m.Min:
			m.Verdict = verdict(m.HigherIsWorse)
		case m.High < 0 && m.Change <= -m.Min:
			m.Verdict = verdict(!m.HigherIsWorse)
		default:
			m.Verdict = NoChange
		}
		lc.Metrics = append(lc.Metrics, m)
	}
	return lc
}

// units are the metrics' units, indexed like Metrics.
var units = [metricCount]string{"requests", "ratio", "ns", "ns", "ns", "ns", "ns", "ns", "req/s"}

// bootstrap returns, per metric, the change of every resample of bs and
// as in which it is defined.
func bootstrap(bs, as []stratum, runs bool, resamples int, rng *rand.Rand) [][]float64 {
	changes := make([][]float64, metricCount)
	if len(bs) == 0 || len(as) == 0 {
		return changes
	}
	accB, accA := newAccumulator(), newAccumulator()
	for range resamples {
		resample(accB, bs, runs, rng)
		resample(accA, as, runs, rng)
		sb, sa := accB.stats(), accA.stats()
		for k := range metricCount {
			if ch, ok := change(k, sb[k], sa[k]); ok {
				changes[k] = append(changes[k], ch)
			}
		}
	}
	return changes
}

// widened widens the interval [lo, hi] about the change ch by the factor
// w: for a relative change on the scale of log(1+change), so that a bound
// never passes −100 %.
func widened(ch, lo, hi, w float64, relative bool) (float64, float64) {
	if w == 1 {
		return lo, hi
	}
	if !relative || ch <= -1 || lo <= -1 {
		return ch - w*(ch-lo), ch + w*(hi-ch)
	}
	l, c, h := math.Log1p(lo), math.Log1p(ch), math.Log1p(hi)
	return math.Expm1(c - w*(c-l)), math.Expm1(c + w*(h-c))
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
