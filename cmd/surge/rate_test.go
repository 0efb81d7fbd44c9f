package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
		{[]string{"run", "-output", out, scn}, exitError, "fast.yaml:4: load.rate: rate \"100000000000/1ns\" is 1e+20/s, above the ceiling of 1000000/s"},
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
// ends an attack at the ceiling rate that fell far behind its schedule
// (two connections to a 10ms endpoint) within 1 s beyond its slowest
// response, and the file holds every tick due before the stop, at most 16
// bytes each. Under the race detector, which records results several
// times slower than the ceiling rate needs, the run is judged as the
// report judges a run the generator limited: the file must be complete,
// and the stop come before the run's minute is over.
func TestCeilingRateInterrupt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "r.srg")
	ctx, cancel := context.WithCancel(context.Background())
	const after = 2 * time.Second
	time.AfterFunc(after, cancel)
	start := time.Now()
	code, _, stderr := surge(t, ctx, "GET "+srv.URL+"/\n", "attack", "-rate", "1000000/1s", "-duration", "1m", "-connections", "2", "-quiet", "-output", out)
	took := time.Since(start)
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
	t.Logf("interrupted after %v: returned after %v, %d requests in %d bytes, slowest response %v", after, took, v.Requests, st.Size(), slowest)
	// The attack starts a little after the test's clock: ticks are 1 per µs.
	lo, hi := int64((after-100*time.Millisecond)/time.Microsecond), int64(took/time.Microsecond)
	if v.Requests < lo || v.Requests > hi {
		t.Errorf("%d requests in the file; want the ticks due before the stop, %d to %d", v.Requests, lo, hi)
	}
	if st.Size() > 16*v.Requests {
		t.Errorf("results file of %d bytes for %d requests; want at most 16 bytes each", st.Size(), v.Requests)
	}
	bound := after + time.Second + slowest
	if raceEnabled {
		bound = 30 * time.Second
	}
	if took > bound {
		t.Errorf("the interrupted run took %v; want at most %v", took, bound)
	}
}
