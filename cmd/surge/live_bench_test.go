package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/dashboard"
	"github.com/surge-dev/surge/lab"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

// observers returns the sink work of each live-view setup.
func observers(b *testing.B, s *attack.Stats, cfg attack.Config) map[string]func([]result.Result) {
	view := newLiveView(io.Discard, s, cfg, nil, false)
	d, err := dashboard.New(dashboard.Config{Addr: "127.0.0.1:0", Meta: &result.Meta{Start: time.Now()}, Summary: summary.Options{Window: htmlWindow}})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]func([]result.Result){
		"none": func([]result.Result) {},
		"live": view.Observe,
		"live+dashboard": func(r []result.Result) {
			view.Observe(r)
			d.Observe(r)
		},
	}
}

// BenchmarkObserve is the cost per result of feeding the live views, in
// batches as the attack sink hands them over.
func BenchmarkObserve(b *testing.B) {
	var s attack.Stats
	batch := make([]result.Result, 128)
	for _, name := range []string{"none", "live", "live+dashboard"} {
		b.Run(name, func(b *testing.B) {
			obs := observers(b, &s, attack.Config{})[name]
			b.ReportAllocs()
			var i int
			for b.Loop() {
				for j := range batch {
					at := time.Duration(i) * 20 * time.Microsecond
					batch[j] = result.Result{Label: "GET /fixed", Intended: at, Sent: at, Latency: time.Duration(1000+i%5000) * time.Microsecond, Status: 200}
					if i%100 == 0 {
						batch[j].Status = 500
					}
					i++
				}
				obs(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/result")
		})
	}
}

// BenchmarkAttackObserve runs a full-speed attack (max rate, 50
// connections) against the lab and reports requests per second with each
// live-view setup in the sink.
func BenchmarkAttackObserve(b *testing.B) {
	base := startLabB(b)
	for _, name := range []string{"none", "live+dashboard"} {
		b.Run(name, func(b *testing.B) {
			cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: base + "/fixed?ms=0"}}, Count: uint64(b.N), Connections: 50}
			c, err := attack.NewFastClient(cfg)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Client = c
			a, err := attack.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			obs := observers(b, a.Stats(), cfg)[name]
			b.ResetTimer()
			if err := a.Run(context.Background(), func(r []result.Result) error { obs(r); return nil }); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

func startLabB(b *testing.B) string {
	s := lab.New(lab.Config{})
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return "http://" + addr.String()
}
