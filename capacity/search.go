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
	"strings"

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
	// Max: the search stopped at its bound). Both are 0 when Unreliable.
	MaxRate float64 `json:"max_rate"`
	Fail    float64 `json:"fail_rate"`
	// Margin is Fail − MaxRate: the true capacity lies in between. The
	// trials at both rates are run twice; a rate whose two verdicts differ
	// does not bound the answer, so the margin widens to the next rate
	// whose every trial agreed.
	Margin float64 `json:"margin"`
	// Unreliable is true when the answer would rest on a trial that says
	// nothing sure about the server (Trial.Unreliable): no rate is given
	// then, and Held is the highest rate that passed.
	Unreliable bool    `json:"unreliable,omitempty"`
	Held       float64 `json:"held_rate,omitempty"`
	Trials     []Trial `json:"trials"`
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
// Precision, then runs the trials at both once more, so that the margin
// covers how much a verdict varies from trial to trial. An unreliable trial
// (the generator fell behind, the server had not recovered) is run once
// more at once; if it is unreliable again it counts as a failure for the
// search, and an answer bounded by it is no answer (Outcome.Unreliable).
// trial runs one constant-rate trial and judges it. On an error Search
// returns the trials so far with it.
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
	run := func(rate float64) (bool, error) {
		for attempt := 0; attempt < 2; attempt++ {
			t, err := trial(ctx, len(c.Trials)+1, rate)
			if err != nil {
				return false, err
			}
			c.Trials = append(c.Trials, t)
			if !t.Unreliable || len(c.Trials) >= o.MaxTrials {
				break
			}
		}
		return c.Trials[len(c.Trials)-1].Pass, nil
	}
	lo, hi, err := climb(o, run, func() int { return len(c.Trials) })
	if err != nil {
		return c, err
	}
	for hi > 0 && len(c.Trials) < o.MaxTrials && ctx.Err() == nil {
		if lo > 0 && (hi-lo)/lo <= o.Precision || lo == 0 && hi <= o.Start*o.Precision {
			break
		}
		mid := (lo + hi) / 2
		pass, err := run(mid)
		if err != nil {
			return c, err
		}
		if pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	// The margin comes from repeating the trials next to the answer.
	for _, r := range []float64{lo, hi} {
		if r > 0 && len(c.Trials) < o.MaxTrials && ctx.Err() == nil {
			if _, err := run(r); err != nil {
				return c, err
			}
		}
	}
	c.answer(o, slo, lo, hi)
	return c, ctx.Err()
}

// answer sets the outcome from the trials, given the search's last pass lo
// and first failure hi. Unreliable trials are no verdict on the server. A
// rate bounds the answer only when all its reliable trials agreed, so a
// disagreeing repeat moves lo down to the next rate whose trials all
// passed and hi up to the next whose trials all failed. An answer whose
// failure bound has only unreliable trials, or that found no reliable
// failure because unreliable trials stopped the search, gives no rate.
func (c *Outcome) answer(o Options, slo threshold.SLO, lo, hi float64) {
	var mixed []string
	for lo > 0 {
		if p, f, _ := c.count(lo); p > 0 && f == 0 {
			break
		}
		mixed = append(mixed, FormatRate(lo))
		lo = c.below(lo)
	}
	for hi > 0 {
		if p, f, u := c.count(hi); p == 0 && (f > 0 || u > 0) {
			break
		}
		mixed = append(mixed, FormatRate(hi))
		hi = c.above(hi)
	}
	note := ""
	if len(mixed) > 0 {
		note = fmt.Sprintf("; the verdict at %s/s changed between repeated trials", strings.Join(mixed, "/s and "))
	}
	if sat := c.saturatedBound(hi); sat != nil {
		c.Unreliable, c.Held = true, lo
		c.Text = fmt.Sprintf("unreliable: the machine, which the target shares, was saturated (trial %d at %s/s failed: %s); the server held %s up to at least %.1f/s",
			sat.N, FormatRate(sat.Rate), sat.Why, slo, lo)
		return
	}
	if u := c.unreliableBound(lo, hi, o.Max); u != nil {
		c.Unreliable, c.Held = true, lo
		c.Text = fmt.Sprintf("unreliable: %s (trial %d at %s/s: %s); the server held %s up to at least %.1f/s",
			unreliableCause(u.Why), u.N, FormatRate(u.Rate), u.Why, slo, lo)
		return
	}
	c.MaxRate, c.Fail = lo, hi
	switch {
	case hi == 0 && lo >= o.Max:
		c.Bounded = true
		c.Text = fmt.Sprintf("every trial held %s up to the -max of %.1f/s: capacity is at least %.1f/s%s", slo, o.Max, lo, note)
	case hi == 0:
		c.Text = fmt.Sprintf("capacity is at least %.1f/s: no rate tried failed %s on every trial%s", lo, slo, note)
	case lo == 0:
		c.Text = fmt.Sprintf("no rate tried held %s: even %.2f/s failed%s", slo, hi, note)
	default:
		c.Margin = hi - lo
		c.Text = fmt.Sprintf("max rate holding %s: %.1f requests/s (%.1f/s failed; the capacity lies in between, margin %.1f/s = %.0f%%, from trials repeated at both%s)",
			slo, lo, hi, c.Margin, 100*c.Margin/lo, note)
	}
}

// count returns how many reliable trials at rate r passed and failed, and
// how many were unreliable.
func (c *Outcome) count(r float64) (pass, fail, unreliable int) {
	for _, t := range c.Trials {
		switch {
		case t.Rate != r:
		case t.Unreliable:
			unreliable++
		case t.Pass:
			pass++
		default:
			fail++
		}
	}
	return pass, fail, unreliable
}

// unreliableBound returns the unreliable trial the answer rests on, nil
// for none: the last at the failure bound hi when no reliable trial there
// failed, or, when no failure bound is left (hi 0) short of max, the last
// unreliable trial above lo.
func (c *Outcome) unreliableBound(lo, hi, max float64) *Trial {
	var last *Trial
	for i := range c.Trials {
		t := &c.Trials[i]
		if t.Unreliable && (hi > 0 && t.Rate == hi || hi == 0 && lo < max && t.Rate > lo) {
			last = t
		}
	}
	if last != nil && hi > 0 {
		if _, f, _ := c.count(hi); f > 0 {
			return nil
		}
	}
	return last
}

// saturatedBound returns the last failed trial at the failure bound hi
// when every reliable failure there is Saturated (it ran on a machine so
// busy that the target, sharing it, may have failed for the machine's
// sake), nil otherwise.
func (c *Outcome) saturatedBound(hi float64) *Trial {
	var last *Trial
	for i := range c.Trials {
		t := &c.Trials[i]
		if hi == 0 || t.Rate != hi || t.Unreliable || t.Pass {
			continue
		}
		if !t.Saturated || t.Machine == nil {
			return nil
		}
		last = t
	}
	return last
}

// below returns the highest rate tried under r, 0 for none; above the
// lowest over r, 0 for none.
func (c *Outcome) below(r float64) float64 {
	b := 0.0
	for _, t := range c.Trials {
		if t.Rate < r && t.Rate > b {
			b = t.Rate
		}
	}
	return b
}

func (c *Outcome) above(r float64) float64 {
	a := 0.0
	for _, t := range c.Trials {
		if t.Rate > r && (a == 0 || t.Rate < a) {
			a = t.Rate
		}
	}
	return a
}

// unreliableCause names what made a trial unreliable, from its Why.
func unreliableCause(why string) string {
	switch {
	case strings.Contains(why, "generator behind"), strings.Contains(why, "generator bursts"):
		return "the generator limited the trials"
	case strings.Contains(why, "not recovered"):
		return "the server had not recovered from the previous trial"
	}
	return "the trials were too short for the SLO's percentile"
}

// climb doubles the rate from o.Start until a trial fails, o.Max has
// passed or o.MaxTrials ran (ran counts the trials so far); it returns the
// last rate that passed and the first that failed (0 for none).
func climb(o Options, run func(rate float64) (bool, error), ran func() int) (lo, hi float64, err error) {
	for rate := o.Start; ; rate = min(2*rate, o.Max) {
		pass, err := run(rate)
		if err != nil {
			return lo, hi, err
		}
		if !pass {
			return lo, rate, nil
		}
		lo = rate
		if rate >= o.Max || ran() >= o.MaxTrials {
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
