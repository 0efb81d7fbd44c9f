package attack

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/scenario"
)

// MaxRate is the highest open-model rate, in requests per second, that one
// surge process accepts: 1,000,000/s, five times the most one surge process
// has sent per CPU-second (about 195,000 at max rate, bench/results.md) and
// ten times what it sends per second on the benchmark's 2 cores. A higher
// rate is no load test of the target but of the generator, which could only
// record most of its ticks as not sent; higher load is split over several
// processes (workers), whose results files merge. It is scenario.MaxRate,
// which scenario files are checked against.
const MaxRate = scenario.MaxRate

// ErrRateTooHigh is returned (wrapped) for a rate above MaxRate.
var ErrRateTooHigh = fmt.Errorf("above the ceiling of %d/s that one surge process accepts (split higher load over several workers)", int64(MaxRate))

// Rate is an open-model request rate: Freq requests every Per. The zero
// Rate means as fast as the in-flight cap allows (closed loop).
type Rate struct {
	Freq int
	Per  time.Duration
}

// IsMax reports whether r asks for as-fast-as-possible load.
func (r Rate) IsMax() bool { return r.Freq == 0 }

// PerSecond returns the rate in requests per second, 0 for max.
func (r Rate) PerSecond() float64 {
	if r.Freq == 0 || r.Per <= 0 {
		return 0
	}
	return float64(r.Freq) / r.Per.Seconds()
}

func (r Rate) String() string {
	if r.IsMax() {
		return "max"
	}
	return fmt.Sprintf("%d/%s", r.Freq, r.Per)
}

// ParseRate parses "100/1s", "5/100ms", "100" (per second), "0" or "max".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "0" || s == "infinity" {
		return Rate{}, nil
	}
	num, per, hasPer := strings.Cut(s, "/")
	f, err := strconv.Atoi(num)
	if err != nil || f < 0 {
		return Rate{}, fmt.Errorf("rate %q: expected N, N/DURATION (e.g. 100/1s) or max", s)
	}
	r := Rate{Freq: f, Per: time.Second}
	if hasPer {
		// Accept "1s" and vegeta's "s", "ms" shorthand.
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
			return Rate{}, fmt.Errorf("rate %q: expected a positive duration after '/', like 1s or 100ms", s)
		}
	}
	if err := r.check(); err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	return r, nil
}

// check returns an error wrapping ErrRateTooHigh when r is above MaxRate.
func (r Rate) check() error {
	if ps := r.PerSecond(); ps > MaxRate {
		return fmt.Errorf("%s/s is %w", strconv.FormatFloat(ps, 'f', -1, 64), ErrRateTooHigh)
	}
	return nil
}

// A Pacer is an open-model schedule: the intended send offset of every
// request, by sequence number.
type Pacer interface {
	// At returns when request seq should be sent, measured from the run's
	// start, and false when the schedule has no such request.
	At(seq uint64) (time.Duration, bool)
}

// ConstantPacer sends at a fixed Rate for Duration (0 = forever).
type ConstantPacer struct {
	Rate     Rate
	Duration time.Duration
}

var _ Pacer = ConstantPacer{}

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

var errZeroRate = errors.New("a pacer needs a positive rate")
