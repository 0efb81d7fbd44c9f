package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
)

// abVerdicts runs surge ab with args and returns the overall verdict of
// each figure, the stderr and what the starvation probe saw meanwhile.
func abVerdicts(t *testing.T, args ...string) (map[string]string, string, starvation.Report) {
	v, stderr, machine, _ := abRun(t, args...)
	return v, stderr, machine
}

// abRun is abVerdicts that also says whether compare's intervals covered
// the drift between runs (Comparison.Hierarchical).
func abRun(t *testing.T, args ...string) (map[string]string, string, starvation.Report, bool) {
	t.Helper()
	probe := starvation.Start(0)
	code, out, stderr := surge(t, context.Background(), "", append([]string{"ab", "-type", "json"}, args...)...)
	machine := probe.Stop()
	if code != 0 {
		t.Fatalf("ab exit %d: %s", code, stderr)
	}
	// The first line names the sides; the comparison follows as JSON.
	_, js, _ := strings.Cut(out, "\n")
	var c struct {
		Hierarchical bool
		Limited      []struct{ Side, Why string }
		Labels       []struct {
			Metrics []struct {
				Name, Verdict string
				Change        float64
			}
		}
	}
	if err := json.Unmarshal([]byte(js), &c); err != nil || len(c.Labels) == 0 {
		t.Fatalf("ab -type json: %v\n%s", err, out)
	}
	v := map[string]string{}
	for _, m := range c.Labels[0].Metrics {
		v[m.Name] = m.Verdict
		t.Logf("%s: %+.1f%% %s", m.Name, 100*m.Change, m.Verdict)
	}
	// Rounds compare left out as generator-limited or starved are the
	// machine's, as the report's own generator verdict is in TestThresholds:
	// with a quarter of the 16 rounds gone, a miss is not the code's.
	if len(c.Limited) >= 4 {
		machine.Limited = fmt.Sprintf("compare left out %d rounds the generator was limited in (first: %s %s)", len(c.Limited), c.Limited[0].Side, c.Limited[0].Why)
	}
	t.Log(machine)
	return v, stderr, machine, c.Hierarchical
}

// TestABLab: on the lab, /fixed?ms=10 against ms=11 (service time 10 %
// longer) is called regressed on p50 by 8 interleaved rounds of
// 200 ms a side at 100/s (160 requests a side); the same URL on both
// sides is called neither. The rounds run A B B A four times, each a run
// of its side's file. Rounds the generator limited are left out by
// compare; when the probe saw the process starved, a miss is logged, not
// failed (starvation.Report.Fail).
func TestABLab(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.srg"), filepath.Join(dir, "b.srg")
	load := []string{"-rounds", "8", "-round-duration", "200ms", "-rate", "100"}
	v, stderr, machine := abVerdicts(t, append(load, "-a", base+"/fixed?ms=10", "-b", base+"/fixed?ms=11", "-output-a", a, "-output-b", b)...)
	// p50 must be called; the mean and p90 of 160 requests can be moved
	// by one stall of a loaded machine, so they must only not be called
	// the wrong way.
	if v["p50"] != analyze.Regressed {
		machine.Fail(t, analyze.LagLimit, "10%% slower B: p50 %s, want regressed", v["p50"])
	}
	for _, m := range []string{"mean", "p90"} {
		if v[m] == analyze.Improved {
			machine.Fail(t, analyze.LagLimit, "10%% slower B: %s improved", m)
		}
	}
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[0] == "round" {
			order = append(order, strings.TrimSuffix(f[4], ","))
		}
	}
	if got := strings.Join(order, ""); got != "ABBAABBAABBAABBA" {
		t.Errorf("round order %q, want ABBA four times:\n%s", got, stderr)
	}
	for _, f := range []string{a, b} {
		if runs, _, n := runsIn(t, f); runs != 8 || n != 160 {
			t.Errorf("%s: %d runs, %d results; want 8 rounds of 20", filepath.Base(f), runs, n)
		}
	}

	v, _, machine, drift := abRun(t, append(load, "-quiet", "-a", base+"/fixed?ms=10", "-b", base+"/fixed?ms=10")...)
	if !drift {
		machine.Fail(t, analyze.LagLimit, "8 rounds a side: compare's intervals do not cover the drift between rounds (not hierarchical)")
	}
	for _, m := range []string{"p50", "mean"} {
		if v[m] == analyze.Regressed || v[m] == analyze.Improved {
			machine.Fail(t, analyze.LagLimit, "same URL on both sides: %s %s, want no significant change", m, v[m])
		}
	}
}

func TestABFlags(t *testing.T) {
	for _, args := range [][]string{
		{"ab", "-a", "http://127.0.0.1:1/"},
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "-rounds", "0"},
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "-round-duration", "0s"},
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "-type", "xml"},
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "extra"},
	} {
		if code, _, stderr := surge(t, context.Background(), "", args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}

// TestABScenario: with -scenario, -a and -b are base URLs: every round of
// A goes to the first lab, every round of B to the second, each a run of
// its side's file cut at -round-duration.
func TestABScenario(t *testing.T) {
	labs := [2]string{startLab(t), startLab(t)}
	dir := t.TempDir()
	scn := writeFile(t, dir, "s.yaml", `name: ab
base_url: http://127.0.0.1:1
requests:
  - {name: fixed, url: '/fixed?ms=1', checks: [{status: 200}]}
load: {model: open, rate: 50/1s, duration: 1m}
`)
	files := [2]string{filepath.Join(dir, "a.srg"), filepath.Join(dir, "b.srg")}
	code, out, stderr := surge(t, context.Background(), "", "ab", "-quiet", "-scenario", scn, "-rounds", "2", "-round-duration", "200ms",
		"-a", labs[0], "-b", labs[1], "-output-a", files[0], "-output-b", files[1])
	if code != 0 || !strings.Contains(out, "Compared") {
		t.Fatalf("ab -scenario: exit %d\n%s\n%s", code, out, stderr)
	}
	for i, f := range files {
		runs, _, n := runsIn(t, f)
		// 50/s for 200 ms: 10 ticks a round, 11 when the profile's tick at
		// the cut is due too.
		if runs != 2 || n < 20 || n > 22 {
			t.Errorf("%s: %d runs, %d results; want 2 rounds of 10 or 11", filepath.Base(f), runs, n)
		}
		if data, _ := os.ReadFile(f); !strings.Contains(string(data), labs[i]+"/fixed") || strings.Contains(string(data), labs[1-i]+"/fixed") {
			t.Errorf("%s does not name only %s in its targets", filepath.Base(f), labs[i])
		}
	}
}
