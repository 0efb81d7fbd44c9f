// Package trial runs the trials of a capacity search on the engine: one
// constant-rate load test per trial, judged by a capacity.Recorder, and
// optionally written, all trials on one time line, to one results file.
// It is apart from package capacity so that the search and its verdicts
// (which the report package renders) do not depend on the engine.
package trial

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/capacity"
	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Runner runs the constant-rate trials of a capacity search on the engine
// and, with Output, writes them, shifted onto one time line, to one results
// file, each trial a stage marker named "trial N: RATE/s". Its Run is the
// capacity.TrialFunc of capacity.Search. Set the fields before the first Run.
type Runner struct {
	// Config is the load of every trial; Run sets its Rate and Duration.
	Config attack.Config
	// SLO judges each trial.
	SLO analyze.SLO
	// Step is each trial's length, of which the first Warmup is not
	// judged; Cooldown is the pause before every trial but the first, for
	// the target to drain.
	Step, Warmup, Cooldown time.Duration
	// Progress, when not nil, gets one line per trial with its verdict.
	Progress io.Writer
	// Output, when not nil, receives every trial's results and markers;
	// Origin is the start of its time line (zero: the first trial's start).
	// The caller closes it.
	Output *result.Writer
	Origin time.Time

	seq uint64
}

// trialRate turns requests/s into an attack.Rate exact to 1/100 request/s.
func trialRate(perSecond float64) attack.Rate {
	return attack.Rate{Freq: max(1, int(math.Round(perSecond*100))), Per: 100 * time.Second}
}

// Run runs trial n at rate requests/s and judges it against r.SLO. A trial
// that most requests fail is stopped at once and judged a hard failure.
func (r *Runner) Run(ctx context.Context, n int, rate float64) (capacity.Trial, error) {
	if n > 1 && r.Cooldown > 0 {
		select {
		case <-time.After(r.Cooldown):
		case <-ctx.Done():
			return capacity.Trial{}, ctx.Err()
		}
	}
	cfg := r.Config
	cfg.Rate, cfg.Duration = trialRate(rate), r.Step
	a, err := attack.New(cfg)
	if err != nil {
		return capacity.Trial{}, err
	}
	var shift time.Duration
	if r.Output != nil {
		if r.Origin.IsZero() {
			r.Origin = time.Now()
		}
		shift = time.Since(r.Origin)
		name := fmt.Sprintf("trial %d: %s/s", n, capacity.FormatRate(rate))
		if err := r.Output.WriteMarker(&result.Marker{At: shift, Kind: result.MarkStage, Name: name,
			Attrs: map[string]string{"rate": capacity.FormatRate(rate)}}); err != nil {
			return capacity.Trial{}, err
		}
	}
	// The trial ends with its schedule plus time to drain; requests still
	// in flight then are far beyond any SLO and are cancelled.
	drain := max(2*time.Second, 2*r.SLO.MaxLatency())
	tctx, cancel := context.WithTimeout(ctx, r.Step+drain)
	defer cancel()
	var stopped atomic.Bool
	done := make(chan struct{})
	go watchHard(a, &stopped, cancel, done)
	rec := capacity.NewRecorder(r.Warmup, r.Step)
	err = a.Run(tctx, func(b []result.Result) error { return r.consume(b, rec, shift) })
	close(done)
	if r.Output != nil {
		r.seq += uint64(a.Stats().Done.Load())
		if ferr := r.Output.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return capacity.Trial{}, err
	}
	if ctx.Err() != nil {
		return capacity.Trial{}, ctx.Err()
	}
	tr := rec.Judge(n, rate, r.SLO)
	if stopped.Load() {
		tr.Stopped, tr.Hard, tr.Pass = true, true, false
		tr.Why = "hard failure, stopped early: " + tr.Why
	}
	if r.Progress != nil {
		verdict := "pass"
		if !tr.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(r.Progress, "trial %d: %s/s: p50 %s, p99 %s, errors %.2f%%: %s (%s)\n", n, capacity.FormatRate(rate),
			latency.Round3(tr.P50), latency.Round3(tr.P99), 100*tr.Errors, verdict, tr.Why)
	}
	return tr, nil
}

// consume hands a batch of one trial to rec and, shifted onto the search's
// time line and sequence, to r.Output.
func (r *Runner) consume(b []result.Result, rec *capacity.Recorder, shift time.Duration) error {
	for i := range b {
		res := &b[i]
		rec.Add(nil, res)
		if r.Output != nil {
			res.Seq += r.seq
			res.Intended += shift
			res.Sent += shift
			if err := r.Output.Write(res); err != nil {
				return err
			}
		}
	}
	return nil
}

// watchHard stops a trial (cancel, and sets stopped) once at least 20
// requests completed and most of them failed, checking every 200ms until
// done is closed.
func watchHard(a *attack.Attacker, stopped *atomic.Bool, cancel context.CancelFunc, done <-chan struct{}) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			st := a.Stats()
			if d := st.Done.Load(); d >= 20 && float64(st.Errors.Load()) > capacity.HardErrors*float64(d) {
				stopped.Store(true)
				cancel()
				return
			}
		}
	}
}
