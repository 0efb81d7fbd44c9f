package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
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
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "-fail-on-regression", "much"},
		{"ab", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:1/", "-fail-on-regression", "5%", "-metrics", "p50,p42"},
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

// abTrials is how many trials of each case TestABGate runs; the figures in
// docs/methods.md come from -ab.trials 10.
var abTrials = flag.Int("ab.trials", 2, "trials per case of TestABGate (each about 4 s)")

// abComparison is what a test reads of ab -type json.
type abComparison struct {
	Hierarchical bool
	Limited      []struct{ Side, Why string }
	Labels       []struct {
		Label   string
		All     bool
		Metrics []struct {
			Name, Verdict string
			Change, Low   float64
		}
	}
}

// verdict returns the verdict of metric in the label's comparison (label
// "" is all requests), "" when absent.
func (c *abComparison) verdict(label, metric string) string {
	for _, l := range c.Labels {
		if l.Label != label {
			continue
		}
		for _, m := range l.Metrics {
			if m.Name == metric {
				return m.Verdict
			}
		}
	}
	return ""
}

// abGate runs surge ab -type json with args and returns its exit code,
// stderr, comparison and what the starvation probe saw meanwhile, with
// Limited set when compare left rounds out as the generator's.
func abGate(t *testing.T, args ...string) (int, string, *abComparison, starvation.Report) {
	t.Helper()
	probe := starvation.Start(0)
	code, out, stderr := surge(t, context.Background(), "", append([]string{"ab", "-quiet", "-type", "json"}, args...)...)
	machine := probe.Stop()
	if code != 0 && code != exitRegression {
		t.Fatalf("ab exit %d: %s", code, stderr)
	}
	_, js, _ := strings.Cut(out, "\n")
	var c abComparison
	if err := json.Unmarshal([]byte(js), &c); err != nil || len(c.Labels) == 0 {
		t.Fatalf("ab -type json: %v\n%s", err, out)
	}
	if len(c.Limited) > 0 {
		machine.Limited = fmt.Sprintf("compare left out %d rounds the generator was limited in (first: %s %s)", len(c.Limited), c.Limited[0].Side, c.Limited[0].Why)
	}
	t.Logf("exit %d, %d rounds left out; %s", code, len(c.Limited), machine)
	return code, stderr, &c, machine
}

// TestABGate: -fail-on-regression 10% -metrics p50,mean on two lab
// instances. B at /fixed?ms=13 against A at /fixed?ms=10 (service time 30 %
// longer) exits 4 with compare's message naming the figure; the same path
// on both exits 0. A trial that goes the other way is the machine's only
// when its own health says so: the probe saw the process starved, or
// compare left rounds out as generator-limited (then "not judged" is the
// expected answer, never without that reason).
func TestABGate(t *testing.T) {
	labs := [2]string{startLab(t), startLab(t)}
	gate := []string{"-rounds", "8", "-round-duration", "200ms", "-rate", "100", "-fail-on-regression", "10%", "-metrics", "p50,mean"}
	var called, clean, unjudged int
	for trial := range *abTrials {
		code, stderr, c, machine := abGate(t, append(gate, "-a", labs[0]+"/fixed?ms=10", "-b", labs[1]+"/fixed?ms=13")...)
		p50 := c.verdict("", "p50")
		switch {
		case code == exitRegression:
			called++
			if pre, figure := "surge ab: regression beyond 10.0% and noise: ", "all requests p50 worse by at least "; !strings.HasPrefix(stderr, pre) || !strings.Contains(stderr, figure) {
				t.Errorf("trial %d: exit 4 with %q, want %q naming %q", trial, stderr, pre, figure)
			}
		case p50 == analyze.NotJudged && machine.Limited == "":
			t.Errorf("trial %d: B 30%% slower: p50 not judged with no round left out as limited", trial)
		case p50 == analyze.NotJudged && c.verdict("", "mean") == analyze.NotJudged && !strings.Contains(stderr, "passed on nothing"):
			t.Errorf("trial %d: the gate judged neither p50 nor mean and did not say so: %q", trial, stderr)
		default:
			machine.Fail(t, analyze.LagLimit, "trial %d: B 30%% slower: exit %d, p50 %s, want exit 4 (regressed beyond 10%%)", trial, code, p50)
		}

		code, stderr, c, machine = abGate(t, append(gate, "-a", labs[0]+"/fixed?ms=10", "-b", labs[1]+"/fixed?ms=10")...)
		switch p50 = c.verdict("", "p50"); {
		case code == 0 && p50 == analyze.NotJudged:
			unjudged++
			if machine.Limited == "" {
				t.Errorf("trial %d: the same on both sides: p50 not judged with no round left out as limited", trial)
			}
		case code == 0:
			clean++
		default:
			machine.Fail(t, analyze.LagLimit, "trial %d: the same on both sides: exit %d (%s), want 0", trial, code, strings.TrimSpace(stderr))
		}
	}
	t.Logf("30%% slower B: %d of %d trials exit 4; same on both: %d of %d judged and exit 0, %d not judged (every round limited)", called, *abTrials, clean, *abTrials, unjudged)
}

// TestABScenarioRoundSchedule: a round of an open-model scenario has the
// requests of its profile due before -round-duration and no more, so a
// round whose stop comes late (a starved machine fires the timer late)
// sends nothing past the cut (TestABScenario saw 13 and 28 requests in
// rounds of 10 under load before the schedule was cut).
func TestABScenarioRoundSchedule(t *testing.T) {
	scn := writeFile(t, t.TempDir(), "s.yaml", "requests: [{url: /}]\nload: {model: open, rate: 50/1s, duration: 1m}\n")
	o := abOptions{urls: [2]string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, scenario: scn, round: 200 * time.Millisecond}
	sides, err := o.configs(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sides {
		n := 0
		for seq := uint64(0); seq < 1000; seq++ {
			if _, ok := s.cfg.Pacer.At(seq); !ok {
				break
			}
			n++
		}
		if n != 10 {
			t.Errorf("side %c: %d requests scheduled in a round of 200ms at 50/s, want 10", 'A'+i, n)
		}
	}
}

// TestABScenarioLabels: with a scenario of two labelled requests, ab
// compares each label as compare does, and the gate names the label that
// got worse: "same" is /fixed?ms=10 on both sides, "changed" 10 ms on A
// and 13 ms on B (each side a lab instance behind an alias of /changed).
func TestABScenarioLabels(t *testing.T) {
	var bases [2]string
	for i, ms := range []string{"10", "13"} {
		l := lab.New(lab.Config{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/changed" {
				r = r.Clone(r.Context())
				r.URL.Path, r.URL.RawQuery = "/fixed", "ms="+ms
			}
			l.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		bases[i] = srv.URL
	}
	scn := writeFile(t, t.TempDir(), "s.yaml", `name: labels
base_url: http://127.0.0.1:1
requests:
  - {name: same, url: '/fixed?ms=10'}
  - {name: changed, url: '/changed'}
load: {model: open, rate: 100/1s, duration: 1m}
`)
	code, stderr, c, machine := abGate(t, "-scenario", scn, "-rounds", "8", "-round-duration", "200ms",
		"-fail-on-regression", "10%", "-metrics", "p50", "-a", bases[0], "-b", bases[1])
	var labels []string
	for _, l := range c.Labels {
		labels = append(labels, l.Label)
	}
	if got := strings.Join(labels, ","); got != ",same,changed" && got != ",changed,same" {
		t.Fatalf("labels compared %q, want all requests, then same and changed", got)
	}
	if v := c.verdict("same", "p50"); v == analyze.Regressed || v == analyze.Improved {
		machine.Fail(t, analyze.LagLimit, "label same (10ms on both): p50 %s, want no significant change", v)
	}
	if strings.Contains(stderr, "same p50") {
		machine.Fail(t, analyze.LagLimit, "the gate names label same (10ms on both): %s", stderr)
	}
	switch v := c.verdict("changed", "p50"); {
	case code == exitRegression:
		if want := "changed p50 worse by at least "; !strings.Contains(stderr, want) {
			t.Errorf("exit 4 with %q, want it to name %q", stderr, want)
		}
	case v == analyze.NotJudged && machine.Limited == "":
		t.Errorf("label changed: p50 not judged with no round left out as limited")
	default:
		machine.Fail(t, analyze.LagLimit, "label changed (10ms → 13ms): exit %d, p50 %s, want exit 4", code, v)
	}
}

// TestGatePassedOnNothing: a gate none of whose figures could be judged
// passes (exit 0, as a figure not judged is no regression) and says so on
// stderr; one that judged a figure says nothing more. count and max are
// never judged; the error rate of two sound runs always is.
func TestGatePassedOnNothing(t *testing.T) {
	base := startLab(t)
	f := filepath.Join(t.TempDir(), "r.srg")
	if code, _, stderr := surge(t, context.Background(), base+"/fixed?ms=1\n", "attack", "-rate", "50", "-duration", "400ms", "-quiet", "-output", f); code != 0 {
		t.Fatalf("attack: exit %d: %s", code, stderr)
	}
	for _, tt := range []struct {
		metrics string
		nothing bool
	}{{"count,max", true}, {"errors", false}} {
		code, _, stderr := surge(t, context.Background(), "", "compare", "-include-limited", "-fail-on-regression", "5%", "-metrics", tt.metrics, "-output", os.DevNull, f, f)
		if code != 0 {
			t.Errorf("-metrics %s: exit %d, want 0: %s", tt.metrics, code, stderr)
		}
		if got := strings.Contains(stderr, "-fail-on-regression 5%: none of "+tt.metrics+" could be judged"); got != tt.nothing {
			t.Errorf("-metrics %s: stderr %q; says it passed on nothing: %v, want %v", tt.metrics, stderr, got, tt.nothing)
		}
	}
}

// TestABFewRoundsAdvice: with fewer than 3 rounds a side judged, the noise
// line's advice names ab's own flag, -rounds, not attack's -repeat.
func TestABFewRoundsAdvice(t *testing.T) {
	base := startLab(t)
	code, out, stderr := surge(t, context.Background(), "", "ab", "-quiet", "-include-limited", "-rounds", "2", "-round-duration", "100ms", "-rate", "50",
		"-a", base+"/fixed?ms=1", "-b", base+"/fixed?ms=1")
	if code != 0 {
		t.Fatalf("ab: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "record 3 or more runs a side (-rounds) for a sharper answer") || strings.Contains(out, "-repeat") {
		t.Errorf("noise advice of 2 rounds a side does not name -rounds alone:\n%s", out)
	}
}
