package analyze_test

import (
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/starvation"
)

// coldRuns is how many runs of each kind TestLabColdErrorRates makes;
// docs/methods.md quotes the figures of -cold.runs 10.
var coldRuns = flag.Int("cold.runs", 1, "runs of each kind in TestLabColdErrorRates")

// coldFound runs /cold?ms=2&extra=300&n=<n> at max rate with 50
// connections for d and returns how many requests the cold phase found
// holds, -1 when none was found.
func coldFound(t *testing.T, n int, d time.Duration) (int64, bool) {
	t.Helper()
	f, _, machine := labRun(t, fmt.Sprintf("/cold?ms=2&extra=300&n=%d", n), attack.Config{Connections: 50, Duration: d})
	c := f.Labels[0].Cold
	if c != nil && c.Unjudged != "" {
		t.Logf("left unjudged (the machine's): %s", c.Text)
	}
	if c == nil {
		machine.Fail(t, analyze.LagLimit, "no cold phase found on /cold with n=%d at max rate", n)
		return -1, machine.Starved(analyze.LagLimit)
	}
	if math.Abs(float64(c.Requests-int64(n))) > 0.2*float64(n) {
		machine.Fail(t, analyze.LagLimit, "cold phase of %d requests, want %d ± 20%%", c.Requests, n)
	}
	return c.Requests, machine.Starved(analyze.LagLimit)
}

// TestLabColdMaxRate: /cold at max rate with 50 connections, n = 100 and
// 400. Truth: the first n requests by arrival are slower, so the cold phase
// is n requests within 20 %, whatever the order the 50 connections finish
// in. n = 100 is a few buckets of the run's request-order series, so it is
// found in the series' head.
func TestLabColdMaxRate(t *testing.T) {
	for _, n := range []int{100, 400} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			got, _ := coldFound(t, n, 3*time.Second)
			t.Logf("n=%d: found %d", n, got)
		})
	}
}

// TestLabColdErrorRates counts false cold phases (and stalls) on clean
// /fixed?ms=20&jitter=5 runs at 100/s and at max rate, with and without a
// CPU-bound background process, and misses on /cold at max rate under the
// same load. Each kind runs -cold.runs times.
func TestLabColdErrorRates(t *testing.T) {
	for _, hog := range []bool{false, true} {
		for _, maxRate := range []bool{false, true} {
			name := fmt.Sprintf("hog=%v/max=%v", hog, maxRate)
			t.Run(name, func(t *testing.T) {
				if hog {
					starvation.Hog(t)
				}
				cfg := attack.Config{Rate: rate100, Duration: 4 * time.Second}
				if maxRate {
					cfg = attack.Config{Connections: 50, Duration: 2 * time.Second}
				}
				fp, fpStarved := 0, 0
				for range *coldRuns {
					f, _, machine := labRun(t, "/fixed?ms=20&jitter=5", cfg)
					if lf := f.Labels[0]; (lf.Cold != nil && lf.Cold.Unjudged == "") || (lf.Stall != nil && lf.Stall.Unjudged == "") {
						fp++
						if machine.Starved(analyze.LagLimit) {
							fpStarved++
						}
						var text string
						if lf.Cold != nil {
							text = lf.Cold.Text
						} else {
							text = lf.Stall.Text
						}
						machine.Fail(t, analyze.LagLimit, "invented a cold phase or stall: %s", text)
					}
				}
				t.Logf("cold-phase false positives, /fixed %s: %d of %d (%d of them in runs the probe found starved)", name, fp, *coldRuns, fpStarved)
				if maxRate {
					miss, missStarved := 0, 0
					for range *coldRuns {
						if got, starved := coldFound(t, 200, 3*time.Second); got < 160 || got > 240 {
							miss++
							if starved {
								missStarved++
							}
						}
					}
					t.Logf("cold-phase misses (not found or off by over 20 %%), /cold n=200 %s: %d of %d (%d of them in runs the probe found starved)", name, miss, *coldRuns, missStarved)
				}
			})
		}
	}
}
