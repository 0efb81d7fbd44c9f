package analyze_test

import (
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/schedule"
)

// ceilingRuns is how many passes TestLabCeilingErrorRates makes over its
// pool cases; docs/methods.md quotes the figures of -ceiling.runs 5.
var ceilingRuns = flag.Int("ceiling.runs", 0, "passes of TestLabCeilingErrorRates over every pool case, with and without a CPU hog (0: the short default set)")

// poolRamp is the open-model ramp through and past a pool's capacity c
// (requests/s): 2 s at half of it, then 2 s at 1.3× and 2 s at 1.6×.
func poolRamp(c float64) *schedule.Profile {
	st := func(r float64) schedule.Stage {
		return schedule.Stage{Duration: 2 * time.Second, FromRate: r * c, ToRate: r * c}
	}
	return &schedule.Profile{Model: schedule.ModelOpen, Stages: []schedule.Stage{st(0.5), st(1.3), st(1.6)}}
}

// poolCase is one /pool set: size slots of ms milliseconds each, so its
// truth is a ceiling of size requests at once and a capacity of
// size/ms·1000 requests/s.
type poolCase struct{ size, ms int }

func (p poolCase) capacity() float64 { return float64(p.size) * 1000 / float64(p.ms) }
func (p poolCase) String() string    { return fmt.Sprintf("size=%d,ms=%d", p.size, p.ms) }

// ceilingOutcome is how one run's ceiling compared with its truth.
type ceilingOutcome int

const (
	ceilingRight    ceilingOutcome = iota // within 10 % of the size
	ceilingWrong                          // a number off by more
	ceilingUnjudged                       // not judged, with a reason
	ceilingStarved                        // wrong or unjudged on a run its own health says was starved
)

// poolCeiling ramps the lab's /pool through and past its capacity and
// compares the ceiling found with the pool's size.
func poolCeiling(t *testing.T, p poolCase) ceilingOutcome {
	t.Helper()
	path := fmt.Sprintf("/pool?size=%d&ms=%d", p.size, p.ms)
	f, _, machine := labRun(t, path, attack.Config{Pacer: poolRamp(p.capacity()), Timeout: 10 * time.Second})
	c := f.Labels[0].Ceiling
	if c == nil {
		t.Fatalf("%s: ceiling not judged at all (nil)", p)
	}
	t.Logf("%s: truth %d at once; estimate %.2f (%.1f/s × %s, %s); %s", p, p.size, c.Concurrency, c.Throughput, c.Service, c.ServiceFrom, c.Text)
	starved := machine.Starved(analyze.LagLimit)
	switch {
	case c.Detected && math.Abs(c.Concurrency-float64(p.size)) <= 0.1*float64(p.size):
		return ceilingRight
	case starved:
		return ceilingStarved
	case c.Detected:
		t.Errorf("%s: ceiling %.2f, want %d ± 10%%", p, c.Concurrency, p.size)
		return ceilingWrong
	default:
		t.Errorf("%s: no ceiling on a pool ramped past its capacity, on a run that was not starved: %s", p, c.Text)
		return ceilingUnjudged
	}
}

// TestLabCeilingPool: /pool?size=N&ms=M ramped from half its capacity to
// 1.6× it. Truth: at most N requests are served at once, so the ceiling is
// N within 10 %.
func TestLabCeilingPool(t *testing.T) {
	for _, p := range []poolCase{{4, 50}, {16, 50}} {
		t.Run(p.String(), func(t *testing.T) { poolCeiling(t, p) })
	}
}
