package analyze_test

import (
	"context"
	"flag"
	"runtime"
	"strings"
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

// healthRuns is how many runs each of TestLabGeneratorAdvice's cases
// makes; docs/methods.md quotes the figures of -health.runs 10.
var healthRuns = flag.Int("health.runs", 1, "runs per case of TestLabGeneratorAdvice (each about 2 s)")

// healthRun runs cfg against path on a fresh lab through run.Do, so that
// the generator marker is recorded as by surge attack, and returns the
// generator's health and what a starvation probe saw meanwhile.
func healthRun(t *testing.T, path string, cfg attack.Config) (analyze.Generator, starvation.Report) {
	t.Helper()
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg.Targets = []target.Target{{Method: "GET", URL: "http://" + addr.String() + path}}
	c, err := attack.NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	s := summary.New(summary.Options{})
	probe := starvation.Start(0)
	_, err = run.Do(context.Background(), run.Plan{Config: cfg, Meta: run.NewMeta(cfg, nil)}, run.Outputs{Consumers: []result.Consumer{s}})
	machine := probe.Stop()
	if err != nil {
		t.Fatal(err)
	}
	g := analyze.GeneratorHealth(s)
	m := g.Machine
	t.Logf("%s; wait share %.2f, pressure %.2f, in flight %v of %v; %s", machine, m.CPUWait/(m.CPUWait+m.CPUSeconds), m.Pressure, m.PeakInFlight, m.Cap, g.Text)
	return g, machine
}

// TestLabGeneratorAdvice checks the generator's advice against runs whose
// limit is known because the test made it:
//   - clean: /fixed?ms=2 at 100/s with the default cap; truth: nothing
//     limits the generator, so no advice, unless the machine starved the
//     process (then the advice must name the CPU, never -connections);
//   - hog: the same with a CPU-bound child per core, started here and
//     killed by PID; truth: other processes hold the CPU, so an advice, if
//     any, names CPU contention and never -connections (57 in flight of a
//     cap of 10,000 once earned "raise -connections");
//   - cap: /fixed?ms=50 at 100/s with -connections 2, which needs 5 in
//     flight; truth: the cap limits the run, and the advice says so.
func TestLabGeneratorAdvice(t *testing.T) {
	if testing.Short() {
		t.Skip("lab runs")
	}
	rate := schedule.Rate{Freq: 100, Per: time.Second}
	var fp, clean, busy, named, limitedHog, capNamed int
	for range *healthRuns {
		g, machine := healthRun(t, "/fixed?ms=2", attack.Config{Rate: rate, Duration: 2 * time.Second})
		clean++
		if strings.Contains(g.Text, "-connections") {
			t.Errorf("clean run: advice names -connections with %v in flight of %v: %s", g.Machine.PeakInFlight, g.Machine.Cap, g.Text)
		}
		if g.Limited || g.Starved {
			if !machine.Starved(analyze.LagLimit) && g.Machine.Pressure <= analyze.PressureLimit {
				fp++
				t.Errorf("clean run on an idle machine got advice: %s", g.Text)
			} else {
				busy++
				t.Logf("clean run not judged, the machine was busy: %s", g.Text)
			}
		}

		stop := make([]func(), 0, runtime.NumCPU())
		for range runtime.NumCPU() {
			stop = append(stop, starvation.Hog(t))
		}
		g, _ = healthRun(t, "/fixed?ms=2", attack.Config{Rate: rate, Duration: 2 * time.Second})
		for _, f := range stop {
			f()
		}
		if strings.Contains(g.Text, "-connections") {
			t.Errorf("hog run: advice names -connections with %v in flight of %v: %s", g.Machine.PeakInFlight, g.Machine.Cap, g.Text)
		}
		if g.Limited || g.Starved {
			limitedHog++
			if strings.Contains(g.Text, "other processes took the CPU") {
				named++
			} else {
				t.Errorf("hog run limited, advice does not name CPU contention: %s", g.Text)
			}
		}

		g, _ = healthRun(t, "/fixed?ms=50", attack.Config{Rate: rate, Duration: 2 * time.Second, Connections: 2})
		want := "requests were in flight, the cap (-connections 2): the server is too slow for the rate asked at this cap; raise -connections"
		if !g.Limited || !strings.Contains(g.Text, want) {
			t.Errorf("cap run: limited %v, advice %q; want it to contain %q", g.Limited, g.Text, want)
		} else {
			capNamed++
		}
	}
	t.Logf("clean: %d of %d given advice on an idle machine (%d more given advice while the machine was busy, not judged); hog: %d limited or starved, %d of them named CPU contention; cap: %d of %d named",
		fp, clean, busy, limitedHog, named, capNamed, *healthRuns)
}
