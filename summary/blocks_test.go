package summary

import (
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// TestBlocks: runs are told apart by their ID, warm-up results are left
// out, and a run that outgrows DefaultMaxBlocks blocks keeps every request
// in blocks twice as wide.
func TestBlocks(t *testing.T) {
	bs := NewBlocks(10 * time.Millisecond)
	a, a2, b := &result.Meta{ID: "a"}, &result.Meta{ID: "a"}, &result.Meta{ID: "b"}
	n := DefaultMaxBlocks * 20
	for i := range n {
		r := result.Result{Seq: uint64(i), Label: "x", Intended: time.Duration(i) * time.Millisecond, Latency: time.Millisecond, Status: 200}
		bs.Add(a, &r)
		r.Label = "y"
		bs.Add(b, &r)
		r.Flags = result.Warmup
		bs.Add(a2, &r)
	}
	runs := bs.Runs()
	if len(runs) != 2 || bs.Width() != 20*time.Millisecond || len(runs[0].Labels) != 1 {
		t.Fatalf("%d runs, width %s, run a labels %d; want 2, 20ms, 1", len(runs), bs.Width(), len(runs[0].Labels))
	}
	var sent int64
	for _, blk := range runs[0].Total.Blocks {
		sent += blk.Sent
	}
	if sent != int64(n) || len(runs[0].Total.Blocks) != n/20 {
		t.Errorf("run a: %d sent in %d blocks, want %d in %d", sent, len(runs[0].Total.Blocks), n, n/20)
	}
	if got := bs.Labels(); len(got) != 2 || got[0] != "x" || got[1] != "y" {
		t.Errorf("labels %v, want [x y]", got)
	}
}

// BenchmarkBlocksAdd measures what compare pays per result read: its
// blocks and, since compare judges each run's generator health, the
// run's own Summary.
func BenchmarkBlocksAdd(b *testing.B) {
	bs := NewBlocks(0)
	m := &result.Meta{ID: "a"}
	r := result.Result{Label: "x", Latency: time.Millisecond, Status: 200}
	b.ReportAllocs()
	for i := range b.N {
		r.Seq = uint64(i)
		r.Intended = time.Duration(i%100000) * 100 * time.Microsecond
		r.Sent = r.Intended
		bs.Add(m, &r)
	}
}
