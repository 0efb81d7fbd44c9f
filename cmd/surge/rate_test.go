package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
)

// TestAbsurdRateRefused: a rate no generator could reach is a usage error
// that states the ceiling, before anything is sent, from the flag, a ramp
// and a scenario file alike.
func TestAbsurdRateRefused(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	scn := filepath.Join(dir, "fast.yaml")
	os.WriteFile(scn, []byte("base_url: "+srv.URL+"\nrequests: [{url: /}]\nload:\n  rate: 100000000000/1ns\n  duration: 1s\n"), 0o644)
	out := filepath.Join(dir, "r.srg")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"attack", "-rate", "1000000000/1s", "-duration", "1s", "-output", out}, exitUsage, "above the ceiling of 1000000/s"},
		{[]string{"attack", "-ramp", "10/1s..2000000/1s", "-duration", "1s", "-output", out}, exitUsage, "-ramp"},
		{[]string{"run", "-output", out, scn}, exitError, "fast.yaml:4: load.rate: \"100000000000/1ns\": 1e+20/s is above the ceiling of 1000000/s"},
	} {
		start := time.Now()
		code, _, stderr := surge(t, context.Background(), "GET "+srv.URL+"/\n", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%v took %v to refuse", tc.args, d)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests were sent", hits.Load())
	}
}

// TestCeilingRateInterrupt: Ctrl-C (the context main cancels on SIGINT)
// ends an attack that fell far behind its schedule (two connections to a
// 10ms endpoint) within 1 s beyond its slowest response, and the file
// holds every tick due before the stop, at most 16 bytes each. It runs at
// the ceiling rate when this process, as built and as loaded, records
// not-sent results at least four times as fast (see cliRecordSpeed);
// slower (the race detector, a loaded machine: seen 36 s to record 3.2M
// ticks), a run at the ceiling is one the generator limits, and the test
// runs at a quarter of the measured speed instead, where the stop's
// accounting must again take well under a second.
func TestCeilingRateInterrupt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	rate := int64(schedule.MaxRate)
	if speed := cliRecordSpeed(t, srv.URL); speed < 4*schedule.MaxRate {
		rate = int64(speed / 4)
		t.Logf("this process records %.0f not-sent results/s, less than four times the ceiling: the run is at %d/s, a quarter of that", speed, rate)
	}
	out := filepath.Join(t.TempDir(), "r.srg")
	ctx, cancel := context.WithCancel(context.Background())
	const after = 2 * time.Second
	time.AfterFunc(after, cancel)
	probe := starvation.Start(0)
	start := time.Now()
	code, _, stderr := surge(t, ctx, "GET "+srv.URL+"/\n", "attack", "-rate", fmt.Sprintf("%d/1s", rate), "-duration", "1m", "-connections", "2", "-quiet", "-output", out)
	took := time.Since(start)
	machine := probe.Stop()
	if code != 0 || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 0 and an 'interrupted' note", code, stderr)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	code, js, stderr := surge(t, context.Background(), "", "report", "-type", "json", out)
	var v struct {
		Requests  int64            `json:"requests"`
		Latencies map[string]int64 `json:"latencies"`
	}
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil {
		t.Fatalf("report: exit %d, %v, %s", code, err, stderr)
	}
	slowest := time.Duration(v.Latencies["max"])
	t.Logf("interrupted after %v at %d/s: returned after %v, %d requests in %d bytes, slowest response %v; %s",
		after, rate, took, v.Requests, st.Size(), slowest, machine)
	// The attack starts a little after the test's clock: a tick per 1/rate.
	lo, hi := int64((after-100*time.Millisecond).Seconds()*float64(rate)), int64(took.Seconds()*float64(rate))+1
	if v.Requests < lo || v.Requests > hi {
		t.Errorf("%d requests in the file; want the ticks due before the stop, %d to %d", v.Requests, lo, hi)
	}
	if st.Size() > 16*v.Requests {
		t.Errorf("results file of %d bytes for %d requests; want at most 16 bytes each", st.Size(), v.Requests)
	}
	// The stop itself is late by as long as the process was kept from
	// running: its worst measured stall is added.
	if bound := after + time.Second + slowest + machine.Max; took > bound {
		t.Errorf("the interrupted run took %v; want at most %v (the stop at %v + 1s + the slowest response %v + the worst stall %v)",
			took, bound, after, slowest, machine.Max)
	}
}

// cliRecordSpeed measures how many not-sent results per second surge
// attack, in this process as built (the race detector makes it several
// times slower) and as loaded, records into its results file: a 100ms
// run at the ceiling on one connection to url, whose 100,000 ticks are
// nearly all left to record at the schedule's end. The time it takes is
// from the last response (or the schedule's end) to the end of the run,
// both on the run's own clock (the generator's end-of-run marker). The
// better of two runs: one may meet a burst of other load.
func cliRecordSpeed(t *testing.T, url string) float64 {
	t.Helper()
	const span = 100 * time.Millisecond
	var speed float64
	for i := range 2 {
		file := filepath.Join(t.TempDir(), fmt.Sprintf("speed%d.srg", i))
		code, _, stderr := surge(t, context.Background(), "GET "+url+"/\n", "attack", "-rate", fmt.Sprintf("%d/1s", schedule.MaxRate),
			"-duration", span.String(), "-connections", "1", "-quiet", "-output", file)
		if code != 0 {
			t.Fatalf("speed run: exit %d: %s", code, stderr)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		rd := result.NewReader(f)
		var notSent int64
		lastDone := span
		var r result.Result
		for {
			if err := rd.Read(&r); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if r.Flags&result.NotSent != 0 {
				notSent++
			} else {
				lastDone = max(lastDone, r.Intended+r.Latency)
			}
		}
		f.Close()
		var end time.Duration
		for _, m := range rd.Markers() {
			if m.Kind == result.MarkGenerator {
				end = m.At
			}
		}
		if end == 0 || notSent == 0 {
			t.Fatalf("speed run: %d not sent, end of run at %v; want a generator marker and ticks left to record", notSent, end)
		}
		s := float64(notSent) / max(end-lastDone, time.Millisecond).Seconds()
		t.Logf("speed run: %d not sent recorded in %v after the last response at %v: %.0f/s", notSent, end-lastDone, lastDone, s)
		speed = max(speed, s)
	}
	return speed
}

// TestParseRateFlag: rate flags take the rate grammar, decimals included,
// and the word max.
func TestParseRateFlag(t *testing.T) {
	for in, want := range map[string]schedule.Rate{
		"max": {}, "infinity": {}, " max ": {}, "0": {},
		"100/1s": {Freq: 100, Per: time.Second}, "0.5/1s": {Freq: 1, Per: 2 * time.Second},
		"2.5/100ms": {Freq: 5, Per: 200 * time.Millisecond},
	} {
		var f rateFlag
		if err := f.Set(in); err != nil || f.r != want {
			t.Errorf("-rate %q = %#v, %v; want %#v", in, f.r, err, want)
		}
	}
	for _, in := range []string{"fast", "-1", "maximum", "max/1s"} {
		var f rateFlag
		if err := f.Set(in); err == nil {
			t.Errorf("-rate %q = %v; want an error", in, f.r)
		}
	}
}

// TestDecimalRates: -rate 2.5/1s runs one request every 400ms, exactly,
// and says its rate as the fraction it runs (5/2s); a list and a ramp take
// decimals too.
func TestDecimalRates(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args    []string
		profile string         // the run's Meta.Profile, or a line of it
		labels  map[string]int // results per label
	}{
		{[]string{"-rate", "2.5/1s", "-duration", "1s"}, "rate 5/2s for 1s", map[string]int{"GET /fixed?ms=1": 3}},
		{[]string{"-rate", "2.5/1s,0.5/100ms", "-duration", "1s"}, "2.5/s, 3 iterations",
			map[string]int{"GET /fixed?ms=1 [5/2s]": 3, "GET /fixed?ms=1 [1/200ms]": 5}},
		{[]string{"-ramp", "0.5/100ms..1.5/100ms", "-duration", "1s"}, "5/s→15/s, 10 iterations", map[string]int{"GET /fixed?ms=1": 10}},
	} {
		out := filepath.Join(dir, "r.srg")
		args := append(append([]string{"attack"}, tc.args...), "-quiet", "-output", out)
		if code, _, stderr := surge(t, context.Background(), "GET "+base+"/fixed?ms=1\n", args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		rs, _ := readRun(t, out)
		counts := map[string]int{}
		for _, r := range rs {
			counts[r.Label]++
		}
		if fmt.Sprint(counts) != fmt.Sprint(tc.labels) {
			t.Errorf("%v: results per label %v, want %v", tc.args, counts, tc.labels)
		}
		if tc.args[1] == "2.5/1s" {
			for i, r := range rs {
				if want := time.Duration(r.Seq) * 400 * time.Millisecond; r.Intended != want {
					t.Errorf("result %d (seq %d) intended at %v, want %v", i, r.Seq, r.Intended, want)
				}
			}
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		rd := result.NewReader(f)
		rd.Read(new(result.Result))
		f.Close()
		if m := rd.Meta(); m == nil || !strings.Contains(m.Profile, tc.profile) {
			t.Errorf("%v: profile %+v, want %q in it", tc.args, m, tc.profile)
		}
	}
}
