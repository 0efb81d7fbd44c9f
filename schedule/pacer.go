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

// Until returns p ended at d: it has no request due at d or later, as
// ConstantPacer with Duration d. A run cut short of its profile (a round of
// surge ab, cut at -round-duration) then ends its schedule at the cut
// rather than when its stop timer fires, which on a starved machine is
// late, and would send the requests of the profile due meanwhile. The
// result is a PeakPacer with p's peak when p is one.
func Until(p Pacer, d time.Duration) Pacer {
	if pp, ok := p.(PeakPacer); ok {
		return untilPeak{pp, d}
	}
	return until{p, d}
}

// until is a Pacer ended at d.
type until struct {
	p Pacer
	d time.Duration
}

func (u until) At(seq uint64) (time.Duration, bool) {
	at, ok := u.p.At(seq)
	return at, ok && at < u.d
}

// untilPeak is a PeakPacer ended at d.
type untilPeak struct {
	PeakPacer
	d time.Duration
}

func (u untilPeak) At(seq uint64) (time.Duration, bool) {
	at, ok := u.PeakPacer.At(seq)
	return at, ok && at < u.d
}
