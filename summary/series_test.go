package summary

import (
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

func TestSeriesWindows(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := NewSeries(time.Second, 0)
	// 10 req/s for 3 s, each taking 200ms; in the second second one fails
	// and one is not sent.
	for i := range 30 {
		at := time.Duration(i) * 100 * time.Millisecond
		r := result.Result{Seq: uint64(i), Intended: at, Sent: at, Latency: 200 * time.Millisecond, Status: 200}
		switch i {
		case 12:
			r.Status = 500
		case 15:
			r.Flags, r.Latency = result.NotSent, 0
		}
		s.Add(start, &r)
	}
	if len(s.Windows) != 4 || !s.Origin.Equal(start) {
		t.Fatalf("%d windows from %v; want 4 (the last completions end in second 3) from %v", len(s.Windows), s.Origin, start)
	}
	w := s.Windows[1]
	if w.Requests != 10 || w.Sent != 9 || w.NotSent != 1 || w.Failed != 2 || w.Latency.Count() != 9 {
		t.Errorf("window 1 = %+v; want 10 requests, 9 sent, 1 not sent, 2 failed", w)
	}
	// Completions: requests due at 0.8s and 0.9s end in window 1.
	// Completions in [1s, 2s): requests due at 0.8s … 1.7s, less the one not sent.
	if c := s.Windows[1].Completed; c != 9 {
		t.Errorf("window 1 completed %d, want 9", c)
	}
	// Little's law in steady state (window 2): 10 req/s × 0.2s = 2 in
	// flight on average. Window 0 holds 1.9: nothing spilled into it.
	if got := s.Windows[2].Busy.Seconds() / s.Width.Seconds(); got < 1.99 || got > 2.01 {
		t.Errorf("mean in flight in window 2 = %.3f, want 2", got)
	}
}

func TestSeriesCoarsensAndShifts(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := NewSeries(time.Second, 8)
	for i := range 20 {
		at := time.Duration(i) * time.Second
		s.Add(start, &result.Result{Intended: at, Sent: at, Latency: time.Millisecond, Status: 200})
	}
	if s.Width != 4*time.Second || len(s.Windows) != 5 {
		t.Fatalf("after 20s in at most 8 windows: width %v, %d windows; want 4s, 5", s.Width, len(s.Windows))
	}
	var n int64
	for _, w := range s.Windows {
		n += w.Requests
	}
	if n != 20 {
		t.Errorf("coarsened windows hold %d requests, want 20", n)
	}
	// A shard that started 6s earlier shifts the origin back by 2 windows
	// of 4s; its result lands in the new window 0.
	s.Add(start.Add(-6*time.Second), &result.Result{Latency: time.Millisecond, Status: 200})
	if !s.Origin.Equal(start.Add(-8*time.Second)) || s.Windows[0].Requests != 1 || s.Windows[1].Requests != 0 || s.Windows[2].Requests != 4 {
		t.Errorf("origin %v, windows 0,1,2 = %d,%d,%d; want %v and 1,0,4", s.Origin, s.Windows[0].Requests, s.Windows[1].Requests, s.Windows[2].Requests, start.Add(-8*time.Second))
	}
}

// TestFirstLabelSplitsFromTotal: while one label is seen, its statistics are
// Total's; when a second label appears, the first keeps exactly its own.
func TestFirstLabelSplitsFromTotal(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m := &result.Meta{ID: "r", Start: start}
	mixed, alone := New(Options{}), New(Options{})
	for i := range 300 {
		at := time.Duration(i) * 10 * time.Millisecond
		r := result.Result{Seq: uint64(i), Label: "a", Intended: at, Sent: at, Latency: time.Duration(i+1) * time.Millisecond, Status: 200}
		if i >= 100 && i%3 == 0 {
			r.Label, r.Status = "b", 500
		}
		mixed.Add(m, &r)
		if r.Label == "a" {
			alone.Add(m, &r)
		}
	}
	if got := alone.Labels(); len(got) != 1 || got[0].Label != "a" || got[0].Requests != alone.Total.Requests {
		t.Fatalf("one label: Labels() = %+v, want label a with Total's figures", got)
	}
	a, want := mixed.Label("a"), alone.Total
	if a == nil || a.Requests != want.Requests || a.Success != want.Success || a.Latency.Quantile(0.99) != want.Latency.Quantile(0.99) ||
		a.Latency.Count() != want.Latency.Count() || len(a.Series.Windows) != len(want.Series.Windows) || a.StatusCodes[500] != 0 {
		t.Fatalf("label a after the split: %+v; want the figures of the a results alone: %+v", a, want)
	}
	if b := mixed.Label("b"); b == nil || b.Requests != 66 || b.StatusCodes[500] != 66 || mixed.Total.Requests != 300 {
		t.Fatalf("label b = %+v, total %d; want 66 × 500 (i = 102, 105, …, 297) and 300 in all", b, mixed.Total.Requests)
	}
}

// A window's SendLag totals the send lag of its sent requests (not-sent
// ones have none), and survives coarsening: the ceiling subtracts it from
// the latency to get the server's time.
func TestSeriesSendLag(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := NewSeries(time.Second, 2)
	for i := range 40 {
		at := time.Duration(i) * 100 * time.Millisecond
		r := result.Result{Seq: uint64(i), Intended: at, Sent: at + time.Duration(i%4)*time.Millisecond, Latency: 50 * time.Millisecond, Status: 200}
		if i == 5 {
			r.Flags, r.Sent, r.Latency = result.NotSent, at+time.Second, 0
		}
		s.Add(start, &r)
	}
	var total time.Duration
	for _, w := range s.Windows {
		total += w.SendLag
	}
	// 10 of each lag 0, 1, 2, 3ms, less request 5's 1ms.
	if want := 59 * time.Millisecond; total != want || s.Width <= time.Second {
		t.Errorf("send lag total %s over %d windows of %s; want %s after coarsening", total, len(s.Windows), s.Width, want)
	}
}
