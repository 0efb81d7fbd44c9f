// Package capacity finds the highest request rate a target sustains within
// an SLO: a search over constant-rate trials (Search) and the verdict on
// each trial (Recorder, Trial). Package capacity/trial runs the trials on
// the engine; this package does not import it, so reports can render an
// Outcome without depending on the engine.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/surge-dev/surge/threshold"
)

// Options configures Search.
type Options struct {
	// Start is the first rate tried, Max the highest ever tried
	// (requests/s).
	Start, Max float64
	// Precision ends the bisection when (high − low)/low is at most it
	// (0 = 0.05).
	Precision float64
	// MaxTrials bounds the number of trials (0 = 20).
	MaxTrials int
}

// Outcome is the answer of a search.
type Outcome struct {
	SLO string `json:"slo"`
	// MaxRate is the highest rate that passed (requests/s), 0 when none
	// did; Fail the lowest that failed, 0 when none did (MaxRate is then
	// Max: the search stopped at its bound).
	MaxRate float64 `json:"max_rate"`
	Fail    float64 `json:"fail_rate"`
	// Margin is Fail − MaxRate: the true capacity lies in between.
	Margin float64 `json:"margin"`
	Trials []Trial `json:"trials"`
	// Bounded is true when every trial passed up to Max.
	Bounded bool   `json:"bounded"`
	Text    string `json:"text"`
}

// TrialFunc runs trial number n (from 1) at a constant rate (requests/s)
// and judges it. trial.Runner.Run is one.
type TrialFunc func(ctx context.Context, n int, rate float64) (Trial, error)

// ErrNoTrials is returned by Search when the options allow no trial.
var ErrNoTrials = errors.New("capacity: start must be positive and not above max")

// Search finds the highest rate that holds an SLO: it doubles the rate from
// Start until a trial fails (never above Max), then bisects between the
// last pass and the first failure with fresh trials until they are within
// Precision. trial runs one constant-rate trial and judges it. On an error
// Search returns the trials so far with it.
func Search(ctx context.Context, o Options, slo threshold.SLO, trial TrialFunc) (*Outcome, error) {
	if o.Precision <= 0 {
		o.Precision = 0.05
	}
	if o.MaxTrials <= 0 {
		o.MaxTrials = 20
	}
	if !(o.Start > 0 && o.Start <= o.Max) {
		return nil, ErrNoTrials
	}
	c := &Outcome{SLO: slo.String(), Trials: []Trial{}}
	run := func(rate float64) (Trial, error) {
		t, err := trial(ctx, len(c.Trials)+1, rate)
		if err == nil {
			c.Trials = append(c.Trials, t)
		}
		return t, err
	}
	lo, hi, err := climb(o, run)
	if err != nil {
		return c, err
	}
	for hi > 0 && len(c.Trials) < o.MaxTrials && ctx.Err() == nil {
		if lo > 0 && (hi-lo)/lo <= o.Precision || lo == 0 && hi <= o.Start*o.Precision {
			break
		}
		mid := (lo + hi) / 2
		t, err := run(mid)
		if err != nil {
			return c, err
		}
		if t.Pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	c.MaxRate, c.Fail = lo, hi
	switch {
	case hi == 0:
		c.Bounded = true
		c.Text = fmt.Sprintf("every trial held %s up to the -max of %.1f/s: capacity is at least %.1f/s", slo, o.Max, lo)
	case lo == 0:
		c.Text = fmt.Sprintf("no rate tried held %s: even %.2f/s failed", slo, hi)
	default:
		c.Margin = hi - lo
		c.Text = fmt.Sprintf("max rate holding %s: %.1f requests/s (%.1f/s failed; the capacity lies in between, margin %.1f/s = %.0f%%)",
			slo, lo, hi, c.Margin, 100*c.Margin/lo)
	}
	return c, ctx.Err()
}

// climb doubles the rate from o.Start until a trial fails, o.Max has
// passed or o.MaxTrials ran; it returns the last rate that passed and the
// first that failed (0 for none).
func climb(o Options, run func(rate float64) (Trial, error)) (lo, hi float64, err error) {
	for rate, n := o.Start, 1; ; rate, n = min(2*rate, o.Max), n+1 {
		t, err := run(rate)
		if err != nil {
			return lo, hi, err
		}
		if !t.Pass {
			return lo, rate, nil
		}
		lo = rate
		if rate >= o.Max || n >= o.MaxTrials {
			return lo, 0, nil
		}
	}
}

// FormatRate prints a rate in requests/s as a whole number when it is one,
// else with two decimals: 80, 82.50.
func FormatRate(r float64) string {
	if r == math.Trunc(r) {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
