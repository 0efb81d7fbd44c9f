package attack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
	return r, nil
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
// they never drift.
func (p ConstantPacer) At(seq uint64) (time.Duration, bool) {
	// seq*Per can exceed int64 only after ~292 years at 1 req/s.
	at := time.Duration(int64(seq) * int64(p.Rate.Per) / int64(p.Rate.Freq))
	if p.Duration > 0 && at >= p.Duration {
		return 0, false
	}
	return at, true
}

var errZeroRate = errors.New("a pacer needs a positive rate")
