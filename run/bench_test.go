package run

import (
	"io"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
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
	for _, views := range []int{0, 2, -1} {
		b.Run(map[int]string{0: "file", 2: "file+2views", -1: "file+health"}[views], func(b *testing.B) {
			meta := &result.Meta{Start: time.Now()}
			f, err := newFile(io.Discard, meta)
			if err != nil {
				b.Fatal(err)
			}
			s := &stream{meta: meta, file: f}
			if views < 0 {
				// With server signals: the generator's health folds each
				// result's send lag.
				s.health = &health{stats: &attack.Stats{}}
			}
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

// BenchmarkHealthFold is what the generator's health source adds to each
// batch of a run with server signals: the send lag of each result into
// its histogram, under its lock.
func BenchmarkHealthFold(b *testing.B) {
	h := &health{stats: &attack.Stats{}}
	batch := make([]result.Result, 128)
	i := benchBatch(batch, 0)
	for j := range batch {
		batch[j].Sent = batch[j].Intended + time.Duration(j*3)*time.Microsecond
	}
	b.ReportAllocs()
	for b.Loop() {
		h.fold(batch)
	}
	_ = i
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/result")
}
