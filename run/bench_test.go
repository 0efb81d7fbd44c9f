package run

import (
	"io"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// lockedView stands for a live view: one lock per batch, a little work per
// result.
type lockedView struct {
	mu sync.Mutex
	n  int64
}

func (v *lockedView) Add(_ *result.Meta, r *result.Result) {
	v.mu.Lock()
	v.n += int64(r.Latency)
	v.mu.Unlock()
}

func (v *lockedView) AddBatch(_ *result.Meta, b []result.Result) {
	v.mu.Lock()
	for i := range b {
		v.n += int64(b[i].Latency)
	}
	v.mu.Unlock()
}

func (v *lockedView) AddMarker(*result.Meta, result.Marker) {}
func (v *lockedView) Stop()                                 {}

// benchBatch fills batch with results numbered from i.
func benchBatch(batch []result.Result, i int) int {
	for j := range batch {
		at := time.Duration(i) * 20 * time.Microsecond
		batch[j] = result.Result{Seq: uint64(i), Label: "GET /fixed", Intended: at, Sent: at, Latency: time.Duration(1000+i%5000) * time.Microsecond, Status: 200}
		if i%100 == 0 {
			batch[j].Status = 500
		}
		i++
	}
	return i
}

// BenchmarkBatch is the per-result cost of a run's sink, the engine's
// batches fanned out to the results file (to io.Discard) and to two live
// views, as Do wires them.
func BenchmarkBatch(b *testing.B) {
	for _, views := range []int{0, 2} {
		b.Run(map[int]string{0: "file", 2: "file+2views"}[views], func(b *testing.B) {
			meta := &result.Meta{Start: time.Now()}
			f, err := newFile(io.Discard, meta)
			if err != nil {
				b.Fatal(err)
			}
			s := &stream{meta: meta, file: f}
			var vs []View
			for range views {
				vs = append(vs, &lockedView{})
			}
			s.connect(vs, nil)
			batch := make([]result.Result, 128)
			b.ReportAllocs()
			var i int
			for b.Loop() {
				i = benchBatch(batch, i)
				if err := s.batch(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/result")
		})
	}
}
