// Package attack is surge's load engine: it sends requests on an open-model
// schedule or as fast as an in-flight cap allows, and records one
// result.Result per request, measured from the request's intended send time.
package attack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
)

// Attacker runs one attack. Create it with New.
//
// Its drivers share runState, the one value they may read, and record
// through a recorder each (recorder.go): open-model workers (open.go),
// closed-model users and open-model flow workers (closed.go, flow.go), and
// a transport's own engine such as FastClient's event loops
// (loop_linux.go, looppace_linux.go).
type Attacker struct {
	runState
	cfg    Config
	client Client

	idle  atomic.Int64 // workers waiting for their tick
	wheel *tickWheel   // releases open-model workers at their ticks

	flow      Flow
	tseq      atomic.Uint64 // next target of a targetsFlow
	reqSeq    atomic.Uint64 // next result sequence number of a Flow
	workerIDs atomic.Int64  // ids of open-model flow workers
	marks     chan result.Marker
	draining  atomic.Bool
	drainCh   chan struct{}
	drainOnce sync.Once

	captureOnce sync.Once
	capture     Client // net/http, for captures when client cannot

	begun     chan struct{} // closed by Run once start is set (Begun)
	begunOnce sync.Once
}

// ErrNoTargets is returned by New when Config.Targets is empty and there
// is no Config.Flow.
var ErrNoTargets = errors.New("attack: no targets")

// check returns why cfg cannot run, or nil.
func check(cfg *Config) error {
	if len(cfg.Targets) == 0 && cfg.Flow == nil {
		return ErrNoTargets
	}
	if len(cfg.Users) > 0 && (cfg.Pacer != nil || !cfg.Rate.IsMax()) {
		return errors.New("attack: Users (closed model) excludes Rate and Pacer (open model)")
	}
	if cfg.Labels != nil && len(cfg.Labels) != len(cfg.Targets) {
		return fmt.Errorf("attack: %d labels for %d targets", len(cfg.Labels), len(cfg.Targets))
	}
	if cfg.Rate.Freq < 0 || !cfg.Rate.IsMax() && cfg.Rate.Per <= 0 {
		return fmt.Errorf("attack: invalid rate %v", cfg.Rate)
	}
	if err := cfg.Rate.Check(); err != nil {
		return fmt.Errorf("attack: rate %v: %w", cfg.Rate, err)
	}
	if p, ok := cfg.Pacer.(schedule.PeakPacer); ok && p.PeakRate() > schedule.MaxRate {
		return fmt.Errorf("attack: the schedule's peak rate %g/s is %w", p.PeakRate(), schedule.ErrRateTooHigh)
	}
	if cfg.Duration < 0 || cfg.Connections < 0 || cfg.Timeout < 0 {
		return errors.New("attack: duration, connections and timeout must not be negative")
	}
	return nil
}

// New checks cfg, applies defaults and returns an Attacker.
func New(cfg Config) (*Attacker, error) {
	if err := check(&cfg); err != nil {
		return nil, err
	}
	a := &Attacker{cfg: cfg, begun: make(chan struct{})}
	a.stats.Started = time.Now()
	switch {
	case cfg.Pacer != nil:
		a.pacer = cfg.Pacer
	case !cfg.Rate.IsMax():
		a.pacer = schedule.ConstantPacer{Rate: cfg.Rate, Duration: cfg.Duration}
	}
	a.flow = cfg.Flow
	if a.flow == nil && len(cfg.Users) > 0 {
		a.flow = &targetsFlow{a: a}
	}
	a.cfg.Connections = a.connections()
	if a.flow != nil && a.pacer == nil && len(a.cfg.Users) == 0 {
		// A flow at max rate is a closed model of Connections users.
		a.cfg.Users = []schedule.UserStep{{Users: a.cfg.Connections}}
	}
	a.cfg.Timeout = cmp.Or(a.cfg.Timeout, DefaultTimeout)
	a.cfg.Grace = cmp.Or(a.cfg.Grace, DefaultGrace)
	a.initRun()
	a.client = cfg.Client
	if a.client == nil {
		tr := a.cfg.Transport
		if tr == nil {
			tr = HTTPConfig{}
		}
		c, err := tr.NewClient(a.cfg)
		if err != nil {
			return nil, err
		}
		a.client = c
	}
	return a, nil
}

// connections returns the in-flight cap: Config.Connections, or its
// default for the model.
func (a *Attacker) connections() int {
	if a.cfg.Connections > 0 {
		return a.cfg.Connections
	}
	maxUsers := 0
	for _, u := range a.cfg.Users {
		maxUsers = max(maxUsers, u.Users)
	}
	switch {
	case maxUsers > 0:
		return maxUsers
	case a.pacer != nil:
		return DefaultOpenConnections
	default:
		return DefaultMaxConnections
	}
}

// initRun sets up the runState the drivers share from a.cfg.
func (a *Attacker) initRun() {
	rs := &a.runState
	rs.count, rs.targets, rs.worker = a.cfg.Count, a.cfg.Targets, a.cfg.Worker
	rs.labels, rs.stages = a.cfg.Labels, a.cfg.Stages
	for _, st := range rs.stages {
		rs.hasWarmup = rs.hasWarmup || st.Warmup
	}
	if a.cfg.LabelStages && len(rs.stages) > 0 {
		rs.stageLabels()
	}
	rs.batches.New = func() any { return make([]result.Result, 0, batchSize) }
}

// Connections returns the in-flight cap in effect.
func (a *Attacker) Connections() int { return a.cfg.Connections }

// PeakInFlight returns the most requests the run can have in flight, and so
// the most connections it can open: the in-flight cap, or, for an open-model
// run of single requests, fewer when its peak rate times the timeout is less,
// since a request is never in flight longer than the timeout. (A default
// -connections of 10,000 at 50/s with a 30 s timeout needs 1,500.)
func (a *Attacker) PeakInFlight() int {
	n := a.cfg.Connections
	if a.cfg.Flow != nil || len(a.cfg.Users) > 0 {
		return n
	}
	peak := a.cfg.Rate.PerSecond()
	if a.cfg.Pacer != nil {
		p, ok := a.cfg.Pacer.(schedule.PeakPacer)
		if !ok {
			return n
		}
		peak = p.PeakRate()
	}
	if a.cfg.Rate.IsMax() && a.cfg.Pacer == nil || peak <= 0 {
		return n
	}
	if need := math.Ceil(peak * a.cfg.Timeout.Seconds()); need < float64(n) {
		return int(need) + 1
	}
	return n
}

// Stats returns the live counters.
func (a *Attacker) Stats() *Stats { return &a.stats }

// Begun returns a channel closed when Run has fixed the run's time origin,
// which Origin then returns: what runs beside the engine (a run's server
// signals) waits on it to read on the results' own time axis.
func (a *Attacker) Begun() <-chan struct{} { return a.begun }

// Origin returns the instant of offset 0 of Run's results and markers
// (Result.Intended, Marker.At) on the monotonic clock, once Begun is
// closed; before, the zero Time.
func (a *Attacker) Origin() time.Time {
	select {
	case <-a.begun:
		return a.start
	default:
		return time.Time{}
	}
}

// batchSize is how many results a worker collects before handing them to
// the sink: one channel operation per batch instead of per request.
const batchSize = 128

// maxHold bounds how long a worker keeps results before handing them on,
// so slow runs still stream to disk.
const maxHold = 100 * time.Millisecond

// Run sends the attack and passes every result to sink, in batches, from a
// single goroutine; sink must not keep the slice. Run returns when the
// schedule is done (duration, count) or ctx ends and the in-flight requests
// finished or were cancelled after the grace period. Every scheduled request
// whose time came before the end is recorded, sent or not. Run returns the
// first error of sink, if any; a stopped context is not an error.
func (a *Attacker) Run(ctx context.Context, sink func([]result.Result) error) error {
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	a.reqCtx = reqCtx
	a.out = make(chan []result.Result, 64)
	a.marks = make(chan result.Marker, 64)
	a.drainCh = make(chan struct{})

	var sinkErr error
	collected := make(chan struct{})
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() {
		stopOnce.Do(func() {
			a.stopAt.Store(int64(time.Since(a.start)))
			a.stopped.Store(true)
			close(stop)
		})
	}
	go func() {
		defer close(collected)
		out, marks := a.out, a.marks
		for out != nil || marks != nil {
			select {
			case b, ok := <-out:
				if !ok {
					out = nil
					continue
				}
				if sinkErr == nil {
					if err := sink(b); err != nil {
						sinkErr = err
						halt()
					}
				}
				a.batches.Put(b[:0])
			case m, ok := <-marks:
				if !ok {
					marks = nil
					continue
				}
				if sinkErr == nil && a.cfg.Marker != nil {
					if err := a.cfg.Marker(m); err != nil {
						sinkErr = err
						halt()
					}
				}
			}
		}
	}()

	a.start = time.Now()
	a.begunOnce.Do(func() { close(a.begun) })
	done := make(chan struct{})
	a.wheel = newTickWheel(a.start, stop, done)
	if a.cfg.Duration > 0 {
		t := time.AfterFunc(a.cfg.Duration, halt)
		defer t.Stop()
	}
	go func() {
		select {
		case <-ctx.Done():
			halt()
		case <-done:
			return
		}
		// Stopped from outside: give in-flight requests the grace period.
		select {
		case <-time.After(a.cfg.Grace):
			cancelReqs()
		case <-done:
		}
	}()

	phasesDone := make(chan struct{})
	go func() {
		defer close(phasesDone)
		a.phases(stop, done)
	}()
	if len(a.cfg.Users) > 0 {
		a.wg.Add(1)
		go a.schedule(stop)
	} else if a.startEngine() != nil {
		initial := 1
		if a.pacer == nil {
			initial = a.cfg.Connections
		}
		for range initial {
			a.spawn(stop)
		}
	}
	a.wg.Wait()
	close(done)
	<-phasesDone
	close(a.out)
	close(a.marks)
	<-collected
	return sinkErr
}

// startEngine starts the client's own engine (FastClient's event loops),
// or returns why it cannot run this attack: then Run uses one goroutine
// per connection.
func (a *Attacker) startEngine() error {
	ec, ok := a.client.(engineClient)
	if !ok {
		return errLoopClient
	}
	if a.flow != nil {
		return errLoopFlow
	}
	return ec.startEngine(&a.runState, a.cfg.Connections)
}

// errLoopClient says the client has no engine of its own.
const errLoopClient fastError = "event loop: the client has no engine of its own"

// errLoopFlow says the event loops send targets, not flows.
const errLoopFlow fastError = "event loop: flows run on workers"

// captureClient returns the client that sends requests whose response a
// Flow reads: net/http, built on first use.
func (a *Attacker) captureClient() Client {
	a.captureOnce.Do(func() {
		c, err := NewHTTPClient(a.cfg)
		if err != nil {
			panic(err) // NewHTTPClient cannot fail with a Config New accepted
		}
		a.capture = c
	})
	return a.capture
}
