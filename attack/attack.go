// Package attack is surge's load engine: it sends requests on an open-model
// schedule or as fast as an in-flight cap allows, and records one
// result.Result per request, measured from the request's intended send time.
package attack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultOpenConnections = 10000
	DefaultMaxConnections  = 50
	DefaultRedirects       = 10
	// DefaultGrace is how long a stopped run waits for in-flight requests
	// before cancelling them.
	DefaultGrace = 5 * time.Second
	// DefaultTickWindow batches the ticks of open-model rates from
	// 5,000/s per loop up: at most 200µs of send lag, for half the
	// wake-ups or fewer.
	DefaultTickWindow = 200 * time.Microsecond
)

// Config describes an attack. The zero value of every field means its
// default.
type Config struct {
	// Targets are sent round-robin. At least one is required.
	Targets []target.Target
	// Labels, if set, names each target (same length as Targets); results
	// carry the label of their target.
	Labels []string
	// Rate is the open-model request rate; the zero Rate means as fast as
	// the in-flight cap allows.
	Rate Rate
	// Pacer, if set, replaces Rate with another open-model schedule.
	Pacer Pacer
	// Duration bounds the run; 0 = until Count requests or the context ends.
	Duration time.Duration
	// Count bounds the number of requests; 0 = no bound.
	Count uint64
	// Connections caps requests in flight (and so connections): default
	// DefaultOpenConnections for a rate, DefaultMaxConnections at max rate.
	Connections int
	// Timeout bounds each request; default DefaultTimeout.
	Timeout time.Duration
	// Grace bounds the wait for in-flight requests after a stop; default
	// DefaultGrace.
	Grace time.Duration
	// NoKeepAlive opens a new connection for every request.
	NoKeepAlive bool
	// HTTP2 allows HTTP/2 over TLS; H2C speaks HTTP/2 over cleartext
	// (prior knowledge).
	HTTP2, H2C bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Redirects is the number of redirects to follow; default
	// DefaultRedirects, negative = follow none (the 3xx is the result).
	Redirects int
	// Worker is stored in every result (the shard of a distributed run).
	Worker uint32
	// Client, if set, sends the requests instead of surge's own clients.
	Client Client
	// TickWindow lets an event loop wake once for the ticks due within
	// this span of the first, and send them together when the last is
	// due: fewer wake-ups, each tick at most TickWindow late (recorded
	// as send lag). 0 means DefaultTickWindow; negative, a wake-up for
	// every tick.
	TickWindow time.Duration
	// Loops is the number of event loops (threads) that share the
	// connections; 0 means half of GOMAXPROCS. More loops answer
	// responses sooner, for more CPU per request.
	Loops int
	// NoEventLoop runs an attack of targets (not a Flow) on a FastClient
	// with one goroutine per connection instead of the event loops (Linux
	// only), which record the same results at a lower CPU cost per request.
	NoEventLoop bool

	// Flow, if set, replaces Targets as the source of requests: every
	// open-model tick starts one iteration of it, and every closed-model
	// user runs iterations back to back. Its results carry the virtual
	// user's (or open-model worker's) id as Worker, not Config.Worker.
	// At max rate (no Rate, Pacer or Users), Connections users run.
	Flow Flow
	// Users, if set, selects the closed model: a staircase of user counts
	// (steps in time order). Each user loops iterations of Flow (or of
	// Targets, one request each) and its results are measured from their
	// actual send time. Users is exclusive with Rate and Pacer.
	Users []UserStep
	// Stages name the phases of the run: each writes a stage marker when
	// it starts, and results intended during a warm-up stage are flagged
	// result.Warmup.
	Stages []Stage
	// LabelStages appends " [STAGE]" to the label of every result of a
	// stage, so per-label reports show the stages apart. It applies to
	// Targets, not to a Flow, whose steps name their results.
	LabelStages bool
	// Marker, if set, receives the run's markers: stages, warm-up, and a
	// note when a Flow ends the run (a feeder ran out). It is called from
	// the goroutine that calls Run's sink, so both may write to the same
	// result.Writer; an error stops the run as a sink error does.
	Marker func(result.Marker) error
}

// Client sends one request and fills in what it measured: Status,
// BytesIn, BytesOut, Error and phase timings. One Client is shared by all
// workers; NewConn gives each worker its own connection state.
type Client interface {
	NewConn() Conn
}

// Conn is one worker's handle on a Client; it is used by one goroutine.
type Conn interface {
	// Do sends t and fills r. It must not return before the response body
	// has been read or the exchange failed.
	Do(ctx context.Context, t *target.Target, r *result.Result)
	Close()
}

// Stats are live counters of a running attack, safe to read at any time.
// Workers publish Sent, Done, Errors and NotSent with each batch of results
// they hand on (at least every 100ms while busy), not per request: shared
// counters bumped per request cost measurable CPU at max rate. InFlight and
// Workers are exact.
type Stats struct {
	// Started is set by New, so live views may read it before and while
	// Run runs; Run starts within microseconds of it.
	Started  time.Time
	Sent     atomic.Int64 // requests that went out
	Done     atomic.Int64 // results recorded, including not sent
	Errors   atomic.Int64 // results that are not OK
	NotSent  atomic.Int64
	InFlight atomic.Int64
	Workers  atomic.Int64
}

// Attacker runs one attack. Create it with New.
type Attacker struct {
	cfg    Config
	pacer  Pacer // nil at max rate
	client Client
	stats  Stats

	next    atomic.Uint64 // next sequence number to claim
	idle    atomic.Int64  // workers waiting for their tick
	stopped atomic.Bool   // no new request may go out
	stopAt  atomic.Int64  // offset of the stop, valid once stopped
	wheel   *tickWheel    // releases open-model workers at their ticks
	start   time.Time

	out     chan []result.Result
	batches sync.Pool
	wg      sync.WaitGroup
	reqCtx  context.Context

	flow      Flow
	tseq      atomic.Uint64 // next target of a targetsFlow
	reqSeq    atomic.Uint64 // next result sequence number of a Flow
	workerIDs atomic.Int64  // ids of open-model flow workers
	hasWarmup bool
	labelTab  [][]string // stage × target labels, with LabelStages
	marks     chan result.Marker
	draining  atomic.Bool
	drainCh   chan struct{}
	drainOnce sync.Once

	// What the event loops did, for tests: responses collected when
	// waking for a tick, and whether a loop stopped doing so.
	lazyDone atomic.Int64
	lazyOff  atomic.Bool

	captureOnce sync.Once
	capture     Client // net/http, for captures when client cannot
}

// ErrNoTargets is returned by New when Config.Targets is empty and there
// is no Config.Flow.
var ErrNoTargets = errors.New("attack: no targets")

// New checks cfg, applies defaults and returns an Attacker.
func New(cfg Config) (*Attacker, error) {
	if len(cfg.Targets) == 0 && cfg.Flow == nil {
		return nil, ErrNoTargets
	}
	if len(cfg.Users) > 0 && (cfg.Pacer != nil || !cfg.Rate.IsMax()) {
		return nil, errors.New("attack: Users (closed model) excludes Rate and Pacer (open model)")
	}
	if cfg.Labels != nil && len(cfg.Labels) != len(cfg.Targets) {
		return nil, fmt.Errorf("attack: %d labels for %d targets", len(cfg.Labels), len(cfg.Targets))
	}
	if cfg.Rate.Freq < 0 || !cfg.Rate.IsMax() && cfg.Rate.Per <= 0 {
		return nil, fmt.Errorf("attack: invalid rate %v", cfg.Rate)
	}
	if err := cfg.Rate.check(); err != nil {
		return nil, fmt.Errorf("attack: rate %v: %w", cfg.Rate, err)
	}
	if p, ok := cfg.Pacer.(interface{ PeakRate() float64 }); ok && p.PeakRate() > MaxRate {
		return nil, fmt.Errorf("attack: the schedule's peak rate %g/s is %w", p.PeakRate(), ErrRateTooHigh)
	}
	if cfg.Duration < 0 || cfg.Connections < 0 || cfg.Timeout < 0 {
		return nil, errors.New("attack: duration, connections and timeout must not be negative")
	}
	a := &Attacker{cfg: cfg}
	a.stats.Started = time.Now()
	switch {
	case cfg.Pacer != nil:
		a.pacer = cfg.Pacer
	case !cfg.Rate.IsMax():
		a.pacer = ConstantPacer{Rate: cfg.Rate, Duration: cfg.Duration}
	}
	a.flow = cfg.Flow
	if a.flow == nil && len(cfg.Users) > 0 {
		a.flow = &targetsFlow{a: a}
	}
	maxUsers := 0
	for _, u := range cfg.Users {
		maxUsers = max(maxUsers, u.Users)
	}
	if a.cfg.Connections == 0 {
		switch {
		case maxUsers > 0:
			a.cfg.Connections = maxUsers
		case a.pacer != nil:
			a.cfg.Connections = DefaultOpenConnections
		default:
			a.cfg.Connections = DefaultMaxConnections
		}
	}
	if a.flow != nil && a.pacer == nil && len(a.cfg.Users) == 0 {
		// A flow at max rate is a closed model of Connections users.
		a.cfg.Users = []UserStep{{Users: a.cfg.Connections}}
	}
	for _, st := range cfg.Stages {
		a.hasWarmup = a.hasWarmup || st.Warmup
	}
	a.stageLabels()
	if a.cfg.Timeout == 0 {
		a.cfg.Timeout = DefaultTimeout
	}
	if a.cfg.Grace == 0 {
		a.cfg.Grace = DefaultGrace
	}
	if a.cfg.TickWindow == 0 {
		a.cfg.TickWindow = DefaultTickWindow
	}
	if a.cfg.Redirects == 0 {
		a.cfg.Redirects = DefaultRedirects
	}
	a.client = cfg.Client
	if a.client == nil {
		c, err := NewHTTPClient(a.cfg)
		if err != nil {
			return nil, err
		}
		a.client = c
	}
	a.batches.New = func() any { return make([]result.Result, 0, batchSize) }
	return a, nil
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
		p, ok := a.cfg.Pacer.(interface{ PeakRate() float64 })
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
	} else if a.cfg.NoEventLoop || a.startLoops() != nil {
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

// spawn starts a worker if the in-flight cap allows. It reports whether it
// did.
func (a *Attacker) spawn(stop <-chan struct{}) bool {
	for {
		n := a.stats.Workers.Load()
		if n >= int64(a.cfg.Connections) {
			return false
		}
		if a.stats.Workers.CompareAndSwap(n, n+1) {
			break
		}
	}
	a.wg.Add(1)
	if a.flow != nil {
		go a.workFlow(stop, int(a.workerIDs.Add(1)-1))
	} else {
		go a.work(stop)
	}
	return true
}

// work is one worker: it claims sequence numbers, waits for their intended
// time, sends, and records. Claiming a number only when free is what makes
// the in-flight cap visible as send lag: if every worker is busy, the next
// request's intended time passes unclaimed and whoever frees first sends it
// late, and the lag counts in its latency.
func (a *Attacker) work(stop <-chan struct{}) {
	defer a.wg.Done()
	conn := a.client.NewConn()
	defer conn.Close()
	// The batch is taken from the pool when the first result needs it, and
	// handed on whole: a worker idle between ticks holds none (a burst can
	// leave hundreds of workers waiting).
	var batch []result.Result
	take := func() {
		if batch == nil {
			batch = a.batches.Get().([]result.Result)
		}
	}
	held := time.Duration(0) // offset of the oldest result in batch
	// Counts not yet published to a.stats; see Stats.
	var sent, done, errs, notSent int64
	flush := func() {
		a.stats.Sent.Add(sent)
		a.stats.Done.Add(done)
		a.stats.Errors.Add(errs)
		a.stats.NotSent.Add(notSent)
		sent, done, errs, notSent = 0, 0, 0, 0
		if len(batch) > 0 {
			a.out <- batch
			batch = nil
		}
	}
	defer func() { flush() }()
	var timer *time.Timer
	var pt *preciseTimer
	defer func() { pt.close() }()
	var slept time.Duration // this worker's last wait for a tick
	nt := uint64(len(a.cfg.Targets))
	// skip records seq, then the unclaimed ticks before end, as due but
	// never sent (see notsent.go).
	skip := func(seq, end uint64) {
		at, ok := a.pacer.At(seq)
		for from := seq; ok; {
			take()
			batch = append(batch, result.Result{Seq: seq, Label: a.labelAt(seq%nt, at), Intended: at,
				Sent: at, Worker: a.cfg.Worker, Flags: result.NotSent})
			if a.warmAt(at) {
				batch[len(batch)-1].Flags |= result.Warmup
			}
			notSent++
			done++
			errs++
			if len(batch) == cap(batch) {
				flush()
			}
			if seq == from {
				seq = a.claimTo(end) // the rest of the run, in one step
			} else {
				seq++
			}
			if seq >= end {
				return
			}
			at, ok = a.pacer.At(seq)
		}
	}
	for {
		seq := a.next.Add(1) - 1
		if a.cfg.Count > 0 && seq >= a.cfg.Count {
			return
		}
		var at time.Duration
		if a.pacer != nil {
			var ok bool
			if at, ok = a.pacer.At(seq); !ok {
				return
			}
		}
		if a.stopped.Load() {
			// The run is over. A request due before the stop that never went
			// out is recorded as not sent; a later one was never due.
			if a.pacer == nil || at >= time.Duration(a.stopAt.Load()) {
				return
			}
			skip(seq, a.firstAt(seq, 1, time.Duration(a.stopAt.Load())))
			continue
		}
		if a.pacer != nil {
			now := time.Since(a.start)
			if end := a.shedFrom(seq, 1, at, now); end > seq {
				skip(seq, end) // far behind: the oldest due ticks are not sent
				continue
			}
			if wait := at - now; wait > 0 {
				if wait > maxHold/2 && len(batch) > 0 {
					flush()
				}
				a.idle.Add(1)
				// When ticks are closer than a wheel slot, the tick wheel
				// wakes the process once per slot for all workers due in it
				// (after a timer for the bulk of a long wait). Slower
				// schedules gain nothing from batching and would pay a
				// hand-off per tick, so each worker sleeps precisely itself.
				if next, _ := a.pacer.At(seq + 1); next-at < wheelSlot/2 {
					if wait > preciseSpan {
						sleepUntil(a.start, at-preciseSpan, stop, &timer, nil, true)
					}
					a.wheel.wait(at)
				} else {
					if pt == nil {
						pt = newPreciseTimer()
					}
					sleepUntil(a.start, at, stop, &timer, pt, false)
				}
				slept = wait
				a.idle.Add(-1)
				if a.stopped.Load() && at >= time.Duration(a.stopAt.Load()) {
					return // woken by the stop before this request was due
				}
			}
			// Keep one worker ready for the next tick, so a slow response
			// does not delay it.
			if a.idle.Load() == 0 {
				a.spawn(stop)
			}
		}
		i := seq % nt
		now := time.Since(a.start)
		if a.pacer == nil {
			at = now // at max rate a request is due when it goes out
		}
		take()
		batch = append(batch, result.Result{Seq: seq, Label: a.labelAt(i, at), Intended: at, Sent: now, Worker: a.cfg.Worker})
		r := &batch[len(batch)-1]
		if a.hasWarmup && a.warmAt(at) {
			r.Flags |= result.Warmup
		}
		a.stats.InFlight.Add(1)
		sent++
		conn.Do(a.reqCtx, &a.cfg.Targets[i], r)
		now = time.Since(a.start)
		r.Latency = now - r.Intended
		a.stats.InFlight.Add(-1)
		if r.Flags&result.NotSent != 0 {
			// The client could not send it (a local resource failure).
			r.Latency = 0
			sent--
			notSent++
		}
		done++
		if !r.OK() {
			errs++
		}
		if len(batch) == 1 {
			held = r.Intended
		}
		if len(batch) == cap(batch) || now-held > maxHold {
			flush()
		}
		// Retire when the pool is oversized: this worker waited long for its
		// tick and others are waiting too. A burst of slow responses
		// spawns workers and connections; without this they would stay for
		// the rest of the run. The wait, not the idle count alone, is the
		// signal: at high rates many workers are briefly idle, and retiring
		// them would only make the next burst dial again.
		if a.pacer != nil && slept > retireWait && a.idle.Load() >= retireIdle && a.retire() {
			return
		}
		slept = 0
	}
}

// A finishing worker retires when it had waited more than retireWait for
// its tick and retireIdle others are waiting for theirs: then the pool holds
// about rate × retireWait idle workers at most.
const (
	retireWait = 20 * time.Millisecond
	retireIdle = 2
)

// retire takes a worker out of the count unless it is the last one.
func (a *Attacker) retire() bool {
	for {
		n := a.stats.Workers.Load()
		if n <= 1 {
			return false
		}
		if a.stats.Workers.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (a *Attacker) label(i uint64) string {
	if a.cfg.Labels == nil {
		return ""
	}
	return a.cfg.Labels[i]
}

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
