package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantileAgainstSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := New()
	var all []time.Duration
	for range 100000 {
		// Log-uniform between 10µs and 10s, like real latencies.
		d := time.Duration(math.Exp(r.Float64()*math.Log(1e6)) * 1e4)
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 0.9999} {
		want := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.001 {
			t.Errorf("Quantile(%v) = %v, want %v within 0.1%% (off by %.3f%%)", q, got, want, rel*100)
		}
	}
	if h.Min() != all[0] || h.Max() != all[len(all)-1] {
		t.Errorf("Min, Max = %v, %v; want %v, %v", h.Min(), h.Max(), all[0], all[len(all)-1])
	}
	if h.Quantile(0) != h.Min() || h.Quantile(1) != h.Max() {
		t.Errorf("Quantile(0), Quantile(1) = %v, %v; want Min, Max", h.Quantile(0), h.Quantile(1))
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	a, b, all := New(), New(), New()
	for i := range 5000 {
		d := time.Duration(i*i) * time.Microsecond / 7
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(b)
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged count/min/max/mean = %d/%v/%v/%v, want %d/%v/%v/%v",
			a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestMeanStdDevClampAndEmpty(t *testing.T) {
	h := New()
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.StdDev() != 0 || h.CountBelow(time.Second) != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Record(-time.Second) // clamps to 0
	h.Record(2 * time.Hour)
	if h.Min() != 0 || h.Max() != 2*time.Hour {
		t.Errorf("Min, Max = %v, %v; want exact 0, 2h", h.Min(), h.Max())
	}
	if got := h.Mean(); got != time.Hour {
		t.Errorf("Mean = %v, want 1h", got)
	}
	if got := h.StdDev(); got != time.Hour {
		t.Errorf("StdDev = %v, want 1h", got)
	}
}

func TestCountBelow(t *testing.T) {
	h := New()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * 10 * time.Millisecond / 8) // 1.25ms steps
	}
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{{800600 * time.Microsecond, 640}, {1200600 * time.Microsecond, 960}, {799400 * time.Microsecond, 639}, {time.Millisecond, 0}, {2 * time.Millisecond, 1}, {2 * time.Second, 1000}} {
		if got := h.CountBelow(tc.d); got != tc.want {
			t.Errorf("CountBelow(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	h := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%100000) * time.Microsecond)
	}
}

func BenchmarkMerge(b *testing.B) {
	x, y := New(), New()
	for i := range 10000 {
		y.Record(time.Duration(i) * time.Microsecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		x.Merge(y)
	}
}

// TestCountsBelow: one pass gives, for each ascending bound, the count of
// the recorded values below it, including bounds under the minimum and
// over the maximum.
func TestCountsBelow(t *testing.T) {
	h := New()
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	ds := []time.Duration{0, time.Millisecond, 1500 * time.Microsecond, 10500 * time.Microsecond, 50500 * time.Microsecond, 99500 * time.Microsecond, time.Second}
	want := []int64{0, 0, 1, 10, 50, 99, 100}
	got := h.CountsBelow(ds)
	for i := range ds {
		if got[i] != want[i] {
			t.Errorf("CountsBelow at %v = %d, want %d", ds[i], got[i], want[i])
		}
		if c := h.CountBelow(ds[i]); c != want[i] {
			t.Errorf("CountBelow(%v) = %d, want %d", ds[i], c, want[i])
		}
	}
}
