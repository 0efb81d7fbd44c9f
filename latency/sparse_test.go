package latency

import (
	"testing"
	"time"
)

// TestSparse: a quantile read at a bucket's middle is within 0.5 %, the
// buckets come out in order, and a merge adds counts.
func TestSparse(t *testing.T) {
	var a, b Sparse
	for _, d := range []time.Duration{time.Microsecond / 2, 3 * time.Millisecond, 20 * time.Millisecond, 2 * time.Hour} {
		a.Record(d)
	}
	b.Record(3 * time.Millisecond)
	a.Merge(&b)
	got := a.Buckets(nil)
	if len(got) != 4 || got[0].Index != 0 || got[len(got)-1].Index != int32(SparseBuckets-1) {
		t.Fatalf("buckets %v: want 4, from 0 to %d", got, SparseBuckets-1)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Index >= got[i].Index {
			t.Errorf("buckets out of order: %v", got)
		}
	}
	if got[1].Count != 2 {
		t.Errorf("3ms bucket counts %d, want 2", got[1].Count)
	}
	if v := SparseValue(int(got[1].Index)); v < 0.995*3e6 || v > 1.005*3e6 {
		t.Errorf("3ms bucket's value %v: not within 0.5%%", time.Duration(v))
	}
}
