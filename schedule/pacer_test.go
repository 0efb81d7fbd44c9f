package schedule

import (
	"testing"
	"time"
)

// TestConstantPacerLongRun: offsets stay exact where seq·Per overflows 64
// bits (after 2.5 hours at 1,000,000/1s).
func TestConstantPacerLongRun(t *testing.T) {
	p := ConstantPacer{Rate: Rate{MaxRate, time.Second}}
	for _, h := range []int64{1, 3, 24, 24 * 365} {
		want := time.Duration(h) * time.Hour
		if at, ok := p.At(uint64(h * 3600 * MaxRate)); !ok || at != want {
			t.Errorf("At(tick of hour %d) = %v, %v; want %v", h, at, ok, want)
		}
	}
}

// TestUntil: a pacer ended at d has the requests due before d and no more,
// and keeps the peak of a PeakPacer.
func TestUntil(t *testing.T) {
	profile := &Profile{Model: ModelOpen, Stages: []Stage{{Duration: time.Minute, FromRate: 50, ToRate: 50}}}
	for _, tt := range []struct {
		name string
		p    Pacer
		peak bool
	}{
		{"profile", profile, true},
		{"constant", ConstantPacer{Rate: Rate{50, time.Second}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := Until(tt.p, 200*time.Millisecond)
			n := 0
			for seq := uint64(0); seq < 100; seq++ {
				at, ok := u.At(seq)
				if !ok {
					break
				}
				if at >= 200*time.Millisecond {
					t.Fatalf("At(%d) = %v, past the end at 200ms", seq, at)
				}
				n++
			}
			if n != 10 {
				t.Errorf("%d requests before 200ms at 50/s, want 10", n)
			}
			pp, ok := u.(PeakPacer)
			if ok != tt.peak {
				t.Fatalf("Until of a %s is a PeakPacer: %v, want %v", tt.name, ok, tt.peak)
			}
			if ok && pp.PeakRate() != 50 {
				t.Errorf("peak %v, want 50", pp.PeakRate())
			}
		})
	}
}

// BenchmarkProfileAt is what the engine pays per request to ask an
// open-model profile when the request is due, bare and ended by Until (a
// round of surge ab -scenario).
func BenchmarkProfileAt(b *testing.B) {
	profile := &Profile{Model: ModelOpen, Stages: []Stage{{Duration: time.Hour, FromRate: 1000, ToRate: 1000}}}
	for _, bc := range []struct {
		name string
		p    Pacer
	}{{"bare", profile}, {"until", Until(profile, time.Hour)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var last time.Duration
			for i := 0; i < b.N; i++ {
				at, _ := bc.p.At(uint64(i % 3_000_000))
				last = at
			}
			_ = last
		})
	}
}
