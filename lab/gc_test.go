package lab_test

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
)

var gcRuns = flag.Int("gc.runs", 1, "runs of TestGCTruth (the docs quote 10)")

func TestGCAnswer(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := get(t, base, "/gc?live=1&alloc=64")
	if r.code != http.StatusOK || r.body["endpoint"] != "gc" || r.body["params"] != "alloc=64&live=1" {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	if _, ok := r.body["gc"].(float64); !ok {
		t.Errorf("answer %s lacks the number of GC cycles", r.raw)
	}
	get(t, base, "/gc?live=1&alloc=64")
	get(t, base, "/gc?live=1&alloc=0")
	m := scrape(t, base)
	if got, want := m[`surge_lab_gc_alloc_bytes_total{endpoint="gc",params="alloc=64&live=1"}`], 2*64*1024.0; got != want {
		t.Errorf("surge_lab_gc_alloc_bytes_total = %v after 2 requests of 64 KiB, want %v", got, want)
	}
	if got, want := m[`surge_lab_gc_live_bytes{endpoint="gc",params="alloc=0&live=1"}`], float64(1<<20); got < 0.99*want || got > want {
		t.Errorf("surge_lab_gc_live_bytes = %v for live=1, want about %v", got, want)
	}
	for _, p := range []string{"/gc?live=-1", "/gc?alloc=65537", "/gc?live=4097", "/gc?live=x"} {
		if r := get(t, base, p); r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", p, r.code)
		}
	}
}

func TestGCLiveLimit(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	get(t, base, "/gc?live=1&alloc=0")
	r := get(t, base, "/gc?live=4096&alloc=0") // 1 + 4096 MiB > the 4096 MiB the lab keeps
	if r.code != http.StatusInsufficientStorage || r.body["error"] != "live heap full" {
		t.Errorf("got %d %s, want 507 live heap full", r.code, r.raw)
	}
}

// gcWatch polls the process's GC (the lab runs in it) every millisecond and
// returns its mark phases: a cycle's phase opens at its first
// stop-the-world pause (sweep termination) and closes at the first pause
// recorded once the cycle count has risen (mark termination), which is
// robust to a restarted mark termination's extra pause.
type gcWatch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	wins [][2]time.Time
}

func watchGC() *gcWatch {
	w := &gcWatch{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/sched/pauses/total/gc:seconds"}}
	read := func() (cycles, pauses uint64) {
		metrics.Read(s)
		for _, c := range s[1].Value.Float64Histogram().Counts {
			pauses += c
		}
		return s[0].Value.Uint64(), pauses
	}
	go func() {
		defer close(w.done)
		c, p := read()
		prev := time.Now()
		var open time.Time
		ended := false
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(time.Millisecond):
			}
			c2, p2 := read()
			now := time.Now()
			if c2 != c {
				ended = true
			}
			if p2 != p && open.IsZero() {
				open = prev // the pause happened since the last poll
			}
			if p2 != p && ended {
				w.mu.Lock()
				w.wins = append(w.wins, [2]time.Time{open, now})
				w.mu.Unlock()
				open, ended = time.Time{}, false
			}
			c, p, prev = c2, p2, now
		}
	}()
	return w
}

func (w *gcWatch) Stop() [][2]time.Time {
	close(w.stop)
	<-w.done
	return w.wins
}

// TestGCTruth is the truth of /gc: at 100 requests/s of 256 KiB each with
// 32 MiB kept live, the lab's own go_gc_cycles_total_gc_cycles_total and
// go_gc_duration_seconds_sum rise (a cycle about every 32 MiB allocated),
// and the requests served during a GC mark phase are the slow ones.
func TestGCTruth(t *testing.T) {
	for run := range *gcRuns {
		t.Run(fmt.Sprint(run), testGCTruth)
	}
}

func testGCTruth(t *testing.T) {
	const live, alloc, rate, span = 32, 256, 100, 2500 * time.Millisecond
	_, base := newLab(t, lab.Config{})
	path := fmt.Sprintf("/gc?live=%d&alloc=%d", live, alloc)
	get(t, base, path) // builds the live heap
	runtime.GC()       // so the run starts a whole cycle's allocation from the next one
	before := scrape(t, base)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	probe := starvation.Start(0)
	watch := watchGC()
	type req struct{ start, end time.Time }
	n := int(span.Seconds() * rate)
	reqs := make([]req, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			if r := do(t, client, http.MethodGet, base+path); r.code != http.StatusOK {
				t.Errorf("%s: %d %s", path, r.code, r.raw)
			}
			reqs[i] = req{s, time.Now()}
		}()
	}
	wg.Wait()
	wins := watch.Stop()
	machine := probe.Stop()
	allocated := float64(n * alloc << 10)
	expect := allocated / (live << 20) // GOGC=100: a cycle about every live MiB allocated
	// A cycle the run started may still be marking on a starved machine:
	// give it up to 10 s to end.
	after := scrape(t, base)
	for deadline := time.Now().Add(10 * time.Second); after["go_gc_cycles_total_gc_cycles_total"]-before["go_gc_cycles_total_gc_cycles_total"] < max(1, math.Floor(expect/2)) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = scrape(t, base)
	}
	d := func(name string) float64 { return after[name] - before[name] }

	// What was recorded: judged whatever the machine's load.
	cycles := d("go_gc_cycles_total_gc_cycles_total")
	if got := d(`surge_lab_gc_alloc_bytes_total{endpoint="gc",params="alloc=256&live=32"}`); got != allocated {
		t.Errorf("surge_lab_gc_alloc_bytes_total rose by %v for %d requests of %d KiB, want %v", got, n, alloc, allocated)
	}
	// The test's own client allocates too: more cycles, never far fewer.
	if cycles < max(1, math.Floor(expect/2)) {
		t.Errorf("%v GC cycles for %.0f MiB allocated with %d MiB live, want about %.1f", cycles, allocated/(1<<20), live, expect)
	}
	if got := d("go_gc_duration_seconds_count"); got < cycles-1 || got > cycles+1 {
		t.Errorf("go_gc_duration_seconds_count rose by %v, go_gc_cycles_total_gc_cycles_total by %v", got, cycles)
	}
	pause := d("go_gc_duration_seconds_sum")
	if pause <= 0 {
		t.Errorf("go_gc_duration_seconds_sum rose by %v over %v cycles, want a positive pause time", pause, cycles)
	}

	// What was measured of time: judged only when the process had its CPU.
	inMark := func(r req) bool {
		for _, w := range wins {
			if r.start.Before(w[1]) && r.end.After(w[0]) {
				return true
			}
		}
		return false
	}
	var in, out []time.Duration
	for _, r := range reqs {
		if inMark(r) {
			in = append(in, r.end.Sub(r.start))
		} else {
			out = append(out, r.end.Sub(r.start))
		}
	}
	slowest := slices.Clone(reqs)
	slices.SortFunc(slowest, func(a, b req) int { return cmp.Compare(b.end.Sub(b.start), a.end.Sub(a.start)) })
	slowest = slowest[:n/20]
	slowIn := 0
	for _, r := range slowest {
		if inMark(r) {
			slowIn++
		}
	}
	var marking time.Duration
	for _, w := range wins {
		marking += w[1].Sub(w[0])
	}
	med := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	t.Logf("%d requests, %v cycles, %d mark phases (%v in all of %v), go_gc_duration_seconds_sum +%.3f ms, assists %.3f s; "+
		"during a mark phase %d requests, median %v; outside %d, median %v; slowest 5%%: %d of %d during a mark phase; %s",
		n, cycles, len(wins), marking.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), pause*1000,
		d("go_cpu_classes_gc_mark_assist_cpu_seconds_total"), len(in), med(in), len(out), med(out), slowIn, len(slowest), machine)
	if len(out) < n/4 {
		machine.Fail(t, analyze.LagLimit, "mark phases covered %v of the %v run (%d of %d requests): no baseline left", marking, span, len(in), n)
		return
	}
	if mi, mo := med(in), med(out); mi < 3*mo/2 {
		machine.Fail(t, analyze.LagLimit, "median of the requests during a mark phase %v, outside %v: want 1.5 times slower", mi, mo)
	}
	share := float64(len(in)) / float64(n)
	// Were latency unrelated to the GC, the slowest would be in mark
	// phases as often as all requests are.
	if got := float64(slowIn) / float64(len(slowest)); got < 0.4 || got < 2*share {
		machine.Fail(t, analyze.LagLimit, "%d of the %d slowest requests during a mark phase (%.0f %%), against %.0f %% of all: want at least 40 %% and twice the share of all", slowIn, len(slowest), 100*got, 100*share)
	}
}
