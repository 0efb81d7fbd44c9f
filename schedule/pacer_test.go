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
