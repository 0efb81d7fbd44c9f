package schedule

import (
	"math/bits"
	"time"
)

// A Pacer is an open-model schedule: the intended send offset of every
// request, by sequence number.
type Pacer interface {
	// At returns when request seq should be sent, measured from the run's
	// start, and false when the schedule has no such request.
	At(seq uint64) (time.Duration, bool)
}

// A PeakPacer is a Pacer that knows the highest rate it reaches, so that the
// engine can refuse a schedule above MaxRate before the run and open no more
// connections than its peak rate times the timeout needs. The engine treats a
// Pacer that is not a PeakPacer as of unknown peak.
type PeakPacer interface {
	Pacer
	// PeakRate returns the highest rate of the schedule, in requests per
	// second; 0 means it has no rate (a closed model).
	PeakRate() float64
}

// ConstantPacer sends at a fixed Rate for Duration (0 = forever).
type ConstantPacer struct {
	Rate     Rate
	Duration time.Duration
}

var (
	_ Pacer     = ConstantPacer{}
	_ PeakPacer = (*Profile)(nil)
)

// At implements Pacer. Offsets are computed from seq, not accumulated, so
// they never drift. The product seq·Per is taken in 128 bits: in 64 it
// would overflow after 2.5 hours at 1,000,000/1s.
func (p ConstantPacer) At(seq uint64) (time.Duration, bool) {
	hi, lo := bits.Mul64(seq, uint64(p.Rate.Per))
	if hi >= uint64(p.Rate.Freq) {
		return 0, false // beyond any time.Duration
	}
	q, _ := bits.Div64(hi, lo, uint64(p.Rate.Freq))
	at := time.Duration(q)
	if q > 1<<63-1 || p.Duration > 0 && at >= p.Duration {
		return 0, false
	}
	return at, true
}
