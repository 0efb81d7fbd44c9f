package lab_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-dev/surge/lab"
)

// runtimeNames are the families the lab's /metrics must carry, under the
// names client_golang's Go and process collectors give them.
var runtimeNames = []string{
	"go_gc_duration_seconds_sum", "go_gc_duration_seconds_count", `go_gc_duration_seconds{quantile="0.5"}`,
	"go_gc_cycles_total_gc_cycles_total", "go_gc_cycles_automatic_gc_cycles_total", "go_gc_cycles_forced_gc_cycles_total",
	"go_goroutines", "go_threads", "go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes",
	"go_memstats_alloc_bytes", "go_memstats_sys_bytes", "go_memstats_next_gc_bytes", "go_memstats_last_gc_time_seconds",
	"go_gc_heap_live_bytes", "go_gc_heap_goal_bytes", "go_gc_gogc_percent", "go_sched_gomaxprocs_threads",
	"go_cpu_classes_gc_total_cpu_seconds_total", "go_cpu_classes_gc_mark_assist_cpu_seconds_total",
	`go_sched_latencies_seconds_bucket{le="+Inf"}`, "go_sched_latencies_seconds_count",
	`go_sched_pauses_total_gc_seconds_bucket{le="+Inf"}`, "go_sched_pauses_total_gc_seconds_sum",
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
}

func TestRuntimeMetricsNames(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	m := scrape(t, base)
	for _, n := range runtimeNames {
		if _, ok := m[n]; !ok {
			t.Errorf("/metrics lacks %s", n)
		}
	}
	if v := m[`go_info{version="`+runtime.Version()+`"}`]; v != 1 {
		t.Errorf("go_info for %s = %v, want 1", runtime.Version(), v)
	}
	if got, want := m["go_sched_gomaxprocs_threads"], float64(runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("go_sched_gomaxprocs_threads = %v, want GOMAXPROCS %v", got, want)
	}
	for _, h := range []string{"go_sched_latencies_seconds", "go_sched_pauses_total_gc_seconds"} {
		checkHistogram(t, m, h)
	}
}

// checkHistogram checks that a histogram's buckets are cumulative, grow by
// about 10 from one bound to the next, and that +Inf holds _count.
func checkHistogram(t *testing.T, m map[string]float64, name string) {
	t.Helper()
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range m {
		rest, ok := strings.CutPrefix(k, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
		if err != nil {
			t.Fatalf("%s: bound %q: %v", k, rest, err)
		}
		bs = append(bs, bucket{le, v})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) < 5 || len(bs) > 20 {
		t.Fatalf("%s has %d buckets, want 5 to 20", name, len(bs))
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].n < bs[i-1].n {
			t.Errorf("%s: bucket le=%v holds %v, less than le=%v's %v", name, bs[i].le, bs[i].n, bs[i-1].le, bs[i-1].n)
		}
		if !math.IsInf(bs[i].le, 1) && bs[i].le < 10*bs[i-1].le {
			t.Errorf("%s: bound %v less than 10 times %v", name, bs[i].le, bs[i-1].le)
		}
	}
	if last := bs[len(bs)-1]; !math.IsInf(last.le, 1) || last.n != m[name+"_count"] {
		t.Errorf("%s: last bucket le=%v holds %v, want +Inf holding _count %v", name, last.le, last.n, m[name+"_count"])
	}
}

// TestRuntimeMetricsMove checks that each runtime figure moves with what
// the test does to the process: GC cycles forced, goroutines started, heap
// kept live, CPU burnt.
func TestRuntimeMetricsMove(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	debug.FreeOSMemory() // so that earlier tests' garbage neither shrinks the heap nor backs the new one
	before := scrape(t, base)
	var ru0 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru0); err != nil {
		t.Fatal(err)
	}

	cpuSeconds0 := cpuSeconds(t)
	const forced, parked, liveMB = 3, 50, 64
	for range forced {
		runtime.GC()
	}
	stop := make(chan struct{})
	for range parked {
		go func() { <-stop }()
	}
	defer close(stop)
	live := make([][]byte, liveMB)
	for i := range live {
		live[i] = make([]byte, 1<<20)
		for j := 0; j < len(live[i]); j += 4096 {
			live[i][j] = 1 // every page touched, so resident
		}
	}
	// Burn 200 ms of CPU time (not of wall time: the machine is shared).
	x := 0
	for deadline := time.Now().Add(10 * time.Second); x%1024 != 0 || (cpuSeconds(t)-cpuSeconds0 < 0.2 && time.Now().Before(deadline)); {
		x++
	}
	runtime.KeepAlive(x)
	after := scrape(t, base)
	goroutines := runtime.NumGoroutine()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var ru1 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru1); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(live)

	d := func(n string) float64 { return after[n] - before[n] }
	if got := d("go_gc_cycles_forced_gc_cycles_total"); got < forced {
		t.Errorf("go_gc_cycles_forced_gc_cycles_total rose by %v after %d runtime.GC calls", got, forced)
	}
	cycles, count := after["go_gc_cycles_total_gc_cycles_total"], after["go_gc_duration_seconds_count"]
	if count < cycles || count > cycles+2 { // read one after the other: a cycle may end between them
		t.Errorf("go_gc_duration_seconds_count %v, go_gc_cycles_total_gc_cycles_total %v: want the same cycles", count, cycles)
	}
	if got := d("go_gc_duration_seconds_sum"); got <= 0 || got > 1 {
		t.Errorf("go_gc_duration_seconds_sum rose by %v s over %v cycles, want a positive pause time under 1 s", got, d("go_gc_cycles_total_gc_cycles_total"))
	}
	if got := d("go_sched_pauses_total_gc_seconds_count"); got < 2*forced {
		t.Errorf("go_sched_pauses_total_gc_seconds_count rose by %v, want at least two pauses per forced cycle (%d)", got, 2*forced)
	}
	if q0, q1 := after[`go_gc_duration_seconds{quantile="0"}`], after[`go_gc_duration_seconds{quantile="1"}`]; q0 <= 0 || q1 < q0 || q1 > after["go_gc_duration_seconds_sum"] {
		t.Errorf("go_gc_duration_seconds quantiles 0 = %v, 1 = %v, sum %v: want 0 < q0 <= q1 <= sum", q0, q1, after["go_gc_duration_seconds_sum"])
	}
	// Connection goroutines of earlier tests may end meanwhile: the figure
	// is checked against the runtime's own count, read just after.
	if got := after["go_goroutines"]; got < parked || math.Abs(got-float64(goroutines)) > 5 {
		t.Errorf("go_goroutines = %v with %d goroutines parked, runtime.NumGoroutine() = %d just after", got, parked, goroutines)
	}
	for _, n := range []string{"go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes"} {
		if got := d(n); got < liveMB/2*(1<<20) {
			t.Errorf("%s rose by %.1f MB with %d MB touched and kept live", n, got/(1<<20), liveMB)
		}
	}
	// Memory from /proc/self/stat against /proc/self/status, read just
	// after (the resident set need not grow with the heap: freed pages may
	// still be resident, and the race detector adds its own).
	for _, c := range []struct{ metric, field string }{
		{"process_resident_memory_bytes", "VmRSS:"}, {"process_virtual_memory_bytes", "VmSize:"},
	} {
		var kb float64
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, c.field); ok {
				kb, _ = strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			}
		}
		if got, want := after[c.metric], kb*1024; kb == 0 || math.Abs(got-want) > 16<<20 {
			t.Errorf("%s = %.1f MB, /proc/self/status %s %.1f MB just after", c.metric, got/(1<<20), c.field, want/(1<<20))
		}
	}
	// CPU time from /proc/self/stat against getrusage, which reads the
	// same kernel counters another way: they agree to a few clock ticks.
	if got, want := d("process_cpu_seconds_total"), rusageSeconds(ru1)-rusageSeconds(ru0); got < 0.15 || math.Abs(got-want) > 0.05 {
		t.Errorf("process_cpu_seconds_total rose by %.3f s, getrusage by %.3f s, after a loop of 200 ms of CPU time", got, want)
	}
}

func rusageSeconds(ru syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// cpuSeconds returns the process's CPU time so far by getrusage.
func cpuSeconds(t *testing.T) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return rusageSeconds(ru)
}

// TestMetricsDoNotStopTheWorld checks that a scrape stops the world for no
// reason of its own: runtime.ReadMemStats would add one non-GC pause per
// scrape to /sched/pauses/total/other:seconds; runtime/metrics and
// debug.ReadGCStats add none.
func TestMetricsDoNotStopTheWorld(t *testing.T) {
	l := lab.New(lab.Config{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	w := &discardWriter{h: http.Header{}}
	s := []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}
	pauses := func() uint64 {
		metrics.Read(s)
		var n uint64
		for _, c := range s[0].Value.Float64Histogram().Counts {
			n += c
		}
		return n
	}
	const scrapes = 100
	before := pauses()
	for range scrapes {
		l.ServeHTTP(w, req)
	}
	if got := pauses() - before; got > scrapes/10 { // other tests' ReadMemStats, if any, run in parallel
		t.Errorf("%d scrapes stopped the world %d times outside the GC, want none", scrapes, got)
	}
}
