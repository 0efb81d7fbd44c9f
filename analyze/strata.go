package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// LimitedRun is a run whose generator limited it, or that other processes
// starved of CPU: its latencies are the machine's as much as the server's.
type LimitedRun struct {
	// Side is "before" or "after"; Run numbers the run on its side from 1,
	// Source says where it came from (a file), "" when unknown.
	Side   string `json:"side"`
	Run    int    `json:"run"`
	Source string `json:"source"`
	// Why is GeneratorHealth's sentence; Included is true when the run was
	// judged all the same (CompareOptions.IncludeLimited).
	Why      string `json:"why"`
	Included bool   `json:"included"`
}

// sound returns the runs of bs to judge, and names the ones the generator
// limited or other processes starved of CPU (GeneratorHealth on each run's
// own summary: Limited or Starved), which are left out unless include.
func sound(bs *summary.Blocks, side string, include bool) ([]*summary.RunBlocks, []LimitedRun) {
	var keep []*summary.RunBlocks
	var limited []LimitedRun
	for i, run := range bs.Runs() {
		if run.Summary != nil {
			if g := GeneratorHealth(run.Summary); g.Limited || g.Starved {
				limited = append(limited, LimitedRun{Side: side, Run: i + 1, Source: run.Source, Why: g.Text, Included: include})
				if !include {
					continue
				}
			}
		}
		keep = append(keep, run)
	}
	return keep, limited
}

// widen returns the factor by which a hierarchical interval over nb and na
// runs is widened: resampling n runs underestimates the variance between
// them by (n−1)/n, and with few runs the interval's quantile is Student's
// t's on nb+na−2 degrees of freedom rather than the normal's. So the factor
// is t/z · √(n/(n−2)) with n = nb+na: 1.73 for 3 runs a side, 1.31 for 5.
func widen(nb, na int, confidence float64) float64 {
	n := float64(nb + na)
	p := 1 - (1-confidence)/2
	z := math.Sqrt2 * math.Erfinv(2*p-1)
	return tQuantile(z, n-2) / z * math.Sqrt(n/(n-2))
}

// tQuantile returns Student's t quantile on df degrees of freedom whose
// normal quantile is z, by the Cornish–Fisher expansion (within 0.3 % of
// the exact value from 4 degrees of freedom on: 2.769 for 2.776 at 97.5 %).
func tQuantile(z, df float64) float64 {
	z3, z5, z7 := z*z*z, math.Pow(z, 5), math.Pow(z, 7)
	return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df) + (3*z7+19*z5+17*z3-15*z)/(384*df*df*df)
}

// noiseText says in a sentence what the intervals cover.
func noiseText(c *Comparison, moreRuns string) string {
	if c.BeforeJudged == 0 || c.AfterJudged == 0 {
		return "a side has no run left to judge (every run on it was left out), so nothing is called"
	}
	if c.Hierarchical {
		return fmt.Sprintf("%d runs before and %d after: the intervals resample the runs, then time blocks within each, so they cover the drift between runs (widened ×%.2f for so few runs)",
			c.BeforeJudged, c.AfterJudged, c.Widen)
	}
	few := "one run on a side: the drift between runs cannot be measured from it"
	if c.BeforeJudged > 1 && c.AfterJudged > 1 {
		few = fmt.Sprintf("%d runs before and %d after: too few to measure the drift between runs (%d a side are needed)", c.BeforeJudged, c.AfterJudged, MinRuns)
	}
	return fmt.Sprintf("%s, so only changes beyond a figure's minimum (mean, p50 and throughput 10%%, p90 30%%, p95 50%%, p99 100%%, errors 1 point: the drift measured between single runs of the same load), and latencies only when they moved by more than the same figure of the runs' send lag (the machine's timing jitter in these runs: p99 %s), are called; record %d or more runs a side (%s) for a sharper answer", few, latency.Round3(c.Jitter), MinRuns, moreRuns)
}

// jitter returns the largest of the runs' send lag figure (a metric name:
// mean, p50, p90, p95 or p99).
func jitter(figure string, sides ...[]*summary.RunBlocks) time.Duration {
	var j time.Duration
	for _, runs := range sides {
		for _, run := range runs {
			if run.Summary == nil {
				continue
			}
			lag := run.Summary.Total.SendLag
			v := lag.Mean()
			for _, q := range quantiles {
				if Metrics[q.idx] == figure {
					v = lag.Quantile(q.q)
				}
			}
			j = max(j, v)
		}
	}
	return j
}

// coldEnd returns the latest end of a cold phase over runs, found by
// DetectCold on each run's blocks, 0 when none has one.
func coldEnd(runs []*summary.RunBlocks) time.Duration {
	var end time.Duration
	for _, run := range runs {
		s := &summary.Sequence{Stride: 1}
		for i, b := range run.Total.Blocks {
			at := time.Duration(i) * run.Total.Width
			s.Buckets = append(s.Buckets, summary.SeqBucket{Count: b.Sent, Sum: b.Sum, Server: b.Sum, First: at, Last: at})
		}
		if c := DetectCold(s); c != nil {
			end = max(end, c.End)
		}
	}
	return end
}

// frozen is a block with its latency buckets listed, for resampling.
type frozen struct {
	*summary.Block
	buckets []latency.SparseBucket
}

// stratum is one run's blocks of one label, in time order.
type stratum struct {
	blocks []frozen
	width  time.Duration
}

// strata returns, per run, the blocks of label (of every label with all)
// due at or after skip, frozen for resampling.
func strata(runs []*summary.RunBlocks, label string, all bool, skip time.Duration) []stratum {
	var out []stratum
	for _, run := range runs {
		s := run.Total
		if !all {
			if s = run.Labels[label]; s == nil {
				continue
			}
		}
		var fs []frozen
		for i := range s.Blocks {
			if time.Duration(i)*s.Width < skip {
				continue
			}
			b := &s.Blocks[i]
			fs = append(fs, frozen{b, b.Latency.Buckets(nil)})
		}
		if len(fs) > 0 {
			out = append(out, stratum{fs, s.Width})
		}
	}
	return out
}
