// Package schedule says when each request of a run is due: the open-model
// request rate and its one grammar, the Pacer that turns a sequence number
// into an intended send offset, and the load profile (stages of rates or
// users over time) that scenarios and the CLI's rate lists build. It
// imports nothing of surge's, so the engine (attack) and the plans that
// feed it (scenario, cmd) share it without depending on each other.
package schedule

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// MaxRate is the highest open-model rate, in requests per second, that one
// surge process accepts: 1,000,000/s, five times the most one surge process
// has sent per CPU-second (about 195,000 at max rate, bench/results.md) and
// ten times what it sends per second on the benchmark's 2 cores. A higher
// rate is no load test of the target but of the generator, which could only
// record most of its ticks as not sent; higher load is split over several
// processes (workers), whose results files merge.
const MaxRate = 1_000_000

// ErrRateTooHigh is returned (wrapped) for a rate above MaxRate.
var ErrRateTooHigh = fmt.Errorf("above the ceiling of %d/s that one surge process accepts (split higher load over several workers)", int64(MaxRate))

// errRateSyntax is the reason ParseRate gives for text that is no rate.
var errRateSyntax = errors.New("expected N or N/DURATION, like 100, 100/1s, 0.5/1s or 5/100ms")

// Rate is an open-model request rate: Freq requests every Per. The zero
// Rate (any Rate with Freq 0) means as fast as the in-flight cap allows
// (closed loop) to the engine, and 0/s to a profile stage.
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

// String returns r as ParseRate reads it, "100/1s", or "max" for the zero
// Rate, which the CLI's rate flags read (ParseRate reads "0").
func (r Rate) String() string {
	if r.IsMax() {
		return "max"
	}
	return fmt.Sprintf("%d/%s", r.Freq, r.Per)
}

// Check returns an error wrapping ErrRateTooHigh when r is above MaxRate.
func (r Rate) Check() error {
	if ps := r.PerSecond(); ps > MaxRate {
		return tooHigh(ps)
	}
	return nil
}

// tooHigh returns the error for ps requests per second, above MaxRate:
// the figure in full up to a trillion, in scientific notation beyond.
func tooHigh(ps float64) error {
	f := strconv.FormatFloat(ps, 'f', -1, 64)
	if ps >= 1e12 {
		f = strconv.FormatFloat(ps, 'g', 3, 64)
	}
	return fmt.Errorf("%s/s is %w", f, ErrRateTooHigh)
}

// ParseRate parses a rate, the one grammar of every rate surge reads
// (-rate, -ramp, capacity's -start and -max, scenario files): a
// non-negative decimal number of requests, optionally followed by '/' and
// the duration they are spread over (default 1s; "s" and "ms" stand for
// "1s" and "1ms"): "100", "100/1s", "50/s", "5/100ms", "0.5/1s", "1e3/1m".
// The result is exact: a decimal becomes a fraction of whole requests per
// whole nanoseconds, reduced by the powers of ten its digits added, so
// "0.5/1s" is 1/2s and "2.5/100ms" 5/200ms, while a whole number keeps the
// duration given ("10/100ms" stays 10/100ms). "0" is the zero Rate. A rate
// above MaxRate is an error wrapping ErrRateTooHigh; every error starts
// with `rate "TEXT": `.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	r, err := parseRate(s)
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	return r, nil
}

func parseRate(s string) (Rate, error) {
	num, per, hasPer := strings.Cut(s, "/")
	m, k, err := parseDecimal(strings.TrimSpace(num))
	if err != nil {
		return Rate{}, err
	}
	d := time.Second
	if hasPer {
		// Accept "1s" and vegeta's "s", "ms" shorthand.
		per = strings.TrimSpace(per)
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return Rate{}, errors.New("expected a positive duration after '/', like 1s or 100ms")
		}
	}
	r, err := exact(m, k, d)
	if err != nil {
		return Rate{}, err
	}
	return r, r.Check()
}

// exact returns the Rate of m·10^−k requests per d.
func exact(m uint64, k int, d time.Duration) (Rate, error) {
	if m == 0 {
		return Rate{}, nil
	}
	ps := float64(m) * math.Pow10(-k) / d.Seconds() // for the message only
	for ; k < 0; k++ {
		hi, lo := bits.Mul64(m, 10)
		if hi != 0 {
			return Rate{}, tooHigh(ps)
		}
		m = lo
	}
	scale := uint64(1)
	for ; k > 0; k-- {
		scale *= 10 // k ≤ 19: parseDecimal refuses more
	}
	g := gcd(m, scale)
	m, scale = m/g, scale/g
	hi, per := bits.Mul64(uint64(d), scale)
	if hi != 0 || per > math.MaxInt64 {
		return Rate{}, errTooFine
	}
	if m > math.MaxInt64 || m > math.MaxInt {
		return Rate{}, tooHigh(ps)
	}
	return Rate{Freq: int(m), Per: time.Duration(per)}, nil
}

// errTooFine is the reason ParseRate gives for a rate whose exact
// fraction does not fit: its Per would exceed the longest time.Duration.
var errTooFine = errors.New("too slow or too finely given to hold exactly: spread it over a shorter duration")

// parseDecimal reads a non-negative decimal number, "12", "0.5", ".5",
// "1e3", "2.5E-1", as m·10^−k, with no trailing zero in m. It takes what
// strconv.ParseFloat takes in decimal (scenario files read rates with it),
// "-0" included, and refuses a negative number, hexadecimal, underscores,
// Inf, NaN and more than 19 significant digits (but for a number too big
// to be a rate, which is read to 19 figures for the message).
func parseDecimal(s string) (m uint64, k int, err error) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, 0, errRateSyntax
	}
	k = len(frac)
	if hasExp {
		e, err := parseExponent(expText)
		if err != nil {
			return 0, 0, err
		}
		k -= e
	}
	digits = strings.TrimLeft(digits, "0")
	for strings.HasSuffix(digits, "0") {
		digits, k = digits[:len(digits)-1], k-1
	}
	switch {
	case digits == "":
		return 0, 0, nil // zero, whatever its sign or exponent
	case neg:
		return 0, 0, errRateSyntax
	case len(digits) > 19 && len(digits)-k > 19:
		// At least 10^19 requests per at most 292 years: too high. Its
		// first 19 figures will say by how much.
		k -= len(digits) - 19
		digits = digits[:19]
	case len(digits) > 19:
		return 0, 0, errors.New("more than 19 significant digits")
	case k > 19:
		return 0, 0, errTooFine
	}
	m, err = strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, 0, errRateSyntax
	}
	return m, k, nil
}

// parseExponent reads the exponent of a decimal, "3", "+3", "-03",
// clamped to ±99999: any rate further out is zero, too high or too slow.
func parseExponent(s string) (int, error) {
	sign := 1
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errRateSyntax
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 5 {
		return sign * 99999, nil
	}
	e, _ := strconv.Atoi("0" + s)
	return sign * e, nil
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
