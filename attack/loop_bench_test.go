package attack

import (
	"context"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// benchEngine runs one max-rate attack of b.N requests on 50 connections
// against the canned server and reports requests per CPU-second of the
// whole process (the in-process server's CPU included, the same for both
// engines).
func benchEngine(b *testing.B, noEventLoop bool) { benchEngineAt(b, noEventLoop, Rate{}) }

// benchEngineAt is benchEngine at an open-model rate (zero: max rate).
func benchEngineAt(b *testing.B, noEventLoop bool, rate Rate) {
	url := fastCannedServer(b)
	cfg := Config{Targets: get(url), Connections: 50, Timeout: 10 * time.Second, NoEventLoop: noEventLoop, Rate: rate}
	if !rate.IsMax() {
		cfg.Connections = 0 // the open model's default cap
	}
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
	var bad int
	b.ReportAllocs()
	cpu0 := fastCPUTime()
	b.ResetTimer()
	err = a.Run(context.Background(), func(rs []result.Result) error {
		for i := range rs {
			if !rs[i].OK() || rs[i].BytesIn != 2 {
				bad++
			}
		}
		return nil
	})
	b.StopTimer()
	if err != nil || bad > 0 {
		b.Fatalf("run: %v, %d failed results", err, bad)
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
func BenchmarkPacedLoop(b *testing.B) { benchEngineAt(b, false, Rate{20000, time.Second}) }

// BenchmarkPacedWorkers measures one goroutine per connection at 20,000
// req/s (the tick wheel).
func BenchmarkPacedWorkers(b *testing.B) { benchEngineAt(b, true, Rate{20000, time.Second}) }
