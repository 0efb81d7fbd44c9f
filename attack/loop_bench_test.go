package attack

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
)

// benchEngine runs one max-rate attack of b.N requests on 50 connections
// against the canned server and reports requests per CPU-second of the
// whole process (the in-process server's CPU included, the same for both
// engines).
func benchEngine(b *testing.B, noEventLoop bool) { benchEngineAt(b, noEventLoop, schedule.Rate{}) }

// pacedBenchConnections caps the connections of the open-model
// benchmarks. At 20,000/s a run uses at most a few hundred while the
// in-process server keeps up. Once a loaded machine starves that server,
// the open model's default cap (10,000) let the loop open a connection
// per tick, and the client's and the server's ends of 10,000 connections
// filled the process's descriptor table (RLIMIT_NOFILE 20,000 where it
// was seen): accepts failed with EMFILE and the requests left behind
// timed out. With this cap a starved server makes the ticks wait instead,
// their lag counted, and the descriptors a run needs do not depend on the
// machine's load.
const pacedBenchConnections = 1000

// engineBenchConfig is the Config of benchEngineAt against url.
func engineBenchConfig(url string, noEventLoop bool, rate schedule.Rate) Config {
	cfg := Config{Targets: get(url), Connections: 50, Timeout: 10 * time.Second, Transport: HTTPConfig{NoEventLoop: noEventLoop}, Rate: rate}
	if !rate.IsMax() {
		cfg.Connections = pacedBenchConnections
	}
	return cfg
}

// benchEngineAt is benchEngine at an open-model rate (zero: max rate).
func benchEngineAt(b *testing.B, noEventLoop bool, rate schedule.Rate) {
	cfg := engineBenchConfig(fastCannedServer(b), noEventLoop, rate)
	c, err := NewFastClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Client = c
	cfg.Count = uint64(b.N)
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var bad failures
	b.ReportAllocs()
	cpu0 := fastCPUTime()
	b.ResetTimer()
	err = a.Run(context.Background(), func(rs []result.Result) error {
		for i := range rs {
			if !rs[i].OK() || rs[i].BytesIn != 2 {
				bad.add(&rs[i])
			}
		}
		return nil
	})
	b.StopTimer()
	if err != nil || bad.n > 0 {
		b.Fatalf("run: %v; %d of %d results failed: %v", err, bad.n, b.N, &bad)
	}
	if cpu := fastCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
	}
}

// BenchmarkLoopEngine measures the event-loop engine at max rate.
func BenchmarkLoopEngine(b *testing.B) { benchEngine(b, false) }

// BenchmarkWorkerEngine measures one goroutine per connection at max rate.
func BenchmarkWorkerEngine(b *testing.B) { benchEngine(b, true) }

// BenchmarkPacedLoop measures the event loop at 20,000 req/s (the default
// tick window, responses read at the next tick).
func BenchmarkPacedLoop(b *testing.B) {
	benchEngineAt(b, false, schedule.Rate{Freq: 20000, Per: time.Second})
}

// BenchmarkPacedWorkers measures one goroutine per connection at 20,000
// req/s (the tick wheel).
func BenchmarkPacedWorkers(b *testing.B) {
	benchEngineAt(b, true, schedule.Rate{Freq: 20000, Per: time.Second})
}

// failures counts failed results by error, so that a failed run says why.
type failures struct {
	n     int
	byErr map[string]int
}

func (f *failures) add(r *result.Result) {
	f.n++
	if f.byErr == nil {
		f.byErr = make(map[string]int)
	}
	e := r.Error
	if e == "" {
		e = fmt.Sprintf("status %d, %d bytes", r.Status, r.BytesIn)
	}
	f.byErr[e]++
}

// String lists the errors, the most frequent first.
func (f *failures) String() string {
	errs := slices.Collect(maps.Keys(f.byErr))
	slices.SortFunc(errs, func(a, b string) int { return cmp.Or(f.byErr[b]-f.byErr[a], strings.Compare(a, b)) })
	var sb strings.Builder
	for i, e := range errs {
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "%d× %s", f.byErr[e], e)
	}
	return sb.String()
}
