package lab

import (
	"bytes"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// runtimeFamily is one family of the Go runtime's own figures on /metrics,
// named as the Prometheus Go client (client_golang's Go collector) names it,
// so that what surge knows of a real Go server's /metrics it knows of the
// lab's. Its value is the sum of the runtime/metrics samples at sum (one for
// most; the heap in use is objects plus unused) or, for a histogram, the
// distribution at sum[0]; a family with custom writes itself from the GC
// statistics instead.
type runtimeFamily struct {
	name, typ, help string
	sum             []string
	custom          func(r *runtimeStats, b *bytes.Buffer)
}

// runtimeFamilies lists the runtime families, sorted by name.
var runtimeFamilies = []runtimeFamily{
	{name: "go_cpu_classes_gc_mark_assist_cpu_seconds_total", typ: "counter", help: "CPU time goroutines spent helping the GC mark (mark assists) while allocating: the GC cost paid inside requests. runtime/metrics /cpu/classes/gc/mark/assist:cpu-seconds.",
		sum: []string{"/cpu/classes/gc/mark/assist:cpu-seconds"}},
	{name: "go_cpu_classes_gc_total_cpu_seconds_total", typ: "counter", help: "CPU time spent by the GC (marking, assists, pauses). runtime/metrics /cpu/classes/gc/total:cpu-seconds.",
		sum: []string{"/cpu/classes/gc/total:cpu-seconds"}},
	{name: "go_gc_cycles_automatic_gc_cycles_total", typ: "counter", help: "GC cycles started by the runtime. runtime/metrics /gc/cycles/automatic:gc-cycles.",
		sum: []string{"/gc/cycles/automatic:gc-cycles"}},
	{name: "go_gc_cycles_forced_gc_cycles_total", typ: "counter", help: "GC cycles forced by the application (runtime.GC). runtime/metrics /gc/cycles/forced:gc-cycles.",
		sum: []string{"/gc/cycles/forced:gc-cycles"}},
	{name: "go_gc_cycles_total_gc_cycles_total", typ: "counter", help: "GC cycles completed. runtime/metrics /gc/cycles/total:gc-cycles.",
		sum: []string{"/gc/cycles/total:gc-cycles"}},
	{name: "go_gc_duration_seconds", typ: "summary", custom: (*runtimeStats).writeGCDuration,
		help: "Stop-the-world pause time of GC cycles, per cycle: quantiles over the last 256 cycles, _sum the total since start (debug.ReadGCStats, as client_golang)."},
	{name: "go_gc_gogc_percent", typ: "gauge", help: "Heap growth target percentage (GOGC). runtime/metrics /gc/gogc:percent.",
		sum: []string{"/gc/gogc:percent"}},
	{name: "go_gc_heap_allocs_bytes_total", typ: "counter", help: "Bytes allocated on the heap. runtime/metrics /gc/heap/allocs:bytes.",
		sum: []string{"/gc/heap/allocs:bytes"}},
	{name: "go_gc_heap_goal_bytes", typ: "gauge", help: "Heap size at which the next GC cycle ends. runtime/metrics /gc/heap/goal:bytes.",
		sum: []string{"/gc/heap/goal:bytes"}},
	{name: "go_gc_heap_live_bytes", typ: "gauge", help: "Heap bytes marked live by the last GC cycle. runtime/metrics /gc/heap/live:bytes.",
		sum: []string{"/gc/heap/live:bytes"}},
	{name: "go_goroutines", typ: "gauge", help: "Number of goroutines that currently exist (runtime.NumGoroutine, as client_golang: the runtime's own goroutines are not counted).",
		custom: func(_ *runtimeStats, b *bytes.Buffer) {
			writeSample(b, "go_goroutines", "", float64(runtime.NumGoroutine()))
		}},
	{name: "go_info", typ: "gauge", help: "Information about the Go environment.", custom: func(_ *runtimeStats, b *bytes.Buffer) {
		writeSample(b, "go_info", `{version="`+escapeLabel(runtime.Version())+`"}`, 1)
	}},
	{name: "go_memstats_alloc_bytes", typ: "gauge", help: "Heap bytes allocated and in use. runtime/metrics /memory/classes/heap/objects:bytes.",
		sum: []string{"/memory/classes/heap/objects:bytes"}},
	{name: "go_memstats_alloc_bytes_total", typ: "counter", help: "Heap bytes allocated, freed or not. runtime/metrics /gc/heap/allocs:bytes.",
		sum: []string{"/gc/heap/allocs:bytes"}},
	{name: "go_memstats_heap_alloc_bytes", typ: "gauge", help: "Heap bytes allocated and in use, as go_memstats_alloc_bytes. runtime/metrics /memory/classes/heap/objects:bytes.",
		sum: []string{"/memory/classes/heap/objects:bytes"}},
	{name: "go_memstats_heap_inuse_bytes", typ: "gauge", help: "Heap bytes in spans in use. runtime/metrics /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes.",
		sum: []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}},
	{name: "go_memstats_heap_objects", typ: "gauge", help: "Heap objects allocated and not yet swept free. runtime/metrics /gc/heap/objects:objects.",
		sum: []string{"/gc/heap/objects:objects"}},
	{name: "go_memstats_last_gc_time_seconds", typ: "gauge", custom: (*runtimeStats).writeLastGC,
		help: "Seconds since 1970 of the last GC cycle's end, 0 before the first (debug.ReadGCStats)."},
	{name: "go_memstats_next_gc_bytes", typ: "gauge", help: "Heap size at which the next GC cycle ends. runtime/metrics /gc/heap/goal:bytes.",
		sum: []string{"/gc/heap/goal:bytes"}},
	{name: "go_memstats_sys_bytes", typ: "gauge", help: "Bytes of memory obtained from the OS. runtime/metrics /memory/classes/total:bytes.",
		sum: []string{"/memory/classes/total:bytes"}},
	{name: "go_sched_gomaxprocs_threads", typ: "gauge", help: "GOMAXPROCS: the threads that can run Go code at once. runtime/metrics /sched/gomaxprocs:threads.",
		sum: []string{"/sched/gomaxprocs:threads"}},
	{name: "go_sched_latencies_seconds", typ: "histogram", help: "Time goroutines spent runnable before running. runtime/metrics /sched/latencies:seconds; buckets merged to powers of about 10, _sum estimated from bucket midpoints.",
		sum: []string{"/sched/latencies:seconds"}},
	{name: "go_sched_pauses_total_gc_seconds", typ: "histogram", help: "Stop-the-world pauses of the GC, from deciding to stop to restarting. runtime/metrics /sched/pauses/total/gc:seconds; buckets merged to powers of about 10, _sum estimated from bucket midpoints.",
		sum: []string{"/sched/pauses/total/gc:seconds"}},
	{name: "go_threads", typ: "gauge", help: "OS threads of the Go runtime. runtime/metrics /sched/threads/total:threads.",
		sum: []string{"/sched/threads/total:threads"}},
}

// runtimeStats reads the runtime's figures for one /metrics answer at a
// time. Nothing it reads stops the world: runtime/metrics.Read and
// debug.ReadGCStats take runtime locks only (runtime.ReadMemStats, which
// stops the world, is never called), and its buffers are reused, so a scrape
// allocates nothing here once the first one has sized them.
//
// The figures are the process's, so all lab servers of a process share one.
type runtimeStats struct {
	mu      sync.Mutex
	samples []metrics.Sample
	index   map[string]int // runtime/metrics name -> samples index
	gc      debug.GCStats
	stat    []byte   // /proc/self/stat's contents
	statF   *os.File // /proc/self/stat, kept open and read from offset 0; nil if it cannot be opened
}

var processStats runtimeStats

// processFamilies are written after the Go families: the process's CPU
// time and memory from /proc/self/stat, as client_golang's process
// collector names them.
const (
	processCPU = "process_cpu_seconds_total"
	processRSS = "process_resident_memory_bytes"
	processVM  = "process_virtual_memory_bytes"
	// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
	// Linux architecture Go supports.
	clockTicks = 100
)

func (r *runtimeStats) init() {
	if r.samples != nil {
		return
	}
	r.index = map[string]int{}
	for _, f := range runtimeFamilies {
		for _, n := range f.sum {
			if _, ok := r.index[n]; !ok {
				r.index[n] = len(r.samples)
				r.samples = append(r.samples, metrics.Sample{Name: n})
			}
		}
	}
	r.gc.PauseQuantiles = make([]time.Duration, len(quantileLabels))
	r.stat = make([]byte, 0, 1024)
	r.statF, _ = os.Open("/proc/self/stat") // absent off Linux: no process_* families
}

// write appends the Go runtime's and the process's families to b.
func (r *runtimeStats) write(b *bytes.Buffer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	metrics.Read(r.samples)
	debug.ReadGCStats(&r.gc)
	for i := range runtimeFamilies {
		f := &runtimeFamilies[i]
		writeHead(b, f.name, f.typ, f.help)
		switch {
		case f.custom != nil:
			f.custom(r, b)
		case f.typ == "histogram":
			writeHistogram(b, f.name, r.samples[r.index[f.sum[0]]].Value.Float64Histogram())
		default:
			v := 0.0
			for _, n := range f.sum {
				v += sampleValue(r.samples[r.index[n]].Value)
			}
			writeSample(b, f.name, "", v)
		}
	}
	r.writeProcess(b)
}

// sampleValue returns a scalar runtime/metrics value as a float64, or NaN
// for a metric this Go version does not know.
func sampleValue(v metrics.Value) float64 {
	switch v.Kind() {
	case metrics.KindUint64:
		return float64(v.Uint64())
	case metrics.KindFloat64:
		return v.Float64()
	}
	return math.NaN()
}

// writeGCDuration writes go_gc_duration_seconds as client_golang does: the
// quantiles 0, 0.25, 0.5, 0.75 and 1 of the last cycles' pauses, the total
// pause time as _sum and the number of cycles as _count. The _sum is the
// figure to correlate with: its increase over a window is the time the
// world was stopped for the GC in it.
func (r *runtimeStats) writeGCDuration(b *bytes.Buffer) {
	const name = "go_gc_duration_seconds"
	for i, q := range r.gc.PauseQuantiles {
		writeSample(b, name, quantileLabels[i], q.Seconds())
	}
	writeSample(b, name+"_sum", "", r.gc.PauseTotal.Seconds())
	writeSample(b, name+"_count", "", float64(r.gc.NumGC))
}

var quantileLabels = []string{`{quantile="0"}`, `{quantile="0.25"}`, `{quantile="0.5"}`, `{quantile="0.75"}`, `{quantile="1"}`}

func (r *runtimeStats) writeLastGC(b *bytes.Buffer) {
	last := 0.0
	if !r.gc.LastGC.IsZero() {
		last = float64(r.gc.LastGC.UnixNano()) / 1e9
	}
	writeSample(b, "go_memstats_last_gc_time_seconds", "", last)
}

// writeHistogram writes a runtime/metrics histogram as a Prometheus one. The
// runtime's ~160 buckets are merged, as client_golang does, into buckets
// whose upper bounds grow by at least 10 from the first positive bound, so a
// scrape stays small; counts are cumulative, the bound of each bucket is
// the runtime's (its lower bounds are inclusive, so a value on a bound is
// counted in the bucket above it). The runtime keeps no sum, so _sum is
// estimated from bucket midpoints (the lower bound for the last, open one):
// within about 12 % for the runtime's four sub-buckets per power of two.
func writeHistogram(b *bytes.Buffer, name string, h *metrics.Float64Histogram) {
	if h == nil {
		return
	}
	var count uint64
	var sum, last float64
	for i, c := range h.Counts {
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		count += c
		switch {
		case math.IsInf(hi, 1):
			sum += float64(c) * max(lo, 0)
		case !math.IsInf(lo, -1):
			sum += float64(c) * (max(lo, 0) + hi) / 2
		}
		if hi <= 0 || math.IsInf(hi, 1) || last > 0 && hi < 10*last {
			continue
		}
		last = hi
		writeBucket(b, name, hi, count)
	}
	writeBucket(b, name, math.Inf(1), count)
	writeSample(b, name+"_sum", "", sum)
	writeSample(b, name+"_count", "", float64(count))
}

// writeBucket writes name_bucket{le="le"} n without allocating.
func writeBucket(b *bytes.Buffer, name string, le float64, n uint64) {
	b.WriteString(name)
	b.WriteString(`_bucket{le="`)
	if math.IsInf(le, 1) {
		b.WriteString("+Inf")
	} else {
		b.Write(strconv.AppendFloat(b.AvailableBuffer(), le, 'g', -1, 64))
	}
	b.WriteString(`"} `)
	b.Write(strconv.AppendUint(b.AvailableBuffer(), n, 10))
	b.WriteByte('\n')
}

// writeProcess writes the process's CPU time and memory read from
// /proc/self/stat, and nothing where it cannot be read (not Linux).
func (r *runtimeStats) writeProcess(b *bytes.Buffer) {
	if r.statF == nil {
		return
	}
	// A read of a /proc file from offset 0 renders it anew.
	n, err := r.statF.ReadAt(r.stat[:cap(r.stat)], 0)
	if n == 0 || err != nil && err != io.EOF {
		return
	}
	st, ok := parseProcStat(r.stat[:n])
	if !ok {
		return
	}
	writeFamily(b, processCPU, "counter", "User and system CPU time of the process, in seconds (/proc/self/stat).", "",
		float64(st.utime+st.stime)/clockTicks)
	writeFamily(b, processRSS, "gauge", "Resident memory of the process, in bytes (/proc/self/stat).", "",
		float64(st.rss)*float64(os.Getpagesize()))
	writeFamily(b, processVM, "gauge", "Virtual memory of the process, in bytes (/proc/self/stat).", "", float64(st.vsize))
}

// procStat holds the fields of /proc/<pid>/stat that /metrics exports: CPU
// times in clock ticks, virtual memory in bytes, resident memory in pages.
type procStat struct{ utime, stime, vsize, rss uint64 }

// parseProcStat reads a /proc/<pid>/stat line: pid, the command name in
// parentheses (which may hold spaces and parentheses itself, so fields
// count from the last ')'), then space-separated fields from 3 (state) on:
// utime is field 14, stime 15, vsize 23, rss 24. It reports false for a
// line with no ')' or fewer than 24 fields.
func parseProcStat(stat []byte) (procStat, bool) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return procStat{}, false
	}
	fields := stat[end+1:]
	var st procStat
	field := 3
	for ; field <= 24; field++ {
		fields = bytes.TrimLeft(fields, " ")
		if len(fields) == 0 {
			break
		}
		sp := bytes.IndexByte(fields, ' ')
		if sp < 0 {
			sp = len(fields)
		}
		v := parseDecimal(fields[:sp])
		switch field {
		case 14:
			st.utime = v
		case 15:
			st.stime = v
		case 23:
			st.vsize = v
		case 24:
			st.rss = v
		}
		fields = fields[sp:]
	}
	return st, field > 24
}

// parseDecimal returns the unsigned decimal number d, ignoring anything after
// its digits (/proc's fields are well formed; a bad one reads as 0).
func parseDecimal(d []byte) uint64 {
	var v uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
	}
	return v
}

// writeHead writes a family's HELP and TYPE lines.
func writeHead(b *bytes.Buffer, name, typ, help string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(help)
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

// writeFamily writes a family of one sample.
func writeFamily(b *bytes.Buffer, name, typ, help, labels string, v float64) {
	writeHead(b, name, typ, help)
	writeSample(b, name, labels, v)
}
