package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// runsIn reads a results file back and returns its runs (summary.Runs, as
// report sees them), the number of runs compare resamples, and the
// results.
func runsIn(t *testing.T, name string) (runs, blockRuns int, results int64) {
	t.Helper()
	e := &env{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	sm := summary.New(summary.Options{IncludeWarmup: true})
	bs := summary.NewBlocks(0)
	if err := readResults(e, []string{name}, result.Tee{sm, bs}, nil); err != nil {
		t.Fatal(err)
	}
	return len(sm.Runs), len(bs.Runs()), sm.Total.Requests
}

// TestAttackRepeat: -repeat 3 records three runs in one file, each with a
// header of its own, which report and compare read back as three runs,
// with every request of each run.
func TestAttackRepeat(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.srg")
	code, _, stderr := surge(t, context.Background(), base+"/fixed?ms=1\n", "attack", "-rate", "100", "-duration", "300ms",
		"-repeat", "3", "-repeat-pause", "50ms", "-quiet", "-output", out)
	if code != 0 {
		t.Fatalf("attack -repeat 3: exit %d: %s", code, stderr)
	}
	runs, blockRuns, n := runsIn(t, out)
	if runs != 3 || blockRuns != 3 || n != 90 {
		t.Errorf("read back %d runs (compare: %d), %d results; want 3 runs of 30 requests", runs, blockRuns, n)
	}
	code, js, stderr := surge(t, context.Background(), "", "compare", "-type", "json", out, out)
	var c struct {
		BeforeRuns int `json:"before_runs"`
		AfterRuns  int `json:"after_runs"`
	}
	if err := json.Unmarshal([]byte(js), &c); code != 0 || err != nil || c.BeforeRuns != 3 || c.AfterRuns != 3 {
		t.Errorf("compare of the file with itself: exit %d, %v, %d and %d runs; want 3 per side (stderr %q)", code, err, c.BeforeRuns, c.AfterRuns, stderr)
	}
	if code, _, stderr := surge(t, context.Background(), "", "attack", "-repeat", "0", "-output", out); code != exitUsage || !strings.Contains(stderr, "-repeat 0") {
		t.Errorf("-repeat 0: exit %d, %q; want a usage error", code, stderr)
	}
}

// TestRepeatInterruptKeepsRuns: Ctrl-C during the third of five runs
// keeps the two finished runs and the partial third, and says so.
func TestRepeatInterruptKeepsRuns(t *testing.T) {
	base := startLab(t)
	out := filepath.Join(t.TempDir(), "r.srg")
	ctx, cancel := context.WithTimeout(context.Background(), 1000*time.Millisecond)
	defer cancel()
	code, _, stderr := surge(t, ctx, base+"/fixed?ms=1\n", "attack", "-rate", "100", "-duration", "400ms", "-repeat", "5", "-quiet", "-output", out)
	if code != 0 || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "of 5 runs") {
		t.Fatalf("exit %d, stderr %q; want 0 and an 'interrupted … in N of 5 runs' note", code, stderr)
	}
	runs, _, n := runsIn(t, out)
	// Runs 1 and 2 end by 800 ms plus their drain; the third is cut.
	if runs < 2 || runs > 4 || n < int64(40*runs-40) || n >= int64(40*runs) {
		t.Errorf("read back %d runs, %d results; want 2 whole runs of 40 and a partial one (stderr %q)", runs, n, stderr)
	}
}

// TestRunRepeat: surge run -repeat 2 writes two runs, reports and judges
// its thresholds over both (requests == 40 holds only for the two runs'
// 20 requests each).
func TestRunRepeat(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	scn := writeFile(t, dir, "r.yaml", `name: rep
base_url: `+base+`
requests:
  - {name: fixed, url: '/fixed?ms=1', checks: [{status: 200}]}
load: {model: open, rate: 50/1s, duration: 400ms}
thresholds:
  - requests == 40
`)
	out := filepath.Join(dir, "r.srg")
	code, stdout, stderr := surge(t, context.Background(), "", "run", "-quiet", "-repeat", "2", "-output", out, scn)
	if code != 0 || !strings.Contains(stdout, "all 1 thresholds passed") || !strings.Contains(stderr, "in 2 runs") {
		t.Fatalf("run -repeat 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if runs, blockRuns, n := runsIn(t, out); runs != 2 || blockRuns != 2 || n != 40 {
		t.Errorf("read back %d runs (compare: %d), %d results; want 2 runs of 20", runs, blockRuns, n)
	}
}

// TestRunReportFlags: surge run's closing report takes surge report's
// flags (story 3's p75 needs -percentiles), its -output being the results
// file and -report-output the report's; a bad value is refused before any
// load.
func TestRunReportFlags(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	scn := writeFile(t, dir, "p.yaml", `name: pct
base_url: `+base+`
requests:
  - {name: fixed, url: '/fixed?ms=1'}
load: {model: open, rate: 50/1s, duration: 400ms}
thresholds:
  - requests == 20
`)
	out := filepath.Join(dir, "p.srg")
	code, stdout, stderr := surge(t, context.Background(), "", "run", "-quiet", "-percentiles", "50,75,99", "-output", out, scn)
	if code != 0 || !strings.Contains(stdout, "Percentiles          [50, 75, 99]") || !strings.Contains(stdout, "all 1 thresholds passed") {
		t.Fatalf("run -percentiles: exit %d\n%s\n%s", code, stdout, stderr)
	}
	js := filepath.Join(dir, "p.json")
	code, stdout, stderr = surge(t, context.Background(), "", "run", "-quiet", "-type", "json", "-percentiles", "75", "-report-output", js, "-output", out, scn)
	var rep struct {
		Percentiles map[string]int64 `json:"percentiles"`
	}
	b, err := os.ReadFile(js)
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if code != 0 || err != nil || rep.Percentiles["75"] <= 0 {
		t.Errorf("run -type json -report-output: exit %d, %v, percentiles %v\n%s\n%s", code, err, rep.Percentiles, stdout, stderr)
	}
	code, _, stderr = surge(t, context.Background(), "", "run", "-quiet", "-percentiles", "75,x", "-output", filepath.Join(dir, "bad.srg"), scn)
	if _, err := os.Stat(filepath.Join(dir, "bad.srg")); code != 2 || !strings.Contains(stderr, "-percentiles") || err == nil {
		t.Errorf("bad -percentiles: exit %d, results file made: %v, stderr %q; want 2, none, naming the flag", code, err == nil, stderr)
	}
}
