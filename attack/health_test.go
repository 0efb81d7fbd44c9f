package attack

import (
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// generatorHealth judges the generator of a run from its results by the
// rule surge's reports apply (analyze.GeneratorHealth): a run with requests
// that never went out, or whose send-lag p99 passed analyze.LagLimit, was
// limited by the generator, and its latencies and rate are not the
// server's or the schedule's to answer for.
func generatorHealth(rs []result.Result) analyze.Generator {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "test", Start: time.Now()}
	for i := range rs {
		s.Add(m, &rs[i])
	}
	return analyze.GeneratorHealth(s)
}

// sendRate returns the rate at which rs went out, in requests per second:
// the inverse of the least-squares slope of send time against intended
// time, times the schedule's rate. A generator that keeps up sends with a
// slope of 1 whatever the jitter of single sends; one that drifts or falls
// behind sends with a slope above 1.
func sendRate(rs []result.Result, perSecond float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, r := range rs {
		x, y := r.Intended.Seconds(), r.Sent.Seconds()
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return perSecond / slope
}
