package summary

import (
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// TestSequenceCoarsens: a Sequence that outgrows its buckets merges them
// pairwise and doubles its stride, keeping every request's count, latency
// sum and intended offsets.
func TestSequenceCoarsens(t *testing.T) {
	s := NewSequence(4)
	for i := range 10 {
		s.Add(&result.Result{Seq: uint64(i), Intended: time.Duration(i) * time.Millisecond, Latency: time.Duration(i+1) * time.Millisecond})
	}
	if s.Stride != 4 || len(s.Buckets) != 3 {
		t.Fatalf("stride %d, %d buckets; want 4, 3", s.Stride, len(s.Buckets))
	}
	want := []SeqBucket{
		{4, float64(10 * time.Millisecond), 0, 3 * time.Millisecond, float64(10 * time.Millisecond)},
		{4, float64(26 * time.Millisecond), 4 * time.Millisecond, 7 * time.Millisecond, float64(26 * time.Millisecond)},
		{2, float64(19 * time.Millisecond), 8 * time.Millisecond, 9 * time.Millisecond, float64(19 * time.Millisecond)},
	}
	for i, b := range s.Buckets {
		if b != want[i] {
			t.Errorf("bucket %d = %+v, want %+v", i, b, want[i])
		}
	}
	if len(s.Head) != 10 || s.Head[9].Count != 1 || s.Head[9].Sum != float64(10*time.Millisecond) {
		t.Errorf("head %+v, want the 10 requests one bucket each", s.Head)
	}
}

// TestSequenceServerTime: Server sums latency minus send lag, so the time
// a request waited in the generator's own queue is out of it.
func TestSequenceServerTime(t *testing.T) {
	s := NewSequence(4)
	s.Add(&result.Result{Seq: 0, Intended: 0, Sent: 30 * time.Millisecond, Latency: 35 * time.Millisecond})
	s.Add(&result.Result{Seq: 1, Intended: time.Millisecond, Sent: 2 * time.Millisecond, Latency: 5 * time.Millisecond})
	if b := s.Buckets[0]; b.Sum != float64(35*time.Millisecond) || b.Server != float64(5*time.Millisecond) {
		t.Errorf("bucket 0 = %+v, want Sum 35ms, Server 5ms", b)
	}
	if s.Head[1].Server != float64(4*time.Millisecond) {
		t.Errorf("head 1 = %+v, want Server 4ms", s.Head[1])
	}
}

// TestSummarySequence: each label has its request-order series of sent
// results; Total overlays every label.
func TestSummarySequence(t *testing.T) {
	s := New(Options{})
	for i := range 6 {
		r := result.Result{Seq: uint64(i), Label: []string{"a", "b"}[i%2], Latency: time.Millisecond, Status: 200}
		if i == 5 {
			r.Flags, r.Latency, r.Status = result.NotSent, 0, 0
		}
		s.Add(nil, &r)
	}
	count := func(q *Sequence) (n int64) {
		for _, b := range q.Buckets {
			n += b.Count
		}
		return n
	}
	if a, b, all := count(s.Label("a").Sequence), count(s.Label("b").Sequence), count(s.Total.Sequence); a != 3 || b != 2 || all != 5 {
		t.Errorf("sequence counts a %d, b %d, total %d; want 3, 2 (one not sent), 5", a, b, all)
	}
}
