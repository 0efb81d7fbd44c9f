//go:build linux

package attack

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
)

// loopAttacker returns an Attacker of cfg with a FastClient, which runs
// on the event loop.
func loopAttacker(t *testing.T, cfg Config) *Attacker {
	t.Helper()
	c, err := NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runLoop runs a paced attack on the event loop and returns its results
// and the Attacker, for what the loops counted.
func runLoop(t *testing.T, cfg Config) ([]result.Result, *Attacker) {
	t.Helper()
	a := loopAttacker(t, cfg)
	var rs []result.Result
	if err := a.Run(context.Background(), func(b []result.Result) error {
		rs = append(rs, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rs, a
}

// setVar sets *p to v for one test.
func setVar[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// TestPacedLoopKernelStamps: with ticks 100ms apart and lazySpan raised
// to 200ms, the loop sleeps until the next tick and only then reads the
// response of a 10ms endpoint. The latency must still be about 10ms —
// the kernel's arrival stamp — not the ~100ms until the read.
//
// The bounds on time hold on a machine that gives the process its CPU;
// when a probe measures it starved (analyze.LagLimit, surge's own
// generator-limited rule), the server's 10ms and the loop's wake-ups are
// the machine's, and only what holds under any load is judged: every tick
// recorded, each response whole, its first byte within its service time.
func TestPacedLoopKernelStamps(t *testing.T) {
	setVar(t, &lazySpan, 200*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	// A response still arriving when the loop woke for a tick turns the
	// path under test off for the rest of the run (lazyOff), as it should;
	// on a loaded machine that happens now and then, and the run is
	// repeated (at most 3 times) so that the stamps are tested.
	var rs []result.Result
	var a *Attacker
	var machine starvation.Report
	for try := 1; ; try++ {
		probe := starvation.Start(0)
		rs, a = runLoop(t, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 10, Per: time.Second}, Duration: time.Second})
		machine = probe.Stop()
		if !a.lazyOff.Load() || try == 3 {
			break
		}
		t.Logf("run %d left the lazy path (a response was still arriving at a tick's wake-up): again", try)
	}
	starved := machine.Starved(analyze.LagLimit)
	t.Log(machine)
	// Results come in the order they were collected, not by sequence.
	rs = sortedSeqs(rs)
	checkSeqs(t, rs, 10)
	sent := 0
	for _, r := range rs {
		if r.Flags == result.NotSent && starved {
			continue // due before the stop while the loop was held off the CPU
		}
		sent++
		if !r.OK() || r.BytesIn != 2 {
			t.Fatalf("result %+v failed", r)
		}
		service := r.Latency - r.SendLag()
		if r.FirstByte < 10*time.Millisecond || r.FirstByte > service {
			t.Errorf("seq %d: first byte after %v, want about 10ms and within the service time %v", r.Seq, r.FirstByte, service)
		}
		if service < 10*time.Millisecond || service > 60*time.Millisecond && !starved {
			t.Errorf("seq %d: service time %v, want about 10ms (the arrival, not the read at the next tick)", r.Seq, service)
		}
	}
	// All but the last response (read at the end of the run) were collected
	// on a tick's wake-up.
	if n := a.lazyDone.Load(); n < int64(sent)-2 && !starved {
		t.Errorf("%d of %d responses collected on a tick's wake-up, want at least %d: the test did not test stamps", n, sent, sent-2)
	}
}

// TestPacedLoopPartialResponse: a response whose head comes after 5ms (too
// late for the read right after the request) and its second half 150ms
// later is found incomplete when the loop wakes next (within 20ms). The
// loop then wakes for responses again, for good, and the response is
// recorded whole, its latency the arrival of its last byte.
//
// The upper bounds on time hold on a machine that gives the process its
// CPU, plus the time a probe measured the process held off it during the
// run (Stalled): the server's sleeps, which make the service time, wake
// that much later at most.
func TestPacedLoopPartialResponse(t *testing.T) {
	setVar(t, &lazySpan, 200*time.Millisecond)
	half := strings.Repeat("x", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2*len(half)))
		time.Sleep(5 * time.Millisecond)
		w.Write([]byte(half))
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		w.Write([]byte(half))
	}))
	defer srv.Close()
	probe := starvation.Start(0)
	rs, a := runLoop(t, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 10, Per: time.Second}, Duration: 300 * time.Millisecond})
	machine := probe.Stop()
	t.Log(machine)
	stall := machine.Stalled
	// Results come in the order they were collected, not by sequence.
	rs = sortedSeqs(rs)
	checkSeqs(t, rs, 3)
	starved := machine.Starved(analyze.LagLimit)
	for _, r := range rs {
		if r.Flags == result.NotSent && starved {
			continue // due before the stop while the loop was held off the CPU: recorded, not sent
		}
		if !r.OK() || r.BytesIn != int64(2*len(half)) {
			t.Fatalf("result %+v, want 200 with %d bytes", r, 2*len(half))
		}
		if service := r.Latency - r.SendLag(); service < 155*time.Millisecond || service > 250*time.Millisecond+stall {
			t.Errorf("seq %d: service time %v, want about 155ms (155ms to %v with %v of measured stall)", r.Seq, service, 250*time.Millisecond+stall, stall)
		}
		if r.FirstByte < 5*time.Millisecond || r.FirstByte > 50*time.Millisecond+stall {
			t.Errorf("seq %d: first byte after %v, want the head's arrival (about 5ms; at most %v with %v of measured stall)", r.Seq, r.FirstByte, 50*time.Millisecond+stall, stall)
		}
	}
	if !a.lazyOff.Load() {
		// A loop held off the CPU until the whole response was there never
		// saw it incomplete: the path was not taken, through no fault of it.
		machine.Fail(t, analyze.LagLimit, "the loop kept leaving responses for the next tick after finding one incomplete")
	}
}

// TestPacedLoopRetiresIdle: a server that stalls for the first 300ms makes
// the loop open a connection per tick (100/s); once it answers at once,
// the connections the rate does not need close after loopRetire.
func TestPacedLoopRetiresIdle(t *testing.T) {
	setVar(t, &loopRetire, 300*time.Millisecond)
	begin := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := 300*time.Millisecond - time.Since(begin); d > 0 {
			time.Sleep(d)
		}
	}))
	defer srv.Close()
	probe := starvation.Start(0)
	a := loopAttacker(t, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 100, Per: time.Second}, Duration: 1500 * time.Millisecond})
	var peak, late atomic.Int64
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n := a.Stats().Workers.Load()
			peak.Store(max(peak.Load(), n))
			if time.Since(begin) > 1300*time.Millisecond {
				late.Store(n)
			}
		}
	}()
	var rs []result.Result
	err := a.Run(context.Background(), func(b []result.Result) error {
		rs = append(rs, b...)
		return nil
	})
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	machine := probe.Stop()
	t.Log(machine)
	checkSeqs(t, sortedSeqs(rs), 150)
	if p := peak.Load(); p < 15 {
		t.Errorf("peak %d connections open during the stall, want about 30", p)
	}
	// A stall of the process (the in-process server too) makes the loop
	// open a connection per tick it lasts, 100/s × the worst measured
	// stall, and those are not idle long enough to retire by the end.
	// A starved process answers slowly and needs more connections for the
	// same rate (surge's generator-limited rule, measured by the probe).
	if n := late.Load(); n > 3+int64(machine.Max*100/time.Second) {
		if machine.Starved(analyze.LagLimit) {
			t.Logf("%d connections open at the end (peak %d) not judged: the process was starved of CPU", n, peak.Load())
		} else {
			t.Errorf("%d connections still open at the end (peak %d), want the idle ones closed", n, peak.Load())
		}
	}
}

// TestTickWindowWakeAt: the loop wakes when the last tick within the
// window of the first is due, and for each tick when they are further apart
// or the window is off.
func TestTickWindowWakeAt(t *testing.T) {
	const us = time.Microsecond
	for _, tc := range []struct {
		window, gap, want time.Duration // want: after the first tick
	}{
		{200 * us, 50 * us, 200 * us},  // 20,000/s: 5 ticks a wake-up
		{200 * us, 60 * us, 180 * us},  // never past the window
		{200 * us, 200 * us, 200 * us}, // 5,000/s: 2 ticks
		{200 * us, 250 * us, 0},        // 4,000/s: each tick on time
		{-1, 50 * us, 0},               // off
	} {
		l := &eventLoop{e: &loopEngine{tickWindow: tc.window}, at: time.Second, gap: tc.gap}
		if got := l.wakeAt() - time.Second; got != tc.want {
			t.Errorf("window %v, ticks %v apart: wakes %v after the first, want %v", tc.window, tc.gap, got, tc.want)
		}
	}
}

// TestTickWindow: at 20,000/s with the default window and without, every
// tick is recorded and none goes out before it is due.
func TestTickWindow(t *testing.T) {
	url := fastCannedServer(t)
	for _, window := range []time.Duration{0, -1} {
		rs, _ := runLoop(t, Config{Targets: get(url), Rate: schedule.Rate{Freq: 20000, Per: time.Second}, Duration: 200 * time.Millisecond, Transport: HTTPConfig{TickWindow: window}})
		rs = sortedSeqs(rs)
		checkSeqs(t, rs, 4000)
		for _, r := range rs {
			// Under -race the loop may fall behind: ticks due before the
			// stop that never went out are recorded as not sent.
			if !r.OK() && r.Flags&result.NotSent == 0 {
				t.Fatalf("result %+v failed", r)
			}
			if r.Sent < r.Intended {
				t.Fatalf("window %v: seq %d sent %v before it was due", window, r.Seq, r.Intended-r.Sent)
			}
		}
	}
}

// sortedSeqs returns rs sorted by sequence number.
func sortedSeqs(rs []result.Result) []result.Result {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b result.Result) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// openFDs returns how many descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds) - 1 // the directory's own
}

// TestPacedRunsLeaveNothing runs paced attacks one after another in one
// process, as a benchmark's iterations do, on the event loop and on
// workers: at 20,000/s against a server that keeps up, one that has
// fallen 50ms behind (connections open up to the cap of 1,000), one that
// never answers in time (every request times out), then one that keeps up
// again. Each run gets what its server gave, and after each the process
// is back to the descriptors and goroutines it had: no connection, epoll
// set, timer or goroutine outlives a run.
func TestPacedRunsLeaveNothing(t *testing.T) {
	rate := schedule.Rate{Freq: 20000, Per: time.Second}
	runs := []struct {
		name    string
		delay   time.Duration // the server's, per request
		timeout time.Duration
		count   uint64
		wantErr string // every request's error; "" for success
	}{
		{"keeps up", 0, 10 * time.Second, 4000, ""},
		{"50ms behind", 50 * time.Millisecond, 10 * time.Second, 4000, ""},
		{"never in time", time.Second, 100 * time.Millisecond, 1000, fastTimeout},
		{"keeps up again", 0, 10 * time.Second, 4000, ""},
	}
	for _, workers := range []bool{false, true} {
		engine := map[bool]string{false: "loop", true: "workers"}[workers]
		var fds0, g0 int
		for i, tc := range runs {
			var most int64
			t.Run(engine+"/"+tc.name, func(t *testing.T) {
				url := fastCannedServerDelay(t, tc.delay)
				a := loopAttacker(t, Config{Targets: get(url), Rate: rate, Count: tc.count, Timeout: tc.timeout,
					Connections: 1000, Transport: HTTPConfig{NoEventLoop: workers}})
				var n uint64
				bad := map[string]int{}
				if err := a.Run(context.Background(), func(rs []result.Result) error {
					most = max(most, a.stats.Workers.Load())
					for i := range rs {
						n++
						if got := rs[i].Error; got != tc.wantErr || tc.wantErr == "" && (!rs[i].OK() || rs[i].BytesIn != 2) {
							bad[fmt.Sprintf("%q (status %d, flags %b)", got, rs[i].Status, rs[i].Flags)]++
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n != tc.count || len(bad) > 0 {
					t.Errorf("%d results of %d; not the expected %q: %v", n, tc.count, tc.wantErr, bad)
				}
				// The loop counts its open connections in Workers (workers
				// count the pool, which is not emptied at the end).
				if w := a.stats.Workers.Load(); !workers && w != 0 {
					t.Errorf("%d connections counted open after the run", w)
				}
			})
			t.Logf("%s, %s: at most %d connections open", engine, tc.name, most)
			if i == 0 {
				// The first run opened what the process keeps (the
				// runtime's own descriptors, the loop's thread): the
				// baseline, the least seen while what the run started
				// winds down.
				fds0, g0 = openFDs(t), runtime.NumGoroutine()
				for range 20 {
					time.Sleep(10 * time.Millisecond)
					fds0, g0 = min(fds0, openFDs(t)), min(g0, runtime.NumGoroutine())
				}
				continue
			}
			// Goroutines of the server and the sink may take a moment to go.
			deadline := time.Now().Add(5 * time.Second)
			for (openFDs(t) > fds0 || runtime.NumGoroutine() > g0) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if fds, g := openFDs(t), runtime.NumGoroutine(); fds > fds0 || g > g0 {
				t.Errorf("%s, after %q: %d descriptors open and %d goroutines, %d and %d after the first run", engine, tc.name, fds, g, fds0, g0)
			}
		}
	}
}

// TestPacedBenchStarvedServer runs the open-model benchmarks' Config
// against a server that takes 300ms per request, as a starved in-process
// server does, with descriptors to spare for 2×pacedBenchConnections but
// not for a connection per tick. Every request succeeds, late; before the
// benchmarks had a cap of their own, the loop opened 3,000 connections,
// the server's accepts and the client's sockets failed with EMFILE, and
// the requests left behind timed out.
func TestPacedBenchStarvedServer(t *testing.T) {
	url := fastCannedServerDelay(t, 300*time.Millisecond)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	budget := uint64(openFDs(t) + 2*pacedBenchConnections + 100)
	if lim.Cur < budget {
		t.Fatalf("RLIMIT_NOFILE %d: the benchmarks need %d descriptors", lim.Cur, budget)
	}
	low := lim
	low.Cur = budget
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	cfg := engineBenchConfig(url, false, schedule.Rate{Freq: 20000, Per: time.Second})
	cfg.Count = 3000
	rs, a := runLoop(t, cfg)
	bad := failures{}
	for i := range rs {
		if !rs[i].OK() || rs[i].BytesIn != 2 {
			bad.add(&rs[i])
		}
	}
	if len(rs) != 3000 || bad.n > 0 {
		t.Errorf("%d results, %d failed: %v", len(rs), bad.n, &bad)
	}
	if w := a.stats.Workers.Load(); w != 0 {
		t.Errorf("%d connections counted open after the run", w)
	}
}
