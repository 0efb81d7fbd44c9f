package analyze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Capacity-trial thresholds; see docs/methods.md.
const (
	// HardErrors is the error rate above which a trial is a hard failure.
	HardErrors = 0.5
	// trialKeepUp: a sustainable trial completes at least this fraction of
	// the requests due in its measured part within it.
	trialKeepUp = 0.95
	// trialTrend: ... and its second half's p50 is at most this times the
	// first half's, plus trialTrendSlack: otherwise a queue is building
	// and the SLO would break in a longer run.
	trialTrend      = 1.2
	trialTrendSlack = 2 * time.Millisecond
)

// Trial is one constant-rate step of a capacity search.
type Trial struct {
	N int `json:"n"`
	// Rate is the offered rate, requests/s.
	Rate float64 `json:"rate"`
	// Requests counts the measured requests (after the trial's warm-up).
	Requests int64         `json:"requests"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Mean     time.Duration `json:"mean"`
	Max      time.Duration `json:"max"`
	// Errors is the error rate in [0,1]; Timeouts counts timed-out requests.
	Errors   float64 `json:"errors"`
	Timeouts int64   `json:"timeouts"`
	// Throughput is the successful completions per second within the
	// measured part; KeptUp says whether it followed the offered rate.
	Throughput float64 `json:"throughput"`
	KeptUp     bool    `json:"kept_up"`
	// FirstP50 and SecondP50 are the p50 of the measured part's halves.
	FirstP50  time.Duration `json:"first_p50"`
	SecondP50 time.Duration `json:"second_p50"`
	Pass      bool          `json:"pass"`
	Hard      bool          `json:"hard_failure"`
	Why       string        `json:"why"`
	// Stopped is true when the trial was cut short by a hard failure.
	Stopped bool `json:"stopped,omitempty"`
}

// TrialRecorder folds one trial's results into a Trial. Results due before
// Warmup are discarded; Length is the trial's schedule length.
type TrialRecorder struct {
	Warmup, Length time.Duration
	all, h1, h2    *latency.Histogram
	due, failed    int64
	completedOK    int64
	timeouts       int64
}

// NewTrialRecorder returns a recorder for a trial of length whose first
// warmup is discarded.
func NewTrialRecorder(warmup, length time.Duration) *TrialRecorder {
	return &TrialRecorder{Warmup: warmup, Length: length, all: latency.New(), h1: latency.New(), h2: latency.New()}
}

// Add records r.
func (t *TrialRecorder) Add(r *result.Result) {
	if r.Intended < t.Warmup {
		return
	}
	t.due++
	if !r.OK() {
		t.failed++
		if isTimeout(r.Error) {
			t.timeouts++
		}
	} else if r.End() < t.Length {
		t.completedOK++
	}
	if r.Flags&result.NotSent != 0 {
		return
	}
	t.all.Record(r.Latency)
	if r.Intended < t.Warmup+(t.Length-t.Warmup)/2 {
		t.h1.Record(r.Latency)
	} else {
		t.h2.Record(r.Latency)
	}
}

// Judge returns the trial at rate against slo. A trial passes when every
// objective holds and the server kept up: it completed at least 95 % of
// the measured requests within the trial, and the second half's p50 is not
// above 1.2× the first half's + 2ms (a queue building up breaks any SLO
// given time, even if this trial was too short to show it).
func (t *TrialRecorder) Judge(n int, rate float64, slo SLO) Trial {
	tr := Trial{N: n, Rate: rate, Requests: t.due, P50: t.all.Quantile(0.5), P99: t.all.Quantile(0.99),
		Mean: t.all.Mean(), Max: t.all.Max(), Timeouts: t.timeouts,
		FirstP50: t.h1.Quantile(0.5), SecondP50: t.h2.Quantile(0.5)}
	if t.due > 0 {
		tr.Errors = float64(t.failed) / float64(t.due)
	}
	span := (t.Length - t.Warmup).Seconds()
	if span > 0 {
		tr.Throughput = float64(t.completedOK) / span
	}
	tr.KeptUp = t.due > 0 && float64(t.completedOK) >= trialKeepUp*float64(t.due-t.failed)
	var why []string
	if t.due == 0 {
		why = append(why, "no requests measured")
	}
	for _, o := range slo {
		switch {
		case o.Metric == "errors":
			if tr.Errors >= o.Errors {
				why = append(why, fmt.Sprintf("errors %.2f%% ≥ %s", 100*tr.Errors, o))
			}
		default:
			var got time.Duration
			switch o.Metric {
			case "mean":
				got = tr.Mean
			case "max":
				got = tr.Max
			default:
				got = t.all.Quantile(o.Q)
			}
			if got >= o.Latency {
				why = append(why, fmt.Sprintf("%s %s ≥ %s", o.Metric, round3(got), o.Latency))
			}
		}
	}
	if t.due > 0 && !tr.KeptUp {
		why = append(why, fmt.Sprintf("fell behind: %d of %d completed in time", t.completedOK, t.due-t.failed))
	}
	if t.h1.Count() > 0 && t.h2.Count() > 0 && float64(tr.SecondP50) > trialTrend*float64(tr.FirstP50)+float64(trialTrendSlack) {
		why = append(why, fmt.Sprintf("latency rising: p50 %s → %s within the trial (a queue is building)", round3(tr.FirstP50), round3(tr.SecondP50)))
	}
	tr.Hard = tr.Errors > HardErrors || tr.Timeouts > 0
	tr.Pass = len(why) == 0
	tr.Why = strings.Join(why, "; ")
	if tr.Pass {
		tr.Why = "SLO holds and the server kept up"
	}
	return tr
}

// SearchOptions configures Search.
type SearchOptions struct {
	// Start is the first rate tried, Max the highest ever tried
	// (requests/s).
	Start, Max float64
	// Precision ends the bisection when (high − low)/low is at most it
	// (0 = 0.05).
	Precision float64
	// MaxTrials bounds the number of trials (0 = 20).
	MaxTrials int
}

// Capacity is the answer of a search.
type Capacity struct {
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

// ErrNoTrials is returned by Search when the options allow no trial.
var ErrNoTrials = errors.New("capacity: start must be positive and not above max")

// Search finds the highest rate that holds an SLO: it doubles the rate from
// Start until a trial fails (never above Max), then bisects between the
// last pass and the first failure with fresh trials until they are within
// Precision. trial runs one constant-rate trial and judges it.
func Search(ctx context.Context, o SearchOptions, slo SLO, trial func(ctx context.Context, n int, rate float64) (Trial, error)) (*Capacity, error) {
	if o.Precision <= 0 {
		o.Precision = 0.05
	}
	if o.MaxTrials <= 0 {
		o.MaxTrials = 20
	}
	if !(o.Start > 0 && o.Start <= o.Max) {
		return nil, ErrNoTrials
	}
	c := &Capacity{SLO: slo.String(), Trials: []Trial{}}
	run := func(rate float64) (Trial, error) {
		t, err := trial(ctx, len(c.Trials)+1, rate)
		if err == nil {
			c.Trials = append(c.Trials, t)
		}
		return t, err
	}
	lo, hi := 0.0, 0.0
	for rate := o.Start; ; rate = min(2*rate, o.Max) {
		t, err := run(rate)
		if err != nil {
			return c, err
		}
		if !t.Pass {
			hi = rate
			break
		}
		lo = rate
		if rate >= o.Max || len(c.Trials) >= o.MaxTrials {
			break
		}
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
