package analyze_test

import (
	"flag"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/schedule"
)

// ceilingRuns is how many passes TestLabCeilingPool makes over all its
// pool cases, and tens of runs TestLabCeilingFixedClean makes;
// docs/methods.md quotes the figures of -ceiling.runs 3.
var ceilingRuns = flag.Int("ceiling.runs", 0, "passes of TestLabCeilingPool over every pool case, with and without a CPU hog, and tens of TestLabCeilingFixedClean runs (0: the short default set)")

// poolRamp is the open-model ramp through and past a pool's capacity c
// (requests/s): 2 s at half of it, then 2 s at 1.3× and 3 s at 1.6×, so
// that 4 windows past the capacity are judged (3 are needed).
func poolRamp(c float64) *schedule.Profile {
	st := func(r float64, d time.Duration) schedule.Stage {
		return schedule.Stage{Duration: d, FromRate: r * c, ToRate: r * c}
	}
	return &schedule.Profile{Model: schedule.ModelOpen, Stages: []schedule.Stage{st(0.5, 2*time.Second), st(1.3, 2*time.Second), st(1.6, 3*time.Second)}}
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
		t.Logf("%s: starved run, counted apart; its estimate %.2f is %s", p, c.Concurrency,
			map[bool]string{true: "within 10 %", false: "off by more"}[math.Abs(c.Concurrency-float64(p.size)) <= 0.1*float64(p.size)])
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
// N within 10 %. By default three cases, one beside a CPU-bound child
// process; -ceiling.runs N makes N passes over all six (4, 8, 16 slots of
// 20 and 50ms), each with and without the child, and tallies them.
func TestLabCeilingPool(t *testing.T) {
	type run struct {
		p   poolCase
		hog bool
	}
	runs := []run{{poolCase{4, 50}, false}, {poolCase{16, 50}, false}, {poolCase{8, 50}, true}}
	if *ceilingRuns > 0 {
		runs = nil
		for range *ceilingRuns {
			for _, ms := range []int{20, 50} {
				for _, size := range []int{4, 8, 16} {
					runs = append(runs, run{poolCase{size, ms}, false}, run{poolCase{size, ms}, true})
				}
			}
		}
	}
	tally := map[bool]*[4]int{false: {}, true: {}}
	for _, r := range runs {
		name := r.p.String()
		if r.hog {
			name += ",hog"
		}
		t.Run(name, func(t *testing.T) {
			if r.hog {
				defer starvation.Hog(t)()
			}
			tally[r.hog][poolCeiling(t, r.p)]++
		})
	}
	for _, hog := range []bool{false, true} {
		n := tally[hog]
		t.Logf("/pool ramps (CPU hog beside: %v): %d right within 10%%, %d wrong, %d not judged on healthy runs, %d wrong or not judged on starved runs",
			hog, n[ceilingRight], n[ceilingWrong], n[ceilingUnjudged], n[ceilingStarved])
	}
}

// fixedRamp is a ramp under /fixed's capacity, which has no limit: 50,
// 100, 150 and 150/s for 1 s each.
func fixedRamp() *schedule.Profile {
	var st []schedule.Stage
	for _, r := range []float64{50, 100, 150, 150} {
		st = append(st, schedule.Stage{Duration: time.Second, FromRate: r, ToRate: r})
	}
	return &schedule.Profile{Model: schedule.ModelOpen, Stages: st}
}

// TestLabCeilingFixedClean: /fixed?ms=20&jitter=5 ramped to 150/s, two
// runs at a time (each the other's load), and one of each pair beside a
// CPU-bound child process. Truth: no concurrency limit, so no ceiling. A
// ceiling named on a run the probe did not find starved fails; one on a
// starved run is counted apart. 10 runs by default, 10×N with
// -ceiling.runs N.
func TestLabCeilingFixedClean(t *testing.T) {
	n := 10 * max(*ceilingRuns, 1)
	var mu sync.Mutex
	var named, unjudged, starved, starvedNamed int
	one := func(t *testing.T, i int) {
		if i%2 == 1 {
			defer starvation.Hog(t)()
		}
		f, _, machine := labRun(t, "/fixed?ms=20&jitter=5", attack.Config{Pacer: fixedRamp()})
		c := f.Labels[0].Ceiling
		if c == nil {
			t.Errorf("run %d: ceiling not judged at all (nil) on a scheduled ramp", i)
			return
		}
		isStarved := machine.Starved(analyze.LagLimit)
		mu.Lock()
		defer mu.Unlock()
		if isStarved {
			starved++
		}
		switch {
		case c.Detected && isStarved:
			starvedNamed++
			t.Logf("run %d, starved: named a ceiling on /fixed: %s", i, c.Text)
		case c.Detected:
			named++
			t.Errorf("run %d: named a ceiling on /fixed, which has none: %s", i, c.Text)
		case c.Unjudged != "":
			unjudged++
			t.Logf("run %d: %s", i, c.Text)
		}
	}
	for i := 0; i < n; i += 2 {
		// A pair's two parallel runs start together when its function
		// returns, and the pair ends when both have.
		t.Run(fmt.Sprintf("pair%d", i/2), func(t *testing.T) {
			for j := i; j < min(i+2, n); j++ {
				t.Run(fmt.Sprint(j), func(t *testing.T) {
					t.Parallel()
					one(t, j)
				})
			}
		})
	}
	t.Logf("/fixed ramps to 150/s, two at a time, one of each pair beside a CPU hog: %d runs, %d starved by the probe; "+
		"ceilings named: %d on healthy runs, %d on starved runs; %d left not judged",
		n, starved, named, starvedNamed, unjudged)
}
