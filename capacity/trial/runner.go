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
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/capacity"
	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/signals"
	"github.com/surge-dev/surge/target"
	"github.com/surge-dev/surge/threshold"
)

// Runner runs the constant-rate trials of a capacity search on the engine
// and, with Output, writes them, shifted onto one time line, to one results
// file, each trial a stage marker named "trial N: RATE/s". Its Run is the
// capacity.TrialFunc of capacity.Search. Set the fields before the first Run.
type Runner struct {
	// Config is the load of every trial; Run sets its Rate and Duration.
	Config attack.Config
	// SLO judges each trial.
	SLO threshold.SLO
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
	// Probes bounds the recovery probes before a trial (0 = 5).
	Probes int
	// Scrape, ScrapeInterval and Watch are the server signals read during
	// every trial (not the recovery probes), as run.Plan's; into Output
	// they go on its one time line, each series under one ID.
	Scrape         []string
	ScrapeInterval time.Duration
	Watch          []int
	signals        *signals.Memory

	seq uint64
	// baseline is the lowest server p50 of the trials that passed, probe
	// the rate at which the recovery probe runs (see recovered).
	baseline time.Duration
	probe    float64
}

// Recovery probe; see docs/methods.md. Before every trial after the
// first pass, a probeLength run at the first passing rate (at most
// probeMaxRate) must show a server p50 within probeFactor × the baseline
// (the lowest p50 of the passing trials)
// + probeSlack; it is retried after each further cooldown (at least
// probeLength) up to Runner.Probes times, and a trial run on a server that
// never came back is unreliable.
const (
	probeLength  = time.Second
	probeMaxRate = 20.0
	probeFactor  = 2
	probeSlack   = 2 * time.Millisecond
	probeTries   = 5 // the default of Runner.Probes
)

// Lengthen returns the length of a trial at rate for slo: step, or longer
// so that its measured part (after warmup) holds capacity.MinRequests(slo)
// requests; it also returns a note saying so, "" when not lengthened.
func Lengthen(step, warmup time.Duration, rate float64, slo threshold.SLO) (time.Duration, string) {
	need := capacity.MinRequests(slo)
	if need == 0 || rate*(step-warmup).Seconds() >= float64(need) {
		return step, ""
	}
	measured := time.Duration(math.Ceil(float64(need)/rate*10)) * 100 * time.Millisecond
	return warmup + measured, fmt.Sprintf("lengthened to %s so that the SLO's percentile rests on 10 requests (%d measured)",
		warmup+measured, need)
}

// trialRate turns requests/s into a schedule.Rate exact to 1/100 request/s.
func trialRate(perSecond float64) schedule.Rate {
	return schedule.Rate{Freq: max(1, int(math.Round(perSecond*100))), Per: 100 * time.Second}
}

// Run runs trial n at rate requests/s and judges it against r.SLO. A trial
// that most requests fail is stopped at once and judged a hard failure.
func (r *Runner) Run(ctx context.Context, n int, rate float64) (capacity.Trial, error) {
	if n > 1 && r.Cooldown > 0 {
		if err := sleep(ctx, r.Cooldown); err != nil {
			return capacity.Trial{}, err
		}
	}
	probes, back, err := r.recovered(ctx, n)
	if err != nil {
		return capacity.Trial{}, err
	}
	step, note := Lengthen(r.Step, r.Warmup, rate, r.SLO)
	tr, err := r.trial(ctx, n, rate, step)
	if err != nil {
		return tr, err
	}
	tr.Note, tr.Probes = note, probes
	if back != "" && !tr.Hard {
		tr.Unreliable, tr.Pass = true, false
		tr.Why = back + "; " + tr.Why
	}
	// The baseline is the lowest p50 of the passing trials: the first pass
	// may itself have run on a server still draining the failures before.
	if tr.Pass && r.baseline == 0 {
		r.probe = min(rate, probeMaxRate)
	}
	if tr.Pass && (r.baseline == 0 || tr.P50 < r.baseline) {
		r.baseline = max(tr.P50, time.Microsecond)
	}
	if r.Progress != nil {
		verdict := "pass"
		switch {
		case tr.Unreliable:
			verdict = "UNRELIABLE"
		case !tr.Pass:
			verdict = "FAIL"
		}
		if note != "" {
			note = " [" + note + "]"
		}
		if m := tr.Machine; m != nil {
			note += fmt.Sprintf(" [machine: busy %.0f%%, CPU pressure %.0f%%, surge waited for a CPU %.0f%% of the time, run queue peak %.0f]",
				100*m.Busy, 100*m.CPUPressure, 100*m.SurgeCPUWait, m.RunQueuePeak)
		}
		for _, p := range probes {
			fmt.Fprintf(r.Progress, "%s (%s/s, %d requests)\n", p.Text(n), capacity.FormatRate(p.Rate), p.Requests)
		}
		fmt.Fprintf(r.Progress, "trial %d: %s/s: p50 %s, p99 %s (server), send lag p99 %s, max %s, errors %.2f%%: %s (%s)%s\n", n, capacity.FormatRate(rate),
			latency.Round3(tr.P50), latency.Round3(tr.P99), latency.Round3(tr.SendLagP99), latency.Round3(tr.SendLagMax), 100*tr.Errors, verdict, tr.Why, note)
	}
	return tr, nil
}

// local reports whether every target is on this machine: a loopback
// address or localhost (no name is resolved).
func local(ts []target.Target) bool {
	for _, t := range ts {
		u, err := url.Parse(t.URL)
		if err != nil {
			return false
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return len(ts) > 0
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recovered probes the server before trial n until its p50 is back
// within probeFactor of the baseline, waiting a cooldown between probes;
// it returns the probes and "" when the server is back (or no trial
// passed yet), else why the next trial is unreliable. With Output, each
// probe is in the file after a stage marker "probe before trial N:
// RATE/s", its results labelled "probe: " and the target's label, so that
// no report mistakes them for a trial's.
func (r *Runner) recovered(ctx context.Context, n int) ([]capacity.Probe, string, error) {
	if r.baseline == 0 {
		return nil, "", nil
	}
	bound := probeFactor*r.baseline + probeSlack
	tries := r.Probes
	if tries <= 0 {
		tries = probeTries
	}
	var probes []capacity.Probe
	for i := 0; i < tries; i++ {
		if i > 0 {
			if err := sleep(ctx, max(r.Cooldown, probeLength)); err != nil {
				return probes, "", err
			}
		}
		plan := run.Plan{Config: r.Config}
		plan.Config.Rate, plan.Config.Duration = trialRate(r.probe), probeLength
		rec := capacity.NewRecorder(0, probeLength)
		out := run.Outputs{Consumers: []result.Consumer{rec}}
		name := fmt.Sprintf("probe before trial %d: %s/s", n, capacity.FormatRate(r.probe))
		r.toFile(&plan, &out, name, map[string]string{"probe": fmt.Sprint(n), "rate": capacity.FormatRate(r.probe)}, true)
		o, err := run.Do(ctx, plan, out)
		if err = r.flushed(o, err); err != nil {
			return probes, "", err
		}
		j := rec.Judge(0, r.probe, nil)
		p := capacity.Probe{Rate: r.probe, Requests: j.Requests, P50: j.P50, P99: j.P99, Errors: j.Errors, Bound: bound, Recovered: j.P50 <= bound}
		probes = append(probes, p)
		if p.Recovered {
			return probes, "", nil
		}
	}
	return probes, fmt.Sprintf("server not recovered: probe p50 %s at %s/s > %d× the baseline %s + %s after %d probes",
		latency.Round3(probes[len(probes)-1].P50), capacity.FormatRate(r.probe), probeFactor, latency.Round3(r.baseline), probeSlack, tries), nil
}

// toFile adds the results file, when there is one, to a run's outputs:
// the run's results shifted onto the search's time line after a stage
// marker of name and attrs, relabelled as a probe's when probe is true.
func (r *Runner) toFile(plan *run.Plan, out *run.Outputs, name string, attrs map[string]string, probe bool) {
	if r.Output == nil {
		return
	}
	if r.Origin.IsZero() {
		r.Origin = time.Now()
	}
	plan.Markers = []result.Marker{{Kind: result.MarkStage, Name: name, Attrs: attrs}}
	var c result.Consumer = trialFile{run.Shifted(r.Output, r.seq, time.Since(r.Origin))}
	if probe {
		c = &probeFile{c: c, labels: map[string]string{}}
	}
	out.Consumers = append(out.Consumers, c)
}

// flushed ends a run written with toFile: the next run's sequence follows
// on from its requests, and the file is flushed. It returns err, or else
// the file's error.
func (r *Runner) flushed(o run.Outcome, err error) error {
	if r.Output == nil {
		return err
	}
	r.seq += uint64(o.Done)
	if ferr := r.Output.Flush(); err == nil {
		err = ferr
	}
	return err
}

// trial runs one trial of length step at rate and judges it.
func (r *Runner) trial(ctx context.Context, n int, rate float64, step time.Duration) (capacity.Trial, error) {
	plan := run.Plan{Config: r.Config, Scrape: r.Scrape, ScrapeInterval: r.ScrapeInterval, Watch: r.Watch}
	if r.signals == nil {
		r.signals = &signals.Memory{}
	}
	plan.SignalMemory = r.signals
	plan.Config.Rate, plan.Config.Duration = trialRate(rate), step
	rec := capacity.NewRecorder(r.Warmup, step)
	rec.InTime, rec.Local = r.SLO.MaxLatency(), local(r.Config.Targets)
	out := run.Outputs{Consumers: []result.Consumer{rec}}
	r.toFile(&plan, &out, fmt.Sprintf("trial %d: %s/s", n, capacity.FormatRate(rate)),
		map[string]string{"rate": capacity.FormatRate(rate)}, false)
	// The trial ends with its schedule plus time to drain; requests still
	// in flight then are far beyond any SLO and are cancelled.
	drain := max(2*time.Second, 2*r.SLO.MaxLatency())
	tctx, cancel := context.WithTimeout(ctx, step+drain)
	defer cancel()
	limit := int64(r.Config.Connections)
	if limit <= 0 {
		limit = attack.DefaultOpenConnections
	}
	hard := &hardWatch{done: make(chan struct{}), limit: limit}
	out.Live = func(l *run.Live) ([]run.View, error) {
		go hard.watch(l.Stats, l.Stop, step)
		return []run.View{hard}, nil
	}
	o, err := run.Do(tctx, plan, out)
	if err = r.flushed(o, err); err != nil {
		return capacity.Trial{}, err
	}
	if ctx.Err() != nil {
		return capacity.Trial{}, ctx.Err()
	}
	rec.AtCap = hard.atCap.Load()
	tr := rec.Judge(n, rate, r.SLO)
	if hard.stopped.Load() {
		tr.Stopped, tr.Hard, tr.Pass, tr.Unreliable = true, true, false, false
		tr.Why = "hard failure, stopped early: " + tr.Why
	}
	return tr, nil
}

// trialFile is the search's results file as one trial's consumer: every
// result and marker but the generator's end-of-run marker, whose CPU
// figures would stand, in a file of many trials, for the last one alone.
type trialFile struct{ c result.Consumer }

func (f trialFile) Add(m *result.Meta, r *result.Result)       { f.c.Add(m, r) }
func (f trialFile) AddBatch(m *result.Meta, b []result.Result) { result.AddBatch(f.c, m, b) }

func (f trialFile) AddScrape(m *result.Meta, s *result.Scrape) { result.AddScrape(f.c, m, s) }

func (f trialFile) AddMarker(m *result.Meta, mk result.Marker) {
	if mk.Kind != result.MarkGenerator {
		f.c.AddMarker(m, mk)
	}
}

// Err returns the first error of the file's writer.
func (f trialFile) Err() error {
	if e, ok := f.c.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

// probeFile is the results file as a recovery probe's consumer: its
// results are labelled "probe: LABEL" ("probe" for an unlabelled target),
// so that a report of the file shows them apart from the trials'.
type probeFile struct {
	c      result.Consumer
	labels map[string]string // target label → probe label
	buf    []result.Result
}

func (f *probeFile) label(l string) string {
	p, ok := f.labels[l]
	if !ok {
		p = "probe"
		if l != "" {
			p += ": " + l
		}
		f.labels[l] = p
	}
	return p
}

func (f *probeFile) Add(m *result.Meta, r *result.Result) {
	c := *r
	c.Label = f.label(r.Label)
	f.c.Add(m, &c)
}

func (f *probeFile) AddBatch(m *result.Meta, b []result.Result) {
	f.buf = append(f.buf[:0], b...)
	for i := range f.buf {
		f.buf[i].Label = f.label(f.buf[i].Label)
	}
	result.AddBatch(f.c, m, f.buf)
}

func (f *probeFile) AddMarker(m *result.Meta, mk result.Marker) { f.c.AddMarker(m, mk) }

// Err returns the first error of the file's writer.
func (f *probeFile) Err() error {
	if e, ok := f.c.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

var (
	_ result.BatchConsumer = trialFile{}
	_ result.BatchConsumer = (*probeFile)(nil)
	_ run.View             = (*hardWatch)(nil)
)

// hardWatch is the live view of a trial that stops it once at least 20
// requests completed and most of them failed, checking every 200ms until
// the trial's schedule ends. It also notes whether requests in flight reached limit,
// the in-flight cap (sampled at each check).
type hardWatch struct {
	stopped, atCap atomic.Bool
	done           chan struct{}
	limit          int64
}

func (h *hardWatch) watch(st *attack.Stats, stop func(), step time.Duration) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	// After the schedule, requests still in flight are cancelled by surge
	// when the trial's drain ends; the engine counts those as errors, but
	// they are not the server's, so the watch ends with the schedule.
	end := time.After(step)
	for {
		select {
		case <-h.done:
			return
		case <-end:
			return
		case <-tick.C:
			if st.InFlight.Load() >= h.limit {
				h.atCap.Store(true)
			}
			// Ticks never sent are surge's, not the server's errors.
			if d := st.Done.Load(); d >= 20 && float64(st.Errors.Load()-st.NotSent.Load()) > capacity.HardErrors*float64(d) {
				h.stopped.Store(true)
				stop()
				return
			}
		}
	}
}

// Add, AddMarker and Stop implement run.View; the watch reads the
// engine's counters, not the stream.
func (h *hardWatch) Add(*result.Meta, *result.Result)      {}
func (h *hardWatch) AddMarker(*result.Meta, result.Marker) {}
func (h *hardWatch) Stop()                                 { close(h.done) }
