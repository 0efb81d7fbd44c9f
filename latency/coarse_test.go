package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestCoarseQuantileWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c Coarse
	var all []time.Duration
	for range 50000 {
		d := time.Duration(math.Exp(r.Float64()*math.Log(1e6)) * 1e4)
		c.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99, 0.999} {
		want := all[int(math.Ceil(q*float64(len(all))))-1]
		if got := c.Quantile(q); math.Abs(float64(got-want))/float64(want) > 0.009 {
			t.Errorf("Quantile(%v) = %v, want %v within 0.9%%", q, got, want)
		}
	}
	if c.Quantile(0) != all[0] || c.Quantile(1) != all[len(all)-1] || c.Count() != 50000 {
		t.Errorf("extremes or count wrong: %v %v %d", c.Quantile(0), c.Quantile(1), c.Count())
	}
}

func TestCoarseMergeAndEdges(t *testing.T) {
	var a, b, all Coarse
	for i := range 1000 {
		d := time.Duration(i) * time.Millisecond
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(&b)
	if a != all {
		t.Fatal("merge differs from recording all values in one histogram")
	}
	var c Coarse
	c.Record(-time.Second)
	c.Record(2 * time.Hour)
	if c.Min() != 0 || c.Max() != 2*time.Hour || c.Quantile(0.5) != 0 && c.Quantile(0.5) != Lowest {
		t.Errorf("edges: min %v max %v p50 %v", c.Min(), c.Max(), c.Quantile(0.5))
	}
}

func BenchmarkCoarseRecord(b *testing.B) {
	var c Coarse
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Record(time.Duration(i%100000) * time.Microsecond)
	}
}
