package analyze

import (
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// coldEnd returns the latest end of a cold phase over the runs of bs,
// found by DetectCold on each run's blocks, 0 when none has one.
func coldEnd(bs *summary.Blocks) time.Duration {
	var end time.Duration
	for _, run := range bs.Runs() {
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

// strata returns, per run of bs, the blocks of label (of every label with
// all) due at or after skip, frozen for resampling.
func strata(bs *summary.Blocks, label string, all bool, skip time.Duration) []stratum {
	var out []stratum
	for _, run := range bs.Runs() {
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
