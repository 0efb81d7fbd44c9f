package analyze_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
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

// ceilingRun ramps url through and past capacity (poolRamp) through
// run.Do, as surge attack does, so that the run records the machine's
// figures (CPU pressure, run queue, surge's CPU wait) by which the
// generator's health, and so the ceiling, judge a busy machine: a server
// on a shared machine waits for a CPU too, which surge's send lag does not
// show (gunicorn -w 8 was given 9.79 for 8 while the generator kept up).
// It returns the findings and what a starvation probe saw, with surge's
// verdict of a limited or starved generator set as its Limited.
func ceilingRun(t *testing.T, url string, capacity float64, fast bool) (*analyze.Findings, starvation.Report) {
	t.Helper()
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: url}}, Pacer: poolRamp(capacity), Timeout: 10 * time.Second}
	if fast {
		// The lean client keeps the generator's own cost low under -race.
		c, err := attack.NewFastClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
	}
	s := summary.New(summary.Options{})
	probe := starvation.Start(0)
	_, err := run.Do(context.Background(), run.Plan{Config: cfg, Meta: run.NewMeta(cfg, nil)}, run.Outputs{Consumers: []result.Consumer{s}})
	machine := probe.Stop()
	if err != nil {
		t.Fatal(err)
	}
	f := analyze.Diagnose(s)
	t.Log(machine)
	t.Log(f.Generator.Text)
	if f.Generator.Limited || f.Generator.Starved {
		machine.Limited = f.Generator.Text
	}
	return f, machine
}

// ceilingOutcomeOf compares the ceiling c of a run with its truth, size
// requests at once: a run whose ceiling was not judged for a busy machine
// (surge's own verdict) or that the probe found starved is counted apart.
func ceilingOutcomeOf(t *testing.T, name string, size int, c *analyze.Ceiling, machine starvation.Report) ceilingOutcome {
	t.Helper()
	right := math.Abs(c.Concurrency-float64(size)) <= 0.1*float64(size)
	busy := c.Unjudged != "" && !strings.HasPrefix(c.Unjudged, "only ") && !strings.HasPrefix(c.Unjudged, "throughput did not")
	switch {
	case c.Detected && right:
		return ceilingRight
	case machine.Starved(analyze.LagLimit) || busy:
		t.Logf("%s: a busy or starved run, counted apart; its estimate %.2f is within 10 %%: %v", name, c.Concurrency, right)
		return ceilingStarved
	case c.Detected:
		t.Errorf("%s: ceiling %.2f, want %d ± 10%%", name, c.Concurrency, size)
		return ceilingWrong
	default:
		t.Errorf("%s: no ceiling past the capacity, on a run that was neither busy nor starved: %s", name, c.Text)
		return ceilingUnjudged
	}
}

// poolCeiling ramps the lab's /pool through and past its capacity and
// compares the ceiling found with the pool's size.
func poolCeiling(t *testing.T, p poolCase) ceilingOutcome {
	t.Helper()
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	url := fmt.Sprintf("http://%s/pool?size=%d&ms=%d", addr, p.size, p.ms)
	f, machine := ceilingRun(t, url, p.capacity(), true)
	c := f.Labels[0].Ceiling
	if c == nil {
		t.Fatalf("%s: ceiling not judged at all (nil)", p)
	}
	t.Logf("%s: truth %d at once; estimate %.2f (%.1f/s × %s, %s); %s", p, p.size, c.Concurrency, c.Throughput, c.Service, c.ServiceFrom, c.Text)
	return ceilingOutcomeOf(t, p.String(), p.size, c, machine)
}

// TestLabCeilingPool: /pool?size=N&ms=M ramped from half its capacity to
// 1.6× it. Truth: at most N requests are served at once, so the ceiling is
// N within 10 %. By default two cases (4 slots, and 8 beside a CPU-bound
// child process; 16 are simulated exactly by TestCeilingPoolRamp);
// -ceiling.runs N makes N passes over all six (4, 8, 16 slots of 20 and
// 50ms), each with and without the child, and tallies them.
func TestLabCeilingPool(t *testing.T) {
	type run struct {
		p   poolCase
		hog bool
	}
	runs := []run{{poolCase{4, 50}, false}, {poolCase{8, 50}, true}}
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

// scrapeLab reads the lab's /metrics at url every period until stop is
// closed, handing each reading of its surge_lab_pool_* gauges to add as a
// result.Scrape (new series, then changed values) on the axis of a run
// that started at start. It is the test's own minimal reader of the three
// lines it needs, not the product's scraper.
func scrapeLab(t *testing.T, url string, start time.Time, period time.Duration, stop <-chan struct{}, add func(*result.Scrape)) {
	ids := map[string]uint32{}
	last := map[uint32]float64{}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		at := time.Since(start)
		resp, err := http.Get(url)
		if err != nil {
			add(&result.Scrape{At: at, Source: url, Err: err.Error()})
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			add(&result.Scrape{At: at, Source: url, Err: err.Error()})
			continue
		}
		sc := &result.Scrape{At: at, Took: time.Since(start) - at, Source: url}
		for _, line := range strings.Split(string(body), "\n") {
			if !strings.HasPrefix(line, "surge_lab_pool_") {
				continue
			}
			sp := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[sp+1:], 64)
			if sp < 0 || err != nil {
				t.Errorf("lab /metrics line %q: want NAME{LABELS} VALUE", line)
				continue
			}
			key := line[:sp]
			name, labels, _ := strings.Cut(key, "{")
			if labels != "" {
				labels = "{" + labels
			}
			id, seen := ids[key]
			if !seen {
				id = uint32(len(ids) + 1)
				ids[key] = id
				sc.New = append(sc.New, result.Series{ID: id, Source: url, Name: name, Labels: labels, Kind: result.SignalGauge, Initial: v})
			} else if last[id] != v {
				sc.Values = append(sc.Values, result.SignalValue{ID: id, V: v})
			}
			last[id] = v
		}
		add(sc)
	}
}

// TestLabCeilingPoolScrape: /pool?size=4&ms=50 ramped past its 80/s while
// its /metrics is read every 250ms. Truth: surge_lab_pool_busy sits at 4
// and surge_lab_pool_waiting rises once the offered rate passes 80/s, so
// the ceiling's confirmation finds the pool of 4 full over the plateau.
func TestLabCeilingPoolScrape(t *testing.T) {
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	base := "http://" + addr.String()
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: base + "/pool?size=4&ms=50"}}, Pacer: poolRamp(80), Timeout: 10 * time.Second}
	c, err := attack.NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	a, err := attack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: t.Name(), Start: time.Now()}
	var mu sync.Mutex // Add and AddScrape come from two goroutines
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		scrapeLab(t, base+"/metrics", m.Start, 250*time.Millisecond, stop, func(sc *result.Scrape) {
			mu.Lock()
			s.AddScrape(m, sc)
			mu.Unlock()
		})
	}()
	probe := starvation.Start(0)
	err = a.Run(context.Background(), func(b []result.Result) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range b {
			s.Add(m, &b[i])
		}
		return nil
	})
	close(stop)
	<-done
	machine := probe.Stop()
	if err != nil {
		t.Fatal(err)
	}
	f := analyze.Diagnose(s)
	t.Log(machine)
	t.Log(f.Generator.Text)
	if f.Generator.Limited {
		machine.Limited = f.Generator.Text
	}
	ce := f.Labels[0].Ceiling
	if ce == nil || ce.Windows == 0 {
		machine.Fail(t, analyze.LagLimit, "no plateau on a pool ramped to 1.6× its capacity: %+v", ce)
		return
	}
	t.Log(ce.Text)
	g := ce.Gauge
	switch {
	case g == nil:
		t.Errorf("the scrape's pool gauges were not read: %d series recorded", len(s.Signals()))
	case g.Pool != 4 || !g.Confirmed:
		machine.Fail(t, analyze.LagLimit, "want surge_lab_pool_busy at 4 over the plateau with waiting above 0, confirmed: %+v", g)
	case ce.Detected && !g.Agrees:
		t.Errorf("a pool of 4 full, a ceiling of %.2f, and they do not agree: %s", ce.Concurrency, ce.Text)
	case g.WaitingLast <= g.WaitingFirst:
		machine.Fail(t, analyze.LagLimit, "surge_lab_pool_waiting did not rise over the plateau: %+v", g)
	}
}

// TestLabPauseNoCeiling: the lab's /pause answers nothing for 300ms every
// 2s, so on the 250ms windows of surge plot's report windows fall behind
// the offered rate with no request done in them. That is a stall, which
// the spikes name, not a limit on how many requests are served at once: no
// ceiling line, judged or not (the report said "concurrency ceiling not
// judged: 5 window(s) … with throughput near 0.0/s, but no request
// succeeded in those windows").
func TestLabPauseNoCeiling(t *testing.T) {
	if testing.Short() {
		t.Skip("lab run")
	}
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := attack.Config{Rate: schedule.Rate{Freq: 100, Per: time.Second}, Duration: 5 * time.Second,
		Targets: []target.Target{{Method: "GET", URL: "http://" + addr.String() + "/pause?every=2s&for=300ms&ms=2"}}}
	s := summary.New(summary.Options{Window: 250 * time.Millisecond})
	if _, err := run.Do(context.Background(), run.Plan{Config: cfg, Meta: run.NewMeta(cfg, nil)}, run.Outputs{Consumers: []result.Consumer{s}}); err != nil {
		t.Fatal(err)
	}
	f := analyze.Diagnose(s)
	for _, lf := range f.Labels {
		if lf.Spikes != nil {
			t.Log(lf.Spikes.Text)
		}
		if c := lf.Ceiling; c != nil {
			t.Log(c.Text)
			if c.Detected || c.Unjudged != "" {
				t.Errorf("%s: a stall read as a concurrency ceiling: %s", lf.Label, c.Text)
			}
		}
	}
}
