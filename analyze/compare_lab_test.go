package analyze_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

// compareRuns is the number of same-load lab runs TestCompareLabNoise
// records (pairs of single runs are half as many); the figures in
// docs/methods.md come from -compare.runs 80.
var compareRuns = flag.Int("compare.runs", 8, "lab runs recorded per side-pool by TestCompareLabNoise (80 for the figures in docs/methods.md)")

// labRuns records n runs of path at 200/s for 1 s each on one lab, the
// CPU-bound background process running during every run whose index i
// has (i/3)%2 == 1 when withHog (so some pairs of neighbours straddle a
// change of the machine's load, as on a machine shared with other work).
func labRuns(t *testing.T, base, path string, n int, withHog bool) (runs [][]result.Result, starved []bool) {
	t.Helper()
	var out [][]result.Result
	var stop func()
	for i := range n {
		on := withHog && (i/3)%2 == 1
		switch {
		case on && stop == nil:
			stop = starvation.Hog(t)
			time.Sleep(100 * time.Millisecond)
		case !on && stop != nil:
			stop()
			stop = nil
		}
		cfg := attack.Config{Rate: schedule.Rate{Freq: 200, Per: time.Second}, Duration: time.Second,
			Targets: []target.Target{{Method: "GET", URL: base + path}}}
		c, err := attack.NewFastClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
		a, err := attack.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var rs []result.Result
		probe := starvation.Start(0)
		err = a.Run(context.Background(), func(b []result.Result) error {
			rs = append(rs, b...)
			return nil
		})
		machine := probe.Stop()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rs)
		starved = append(starved, machine.Starved(analyze.LagLimit))
		if testing.Verbose() {
			run := sideOf(out, len(out)-1).Runs()[0].Summary
			st := run.Total
			t.Logf("%s run %d (background load %v): p50 %s p90 %s p99 %s; limited %v; %s", path, i, on,
				st.Latency.Quantile(0.5), st.Latency.Quantile(0.9), st.Latency.Quantile(0.99), analyze.GeneratorHealth(run).Limited, machine)
		}
	}
	if stop != nil {
		stop()
	}
	return out, starved
}

// soundRuns returns the indexes of the runs compare judges (those the
// generator did not limit and the machine did not starve), and of those the ones the probe also found
// not starved of CPU.
func soundRuns(runs [][]result.Result, starved []bool) (judged, fed []int) {
	for i := range runs {
		if g := analyze.GeneratorHealth(sideOf(runs, i).Runs()[0].Summary); g.Limited || g.Starved {
			continue
		}
		judged = append(judged, i)
		if !starved[i] {
			fed = append(fed, i)
		}
	}
	return judged, fed
}

// side replays runs into one side's blocks, each run under its own ID.
func sideOf(runs [][]result.Result, idx ...int) *summary.Blocks {
	bs := summary.NewBlocks(0)
	for _, i := range idx {
		m := &result.Meta{ID: fmt.Sprint("run", i), Start: time.Now()}
		for j := range runs[i] {
			bs.Add(m, &runs[i][j])
		}
	}
	return bs
}

// called returns the figures of the total that were called improved or
// regressed, and whether any run was left out as limited.
func called(c *analyze.Comparison) (names []string, limited bool) {
	for _, m := range c.Labels[0].Metrics {
		if m.Verdict == analyze.Improved || m.Verdict == analyze.Regressed {
			names = append(names, fmt.Sprintf("%s %+.1f%%", m.Name, 100*m.Change))
		}
	}
	for _, l := range c.Limited {
		limited = limited || !l.Included
	}
	return names, limited
}

var judgedFigures = []string{analyze.MetricErrors, analyze.MetricMean, analyze.MetricP50, analyze.MetricP90,
	analyze.MetricP95, analyze.MetricP99, analyze.MetricThroughput}

// TestCompareLabNoise measures compare against known truth on the lab:
// same-vs-same, the same /fixed?ms=40 load in every run (a CPU-bound
// background process running during half of them), any call is a false
// positive — per figure the rate must be ≤ 5 % and per pair (any figure)
// ≤ 10 %, for pairs of single runs and for 3 runs against 3; and power,
// /fixed?ms=40 against ms=44 (service time +10 %), 3 runs a side, must be
// called (p50 regressed) in ≥ 80 % of trials. By default it records a few
// runs; -compare.runs 80 gives the figures quoted in docs/methods.md.
func TestCompareLabNoise(t *testing.T) {
	if testing.Short() {
		t.Skip("records lab runs")
	}
	n := max(*compareRuns, 8)
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	base := "http://" + addr.String()
	start := time.Now()
	same, sameStarved := labRuns(t, base, "/fixed?ms=40", n, true)
	slower, slowerStarved := labRuns(t, base, "/fixed?ms=44", max(n/2, 4), true)
	t.Logf("recorded %d + %d runs in %s", len(same), len(slower), time.Since(start).Round(time.Millisecond))
	judged, fed := soundRuns(same, sameStarved)
	_, slowerFed := soundRuns(slower, slowerStarved)
	t.Logf("ms=40: %d runs, %d judged (the rest limited or starved, left out by compare), %d of them not starved by the probe's measure; ms=44: %d not starved",
		len(same), len(judged), len(fed), len(slowerFed))
	opts := func(seed int) analyze.CompareOptions {
		return analyze.CompareOptions{Warmup: -1, Seed: uint64(seed), Resamples: 400}
	}

	// Pairs of single runs: neighbours among the runs compare judges (a
	// limited run would be left out and its pair not judged at all).
	fp := map[string]int{}
	pairs, anyFP := 0, 0
	drift := map[string][]float64{}
	for j := 0; 2*j+1 < len(judged); j++ {
		c := analyze.Compare(sideOf(same, judged[2*j]), sideOf(same, judged[2*j+1]), opts(j))
		names, _ := called(c)
		pairs++
		for _, m := range c.Labels[0].Metrics {
			if slices.Contains(judgedFigures, m.Name) {
				drift[m.Name] = append(drift[m.Name], m.Change)
				if m.Verdict == analyze.Improved || m.Verdict == analyze.Regressed {
					fp[m.Name]++
				}
			}
		}
		if len(names) > 0 {
			anyFP++
			t.Logf("single pair %d: called %s", j, strings.Join(names, ", "))
		}
	}
	report(t, "single runs", pairs, anyFP, fp)
	for _, name := range judgedFigures {
		ds := drift[name]
		abs := make([]float64, len(ds))
		for i, d := range ds {
			abs[i] = max(d, -d)
		}
		slices.Sort(abs)
		if len(abs) > 0 {
			t.Logf("single-run drift %s: |change| median %.1f%%, 90th %.1f%%, 95th %.1f%%, max %.1f%%", name,
				100*abs[len(abs)/2], 100*abs[len(abs)*9/10], 100*abs[len(abs)*19/20], 100*abs[len(abs)-1])
		}
	}

	// 3 runs against 3, drawn at random from the runs compare judges.
	rng := rand.New(rand.NewPCG(7, 7))
	trials := max(len(same)/2, 6)
	if len(judged) >= 6 {
		fp3 := map[string]int{}
		anyFP3 := 0
		for j := range trials {
			p := rng.Perm(len(judged))
			c := analyze.Compare(sideOf(same, judged[p[0]], judged[p[1]], judged[p[2]]),
				sideOf(same, judged[p[3]], judged[p[4]], judged[p[5]]), opts(j))
			names, _ := called(c)
			for _, m := range c.Labels[0].Metrics {
				if m.Verdict == analyze.Improved || m.Verdict == analyze.Regressed {
					fp3[m.Name]++
				}
			}
			if len(names) > 0 {
				anyFP3++
				t.Logf("3v3 trial %d: called %s", j, strings.Join(names, ", "))
			}
		}
		report(t, "3 runs v 3", trials, anyFP3, fp3)
	}

	// Power: ms=40 against ms=44, 3 runs a side, among the runs the
	// machine did not starve: the lab shares this process, so a starved
	// run's sleeps are late and its truth is not 10 or 11 ms.
	if len(fed) < 3 || len(slowerFed) < 3 {
		t.Logf("power not judged: %d and %d runs were not starved, 3 a side needed", len(fed), len(slowerFed))
		return
	}
	hit := 0
	for j := range trials {
		p, q := rng.Perm(len(fed)), rng.Perm(len(slowerFed))
		c := analyze.Compare(sideOf(same, fed[p[0]], fed[p[1]], fed[p[2]]),
			sideOf(slower, slowerFed[q[0]], slowerFed[q[1]], slowerFed[q[2]]), opts(j))
		for _, m := range c.Labels[0].Metrics {
			if m.Name == analyze.MetricP50 {
				if m.Verdict == analyze.Regressed {
					hit++
				} else {
					t.Logf("power trial %d: p50 %+.1f%% [%+.1f%%, %+.1f%%] %s", j, 100*m.Change, 100*m.Low, 100*m.High, m.Verdict)
				}
			}
		}
	}
	t.Logf("power: ms=40 v ms=44, 3 runs a side: p50 called regressed in %d of %d trials", hit, trials)
	if float64(hit) < 0.8*float64(trials) {
		t.Errorf("power %d of %d, want ≥ 80%%", hit, trials)
	}
}

// report logs and judges the false-positive rates of one design.
func report(t *testing.T, design string, pairs, anyFP int, fp map[string]int) {
	t.Helper()
	t.Logf("%s: %d same-vs-same pairs, %d called any change", design, pairs, anyFP)
	if pairs == 0 {
		return
	}
	for _, name := range judgedFigures {
		rate := float64(fp[name]) / float64(pairs)
		t.Logf("%s: %s false-positive rate %.1f%% (%d of %d)", design, name, 100*rate, fp[name], pairs)
		// With few pairs one call is already a large share: the bounds
		// are judged on the full measurement, loosely by default.
		if limit := max(0.05, 1.5/float64(pairs)); rate > limit {
			t.Errorf("%s: %s false-positive rate %.1f%%, want ≤ %.0f%%", design, name, 100*rate, 100*limit)
		}
	}
	if limit := max(0.10, 2.5/float64(pairs)); float64(anyFP)/float64(pairs) > limit {
		t.Errorf("%s: %d of %d pairs called a change, want ≤ %.0f%%", design, anyFP, pairs, 100*limit)
	}
}
