// Package starvation measures how much CPU a test process was denied while
// it ran: a probe goroutine sleeps for a short period again and again and
// records by how much each sleep overran. On an idle machine the overrun is
// tens of microseconds; on a 2-core machine shared with CPU-bound work
// (other test binaries, stress-ng, a browser) it reaches tens or hundreds
// of milliseconds, and every timer of the process (the generator's ticks,
// the lab's sleeps, the stop of a run) is late by as much.
//
// Timing tests take their tolerance from it: what a test can claim about
// time is bounded by what the machine gave the process during that test,
// measured by the test itself rather than guessed.
package starvation

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/internal/proc"
	"github.com/surge-dev/surge/latency"
)

// StealLimit is the share of the machine's CPU time stolen by its
// hypervisor above which a probe counts the process as starved whatever
// its sleeps saw: the same bound as analyze.StealLimit, so that a run
// surge's report calls starved by steal is not judged by a test as if the
// machine were idle (a CI run with 21 % steal and a probe p99 of 5 ms was).
const StealLimit = 0.1

// DefaultPeriod is the probe's sleep when Start is given 0: short enough to
// see a stall of a few milliseconds, long enough to cost the process well
// under 1 % of a core.
const DefaultPeriod = 2 * time.Millisecond

// Probe measures the oversleep of a goroutine. Create it with Start.
type Probe struct {
	period time.Duration
	stop   chan struct{}
	done   chan struct{}

	mu    sync.Mutex
	lates *latency.Histogram
	begin time.Time
	cpu0  proc.CPUTimes
}

// Report is what a Probe measured: the distribution of the overrun of its
// sleeps over the Span it ran.
type Report struct {
	Period time.Duration
	Span   time.Duration
	// Samples is the number of sleeps; P50, P99 and Max their overrun.
	Samples             int64
	Mean, P50, P99, Max time.Duration
	// Stalled is the sum of the overruns: an estimate of how long the
	// probe's goroutine was runnable but not running.
	Stalled time.Duration
	// Steal is the share of the machine's CPU time its hypervisor stole
	// over the span (/proc/stat), -1 where it could not be read.
	Steal float64
	// Limited, when set by the test, is why another measure of the same
	// run found it limited by the machine: surge's own generator-health
	// verdict (analyze.Generator.Text of a limited run). Starved is then
	// true whatever the probe saw.
	Limited string
}

// Start starts a probe that sleeps for period (DefaultPeriod if 0) until
// Stop.
func Start(period time.Duration) *Probe {
	if period <= 0 {
		period = DefaultPeriod
	}
	p := &Probe{period: period, stop: make(chan struct{}), done: make(chan struct{}), lates: latency.New(), begin: time.Now(), cpu0: proc.MachineCPU()}
	go p.run()
	return p
}

func (p *Probe) run() {
	defer close(p.done)
	t := time.NewTimer(p.period)
	defer t.Stop()
	due := time.Now().Add(p.period)
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			// The overrun is measured against when the timer was due, so a
			// late wake-up is not hidden by the next sleep starting late.
			late := max(time.Since(due), 0)
			p.mu.Lock()
			p.lates.Record(late)
			p.mu.Unlock()
			due = time.Now().Add(p.period)
			t.Reset(p.period)
		}
	}
}

// Snapshot returns what the probe measured so far; the probe goes on.
func (p *Probe) Snapshot() Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.lates
	steal := -1.0
	if _, s, ok := p.cpu0.Shares(proc.MachineCPU()); ok {
		steal = s
	}
	return Report{Period: p.period, Span: time.Since(p.begin), Samples: h.Count(),
		Mean: h.Mean(), P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.Max(), Stalled: h.Total(), Steal: steal}
}

// Stop ends the probe and returns what it measured.
func (p *Probe) Stop() Report {
	close(p.stop)
	<-p.done
	return p.Snapshot()
}

// String gives the figures as one clause for a test log.
func (r Report) String() string {
	steal := "steal not read"
	if r.Steal >= 0 {
		steal = fmt.Sprintf("steal %.0f%%", 100*r.Steal)
	}
	return fmt.Sprintf("CPU starvation over %s: a %s sleep overran by mean %s, p50 %s, p99 %s, max %s (%d sleeps, %s stalled in all), %s",
		r.Span.Round(time.Millisecond), r.Period, r.Mean.Round(time.Microsecond), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond),
		r.Max.Round(time.Microsecond), r.Samples, r.Stalled.Round(time.Millisecond), steal)
}

// Starved reports whether the probe's p99 overrun passed limit or the
// hypervisor stole more than StealLimit of the machine's CPU. Tests pass
// analyze.LagLimit: a process whose idle goroutine wakes that late is
// starved of CPU as surely as a generator whose send-lag p99 passes it is
// limited by surge's own rule, and the same verdict follows: what the run
// measured of time is the machine's, not the code's, to answer for.
func (r Report) Starved(limit time.Duration) bool {
	return r.P99 > limit || r.Steal > StealLimit || r.Limited != ""
}

// Fail reports a failed claim about time: t.Errorf when the process had its
// CPU (see Starved), else t.Logf naming the starvation or the limit, because then the
// time the claim is about was the machine's. Claims about what was recorded
// (counts, sequence numbers, which requests failed) never go through Fail.
func (r Report) Fail(t testing.TB, limit time.Duration, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	switch {
	case r.P99 > limit:
		t.Logf("not judged, the process was starved of CPU (p99 %s > %s): %s", r.P99.Round(time.Microsecond), limit, msg)
	case r.Steal > StealLimit:
		t.Logf("not judged, the hypervisor stole %.0f%% of the machine's CPU: %s", 100*r.Steal, msg)
	case r.Limited != "":
		t.Logf("not judged, %s: %s", r.Limited, msg)
	default:
		t.Error(msg)
	}
}
