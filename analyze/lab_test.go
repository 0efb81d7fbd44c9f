package analyze_test

import (
	"context"
	"math"
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

// rampPacer offers a rate rising linearly from From to To requests/s over
// Duration: request k is due at the t solving From·t + (To−From)·t²/(2·Duration) = k.
type rampPacer struct {
	From, To float64
	Duration time.Duration
}

func (p rampPacer) At(seq uint64) (time.Duration, bool) {
	d := p.Duration.Seconds()
	a := (p.To - p.From) / (2 * d)
	k := float64(seq)
	t := k / p.From
	if a != 0 {
		t = (-p.From + math.Sqrt(p.From*p.From+4*a*k)) / (2 * a)
	}
	if t >= d {
		return 0, false
	}
	return time.Duration(t * float64(time.Second)), true
}

// labRun attacks path on a fresh lab and returns the findings, and what a
// probe measured of the CPU the process was denied meanwhile: the lab runs
// in this process, so its sleeps and pauses are as late as the probe's.
func labRun(t *testing.T, path string, cfg attack.Config) (*analyze.Findings, *summary.Summary, starvation.Report) {
	t.Helper()
	l := lab.New(lab.Config{})
	addr, err := l.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg.Targets = []target.Target{{Method: "GET", URL: "http://" + addr.String() + path}}
	// The lean client keeps the generator's own cost low under -race.
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
	probe := starvation.Start(0)
	err = a.Run(context.Background(), func(b []result.Result) error {
		for i := range b {
			s.Add(m, &b[i])
		}
		return nil
	})
	machine := probe.Stop()
	if err != nil {
		t.Fatal(err)
	}
	f := analyze.Diagnose(s)
	t.Log(machine)
	t.Log(f.Generator.Text)
	if f.Generator.Limited {
		// surge's report of this run would say the latencies are not to
		// be read as the server's: neither are they the lab's truth.
		machine.Limited = f.Generator.Text
	}
	for _, lf := range f.Labels {
		for _, x := range []string{textOf(lf.Cold), textOf(lf.Steady), textOf(lf.Spikes), textOf(lf.Saturation)} {
			if x != "" {
				t.Log(x)
			}
		}
	}
	return f, s, machine
}

func textOf(v any) string {
	switch x := v.(type) {
	case *analyze.ColdPhase:
		if x != nil {
			return x.Text
		}
	case *analyze.Steady:
		if x != nil {
			return x.Text
		}
	case *analyze.Spikes:
		if x != nil {
			return x.Text
		}
	case *analyze.Saturation:
		if x != nil {
			return x.Text
		}
	}
	return ""
}

var rate100 = schedule.Rate{Freq: 100, Per: time.Second}

// The lab's truth below holds when the lab ran to its parameters. The lab
// shares the process with the generator, and a process starved of CPU
// sleeps late: then claims about time are logged, not judged
// (starvation.Report.Fail, by surge's generator-limited rule), while what
// no machine can change is judged always. These tests run one at a time,
// so that each is not the others' load.

// /cold?ms=5&extra=400&n=300: requests 1…300 cost 5ms + 400ms·(301−i)/300,
// then 5ms. Truth: a cold phase of 300 requests (3 s at 100/s). The cold
// requests are 80 times slower than the steady ones at first; the machine
// only adds to both, so the cold phase is found whatever it does.
func TestLabColdPhase(t *testing.T) {
	f, _, machine := labRun(t, "/cold?ms=5&extra=400&n=300", attack.Config{Rate: rate100, Duration: 7 * time.Second})
	c := f.Labels[0].Cold
	if c == nil {
		t.Fatal("no cold phase found on /cold with n=300")
	}
	t.Logf("truth 300 requests, 3s; measured %d requests, %s", c.Requests, c.Duration)
	if math.Abs(float64(c.Requests)-300) > 60 {
		machine.Fail(t, analyze.LagLimit, "cold phase of %d requests, want 300 ± 20%%", c.Requests)
	}
	if math.Abs(c.Duration.Seconds()-3) > 0.6 {
		machine.Fail(t, analyze.LagLimit, "cold phase lasted %s, want 3s ± 20%%", c.Duration)
	}
	if st := f.Labels[0].Steady; st == nil && c.Unjudged != "" {
		t.Logf("the cold phase was left unjudged, so nothing was cut: %s", c.Text)
	} else if st == nil {
		t.Error("no steady state after the cold phase")
	} else if st.P50 > 10*time.Millisecond {
		machine.Fail(t, analyze.LagLimit, "steady state p50 should be near 5ms: %+v", st)
	}
}

// machineSpike reports whether episode e rose above the steady level by
// no more than the longest stall the probe measured during the run: then
// the machine, which held the lab off the CPU that long, explains it, and
// the analysis was right to see it.
func machineSpike(t *testing.T, e analyze.Episode, level time.Duration, machine starvation.Report) bool {
	t.Helper()
	if e.Peak-level > machine.Max {
		return false
	}
	t.Logf("an episode of p99 %s at +%s, %s above the steady %s: the machine's, which stalled the process for up to %s",
		e.Peak, e.Offset, e.Peak-level, level, machine.Max)
	return true
}

// /fixed?ms=20&jitter=5: 15–25 ms uniformly, no fault. Truth: no cold phase,
// no spikes, no saturation.
func TestLabFixedClean(t *testing.T) {
	f, _, machine := labRun(t, "/fixed?ms=20&jitter=5", attack.Config{Rate: rate100, Duration: 7 * time.Second})
	lf := f.Labels[0]
	if lf.Cold != nil && lf.Cold.Unjudged == "" {
		machine.Fail(t, analyze.LagLimit, "invented a cold phase: %s", lf.Cold.Text)
	}
	if lf.Spikes == nil {
		t.Errorf("spikes not judged")
	} else {
		for _, e := range lf.Spikes.Episodes {
			if !machineSpike(t, e, lf.Spikes.Level, machine) {
				machine.Fail(t, analyze.LagLimit, "invented a spike: %+v", lf.Spikes)
			}
		}
	}
	if lf.Saturation == nil {
		t.Errorf("saturation not judged")
	} else if lf.Saturation.Detected {
		machine.Fail(t, analyze.LagLimit, "invented saturation: %+v", lf.Saturation)
	}
}

// /pause?every=3s&for=500ms&ms=5: the server stops in [3k, 3k+0.5) s from
// the set's first request. Truth over 10 s: episodes at 3, 6, 9 s, period 3 s.
// Whatever the machine adds, the requests due as each pause begins wait
// for it: the 1s windows at 3, 6 and 9 s have a p99 of at least 400ms.
func TestLabPauseSpikes(t *testing.T) {
	f, s, machine := labRun(t, "/pause?every=3s&for=500ms&ms=5", attack.Config{Rate: rate100, Duration: 10 * time.Second})
	sp := f.Labels[0].Spikes
	if sp == nil {
		t.Fatal("spikes not judged")
	}
	series := s.Labels()[0].Series
	first := -1
	for i, w := range series.Windows {
		if w.Latency != nil && w.Latency.Count() > 0 {
			first = i
			break
		}
	}
	for k := 1; k <= 3; k++ {
		var peak time.Duration
		for i := range series.Windows {
			w := &series.Windows[i]
			if at := time.Duration(i-first) * series.Width; first >= 0 && w.Latency != nil && at >= time.Duration(3*k)*time.Second-series.Width && at <= time.Duration(3*k)*time.Second {
				peak = max(peak, w.Latency.Quantile(0.99))
			}
		}
		if peak < 400*time.Millisecond {
			t.Errorf("the windows at the pause at +%ds have p99 %s, want ≥ 400ms: the pause is hidden", 3*k, peak)
		}
	}
	// The pauses, and nothing else of their size. Tests running beside
	// this one can add a small episode of their own (one CI run had a
	// window at p99 26ms against a steady 8ms); it must stay small.
	var pauses []analyze.Episode
	for _, e := range sp.Episodes {
		if e.Peak >= 300*time.Millisecond {
			pauses = append(pauses, e)
		} else if e.Peak >= 100*time.Millisecond && !machineSpike(t, e, sp.Level, machine) {
			machine.Fail(t, analyze.LagLimit, "an episode of p99 %s at +%s that is no pause", e.Peak, e.Offset)
		} else {
			t.Logf("a small episode besides the pauses (machine noise): p99 %s at +%s", e.Peak, e.Offset)
		}
	}
	if len(pauses) != 3 {
		machine.Fail(t, analyze.LagLimit, "want 3 pause episodes (at 3, 6, 9 s), got %+v", sp)
	} else {
		for i, e := range pauses {
			want := time.Duration(i+1) * 3 * time.Second
			if d := e.Offset - want; d < -time.Second || d > time.Second {
				machine.Fail(t, analyze.LagLimit, "episode %d at +%s, want +%s (one 1s window)", i, e.Offset, want)
			}
		}
		if sp.Period != 3*time.Second {
			machine.Fail(t, analyze.LagLimit, "period %s, want 3s", sp.Period)
		}
	}
	if c := f.Labels[0].Cold; c != nil && c.Unjudged == "" {
		machine.Fail(t, analyze.LagLimit, "a pause is not a cold phase: %s", c.Text)
	}
}

// /pool?size=4&ms=50 serves at most 4/0.050 = 80 requests/s. Ramp the
// offered rate from 40 to 120/s over 8 s: it crosses 80 at 4 s. Truth: a
// knee at 80/s. On a loaded machine each 50ms the pool holds a slot
// overruns by about what the probe measured, and so does handing the slot
// to the next waiter: the truth is then 4/(50ms + 2·overrun), measured.
// Above 80/s is wrong on any machine.
func TestLabPoolKnee(t *testing.T) {
	f, _, machine := labRun(t, "/pool?size=4&ms=50", attack.Config{Pacer: rampPacer{40, 120, 8 * time.Second}})
	sat := f.Labels[0].Saturation
	if sat == nil || !sat.Detected {
		t.Fatalf("no saturation found past 80/s: %+v", sat)
	}
	truth := 4 / (0.050 + 2*machine.Mean.Seconds())
	t.Logf("truth 80/s (%.1f/s with the measured overrun); knee %.1f/s, first behind at %.1f/s offered", truth, sat.Capacity, sat.FirstBehind)
	// The machine can only slow the pool down: above 80/s is wrong on any.
	if sat.Capacity > 88 {
		t.Errorf("knee %.1f/s, want at most 80/s + 10%%", sat.Capacity)
	} else if sat.Capacity < 0.9*truth {
		machine.Fail(t, analyze.LagLimit, "knee %.1f/s, want at least 90%% of %.1f/s", sat.Capacity, truth)
	}
	if sat.FirstBehind > 100 {
		t.Errorf("fell behind from %.1f/s offered, want just above 80/s", sat.FirstBehind)
	} else if sat.FirstBehind < 0.95*truth-1 {
		machine.Fail(t, analyze.LagLimit, "fell behind from %.1f/s offered, want just above %.1f/s", sat.FirstBehind, truth)
	}
	if !strings.Contains(sat.Text, "knee") {
		t.Errorf("sentence: %s", sat.Text)
	}
}
