package attack

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// runState is what every driver of one run shares, and all a driver may
// see of it: the schedule's counters and the inputs of the measurement
// rules. The drivers (open-model workers in open.go, closed-model users
// and open-model flow workers in closed.go, the event loops in
// loop_linux.go and looppace_linux.go) each get a *runState and record
// through their own recorder; none of them reads the Attacker or its
// Config.
type runState struct {
	start   time.Time      // the run's start: every offset is from it
	pacer   schedule.Pacer // nil at max rate
	count   uint64         // 0 = no bound
	targets []target.Target
	worker  uint32 // Config.Worker, for the results of Targets

	labels    []string         // Config.Labels
	stages    []schedule.Phase // Config.Stages
	labelTab  [][]string       // stage × target labels, with LabelStages
	hasWarmup bool

	next    atomic.Uint64 // next sequence number to claim
	stopped atomic.Bool   // no new request may go out
	stopAt  atomic.Int64  // offset of the stop, valid once stopped
	reqCtx  context.Context

	stats   Stats
	out     chan []result.Result
	batches sync.Pool
	wg      sync.WaitGroup

	// What the event loops did, for tests: responses collected when
	// waking for a tick, and whether a loop stopped doing so.
	lazyDone atomic.Int64
	lazyOff  atomic.Bool
}

// now returns the offset of the present from the run's start.
func (rs *runState) now() time.Duration { return time.Since(rs.start) }

// claim takes the next sequence number from the shared counter; false
// means Count is reached.
func (rs *runState) claim() (uint64, bool) {
	seq := rs.next.Add(1) - 1
	return seq, rs.count == 0 || seq < rs.count
}

// afterStop reports whether the run has stopped and offset at is not
// before the stop: a request due then was never due, and is not recorded.
func (rs *runState) afterStop(at time.Duration) bool {
	return rs.stopped.Load() && at >= time.Duration(rs.stopAt.Load())
}

// skipTo calls each for request seq, then for every request before end
// that no driver has claimed (claiming them in one step), with its
// intended time: the requests that were due but will never be sent
// (notsent.go).
func (rs *runState) skipTo(seq, end uint64, each func(seq uint64, at time.Duration)) {
	at, ok := rs.pacer.At(seq)
	for from := seq; ok; {
		each(seq, at)
		if seq == from {
			seq = rs.claimTo(end) // the rest of the run, in one step
		} else {
			seq++
		}
		if seq >= end {
			return
		}
		at, ok = rs.pacer.At(seq)
	}
}

// recorder is one driver's writer of results. It holds the rules every
// driver measures by, so they are written once:
//
//   - a result carries its sequence number, label, intended time (the
//     schedule's, or the send time when nothing schedules the request),
//     send time and worker id, and the result.Warmup flag when it was
//     intended during a warm-up stage (start);
//   - its latency counts from the intended time, and a request the
//     transport could not send (it set result.NotSent) has none and counts
//     as not sent, not sent-and-failed (end);
//   - a request that was due and never went out is recorded, flagged
//     result.NotSent, with its intended time as send time (notSent);
//   - results are handed on in batches of batchSize, or sooner when the
//     oldest has waited maxHold, and the Stats counters Sent, Done, Errors
//     and NotSent are published with each batch, never per request
//     (flush); InFlight is exact.
//
// A recorder is used by one goroutine.
type recorder struct {
	rs    *runState
	batch []result.Result // nil until a result needs it: an idle driver holds none
	held  time.Duration   // intended time of the oldest result in batch
	// Counts not yet published to rs.stats; see Stats.
	sent, done, errs, notSents int64
}

func newRecorder(rs *runState) recorder { return recorder{rs: rs} }

// start fills r for request seq, labelled label, intended at at and going
// out now, and counts it in flight.
func (rec *recorder) start(r *result.Result, seq uint64, label string, at, now time.Duration, worker uint32) {
	*r = result.Result{Seq: seq, Label: label, Intended: at, Sent: now, Worker: worker}
	if rec.rs.warmAt(at) {
		r.Flags |= result.Warmup
	}
	rec.rs.stats.InFlight.Add(1)
	rec.sent++
}

// end closes the exchange of r, started with start, which ended at end.
func (rec *recorder) end(r *result.Result, end time.Duration) {
	r.Latency = end - r.Intended
	rec.rs.stats.InFlight.Add(-1)
	if r.Flags&result.NotSent != 0 {
		// The transport could not send it (a local resource failure).
		r.Latency = 0
		rec.sent--
		rec.notSents++
	}
}

// open appends a result to the batch and starts it (see start): the
// transport fills it in place, and close ends it.
func (rec *recorder) open(seq uint64, label string, at, now time.Duration, worker uint32) *result.Result {
	r := rec.slot()
	rec.start(r, seq, label, at, now, worker)
	return r
}

// close ends r, the result open returned, at now, and commits it.
func (rec *recorder) close(r *result.Result, now time.Duration) {
	rec.end(r, now)
	rec.commit(r, now)
}

// failed records request seq as failed before it could be sent (a
// template that could not be rendered): err is its Error, and it counts
// as neither sent nor not sent.
func (rec *recorder) failed(seq uint64, label string, at time.Duration, worker uint32, err string) {
	r := rec.slot()
	*r = result.Result{Seq: seq, Label: label, Intended: at, Sent: at, Worker: worker, Error: err}
	if rec.rs.warmAt(at) {
		r.Flags |= result.Warmup
	}
	rec.commit(r, rec.rs.now())
}

// add appends a copy of r, started and ended outside the batch (an event
// loop keeps one per connection), and commits it.
func (rec *recorder) add(r *result.Result, now time.Duration) {
	p := rec.slot()
	*p = *r
	rec.commit(p, now)
}

// notSent records request seq, intended at at, as due but never sent.
func (rec *recorder) notSent(seq uint64, label string, at time.Duration, worker uint32) {
	r := rec.slot()
	*r = result.Result{Seq: seq, Label: label, Intended: at, Sent: at, Worker: worker, Flags: result.NotSent}
	if rec.rs.warmAt(at) {
		r.Flags |= result.Warmup
	}
	if len(rec.batch) == 1 {
		rec.held = at
	}
	rec.notSents++
	rec.done++
	rec.errs++
	if len(rec.batch) == cap(rec.batch) {
		rec.flush()
	}
}

// slot appends an empty result to the batch and returns it.
func (rec *recorder) slot() *result.Result {
	if rec.batch == nil {
		rec.batch = rec.rs.batches.Get().([]result.Result)
	}
	rec.batch = append(rec.batch, result.Result{})
	return &rec.batch[len(rec.batch)-1]
}

// commit counts r, the batch's last result, as done, and hands the batch
// on when it is full or its oldest result older than maxHold at now.
func (rec *recorder) commit(r *result.Result, now time.Duration) {
	rec.done++
	if !r.OK() {
		rec.errs++
	}
	if len(rec.batch) == 1 {
		rec.held = r.Intended
	}
	if len(rec.batch) == cap(rec.batch) || now-rec.held > maxHold {
		rec.flush()
	}
}

// stale reports whether the batch holds a result older than maxHold at
// now: a driver that may not record for a while flushes then.
func (rec *recorder) stale(now time.Duration) bool {
	return len(rec.batch) > 0 && now-rec.held > maxHold
}

// flush publishes the counts to Stats and hands the batch on.
func (rec *recorder) flush() {
	st := &rec.rs.stats
	st.Sent.Add(rec.sent)
	st.Done.Add(rec.done)
	st.Errors.Add(rec.errs)
	st.NotSent.Add(rec.notSents)
	rec.sent, rec.done, rec.errs, rec.notSents = 0, 0, 0, 0
	if len(rec.batch) > 0 {
		rec.rs.out <- rec.batch
		rec.batch = nil
	}
}
