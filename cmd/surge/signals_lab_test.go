package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/summary"
)

// signalAttack attacks url with surge attack and the given flags (a
// -scrape or -watch among them), and returns the findings of the file it
// wrote, judged on the 250ms windows of surge plot's HTML report (and the
// dashboard's), and what a probe saw of the machine meanwhile. Readings
// every 250ms against 1 s windows would leave a 16 s test 16 windows'
// worth of independent pairs; the text report's line (1 s windows) is
// logged beside.
func signalAttack(t *testing.T, url string, flags ...string) (*analyze.Findings, starvation.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run.srg")
	probe := starvation.Start(0)
	args := append([]string{"attack", "-output", out}, flags...)
	code, _, stderr := surge(t, context.Background(), "GET "+url+"\n", args...)
	machine := probe.Stop()
	if code != 0 {
		t.Fatalf("attack %v: exit %d: %s", flags, code, stderr)
	}
	code, text, stderr := surge(t, context.Background(), "", "report", out)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "server signals") {
			t.Log("text report (1s windows):" + line)
		}
	}
	sm := summary.New(summary.Options{Window: htmlWindow})
	var errb strings.Builder
	if err := readResults(&env{strings.NewReader(""), io.Discard, &errb}, []string{out}, sm, nil); err != nil {
		t.Fatalf("read %s: %v %s", out, err, errb.String())
	}
	rep := struct{ Findings *analyze.Findings }{analyze.Diagnose(sm)}
	if len(rep.Findings.Labels) != 1 {
		t.Fatalf("%d labels", len(rep.Findings.Labels))
	}
	t.Log(machine)
	t.Log(rep.Findings.Generator.Text)
	lf := rep.Findings.Labels[0]
	if lf.Signals != nil && lf.Signals.Unjudged != "" {
		// surge's report says its own figures are not to be read as the
		// server's: neither are they the lab's truth.
		machine.Limited = lf.Signals.Unjudged
	}
	if lf.Spikes != nil {
		t.Log(lf.Spikes.Text)
	}
	if lf.Signals != nil {
		t.Log(lf.Signals.Text)
		for _, m := range lf.Signals.Matches {
			t.Log("  " + m.Text)
		}
	}
	return rep.Findings, machine
}

// TestLabPauseSignals: /pause?every=2s&for=400ms at 50/s for 16 s with the
// lab's /metrics read every 250ms. Truth: the lab pauses 400ms every 2 s
// (7 pauses), each counted in surge_lab_pause_seconds_total. The finding
// names that counter and matches every spike episode to one of its
// increases.
func TestLabPauseSignals(t *testing.T) {
	base := startLab(t)
	f, machine := signalAttack(t, base+"/pause?every=2s&for=400ms&ms=5",
		"-rate", "50/1s", "-duration", "16s", "-scrape", base+"/metrics", "-scrape-interval", "250ms")
	lf := f.Labels[0]
	sf := lf.Signals
	if sf == nil {
		t.Fatal("no signal findings: the scrape recorded nothing")
	}
	var m *analyze.SignalMatch
	for i := range sf.Matches {
		if sf.Matches[i].Name == "surge_lab_pause_seconds_total" {
			m = &sf.Matches[i]
			t.Logf("the pause counter is named %d of %d", i+1, len(sf.Matches))
			break
		}
	}
	if m == nil {
		machine.Fail(t, analyze.LagLimit, "surge_lab_pause_seconds_total not named: %s", sf.Text)
		return
	}
	if lf.Spikes == nil || m.Episodes != len(lf.Spikes.Episodes) || m.Matched != m.Episodes || m.Episodes < 6 {
		machine.Fail(t, analyze.LagLimit, "episodes matched %d of %d (spikes found %v), want every one of 6 or more: %s", m.Matched, m.Episodes, lf.Spikes != nil, m.Text)
	}
	if !strings.Contains(m.Text, "stop-the-world pauses") {
		t.Errorf("the finding does not say what the series means: %s", m.Text)
	}
}

// signalCleanRuns is how many /fixed runs TestLabFixedSignalsClean makes,
// half of them beside a CPU-bound child; docs/methods.md quotes
// -signals.runs 20.
var signalCleanRuns = flag.Int("signals.runs", 2, "runs of TestLabFixedSignalsClean (each 10s)")

// TestLabFixedSignalsClean: /fixed?ms=20&jitter=5 at 50/s for 10 s with
// the lab's /metrics (its own figures, the Go runtime's and the process's)
// read every 250ms, every other run beside a CPU-bound child the test
// starts and kills by PID. Truth: the lab's latency is 20±5ms whatever its
// metrics do; no series may be named. A run whose own figures surge judged
// unreliable (signals not judged) is counted apart, and a claim in a run
// the probe found starved is logged, not failed.
func TestLabFixedSignalsClean(t *testing.T) {
	base := startLab(t)
	var named, unjudged, unjudgedNamed, starvedClaims, tested int
	for i := range *signalCleanRuns {
		stop := func() {}
		if i%2 == 1 {
			stop = starvation.Hog(t)
		}
		f, machine := signalAttack(t, base+"/fixed?ms=20&jitter=5",
			"-rate", "50/1s", "-duration", "10s", "-scrape", base+"/metrics", "-scrape-interval", "250ms")
		stop()
		sf := f.Labels[0].Signals
		switch {
		case sf == nil:
			t.Fatalf("run %d: no signal findings: the scrape recorded nothing", i)
		case sf.Unjudged != "":
			unjudged++
			if len(sf.Matches) > 0 {
				unjudgedNamed++
			}
			continue
		}
		tested++
		if len(sf.Matches) == 0 {
			continue
		}
		if machine.Starved(analyze.LagLimit) {
			starvedClaims++
		} else {
			named++
		}
		machine.Fail(t, analyze.LagLimit, "run %d (hog %v): named a signal on a clean run: %s", i, i%2 == 1, sf.Text)
	}
	t.Logf("/fixed with a scrape, %d runs (every other beside a CPU hog): %d judged, %d not judged (busy machine; %d of them with a series that would have been named); signals named: %d in healthy runs, %d in starved runs",
		*signalCleanRuns, tested, unjudged, unjudgedNamed, named, starvedClaims)
}

// TestLabGCSignals: /gc?live=64&alloc=256 at 100/s for 16 s on a lab in a
// child process (so that its garbage collector is the server's alone),
// its /metrics read every 250ms. Truth (lab/README.md): a GC cycle every
// live / (rate · alloc/1024) = 64 / 25 ≈ 2.6 s, counted by
// go_gc_duration_seconds_count, the requests served during its mark phase
// the slow ones. The finding names a series of the Go collector.
func TestLabGCSignals(t *testing.T) {
	base, _ := startLabChild(t)
	path := "/gc?live=64&alloc=256"
	// The first request of a size builds its live heap; not part of the run.
	if resp, err := http.Get(base + path); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	f, machine := signalAttack(t, base+path,
		"-rate", "100/1s", "-duration", "16s", "-scrape", base+"/metrics", "-scrape-interval", "250ms")
	sf := f.Labels[0].Signals
	if sf == nil {
		t.Fatal("no signal findings: the scrape recorded nothing")
	}
	var gc []string
	for _, m := range sf.Matches {
		if !m.Symptom && (strings.HasPrefix(m.Name, "go_gc") || strings.HasPrefix(m.Name, "go_cpu_classes_gc")) {
			gc = append(gc, m.Name)
		}
	}
	t.Logf("Go collector series named: %v", gc)
	if len(gc) == 0 {
		machine.Fail(t, analyze.LagLimit, "no series of the Go collector named: %s", sf.Text)
	}
}
