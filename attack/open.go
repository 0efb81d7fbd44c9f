package attack

import "time"

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

// openWorker is the state of one goroutine of work: its connection, its
// recorder and its timers.
type openWorker struct {
	a     *Attacker
	rec   recorder
	conn  Conn
	timer *time.Timer
	pt    *preciseTimer
	slept time.Duration // the last wait for a tick
}

// work is one worker: it claims sequence numbers, waits for their intended
// time, sends, and records. Claiming a number only when free is what makes
// the in-flight cap visible as send lag: if every worker is busy, the next
// request's intended time passes unclaimed and whoever frees first sends it
// late, and the lag counts in its latency.
func (a *Attacker) work(stop <-chan struct{}) {
	defer a.wg.Done()
	w := &openWorker{a: a, rec: newRecorder(&a.runState), conn: a.client.NewConn()}
	defer w.conn.Close()
	defer func() { w.rec.flush() }()
	defer func() { w.pt.close() }()
	rs := &a.runState
	for {
		seq, ok := rs.claim()
		if !ok {
			return
		}
		var at time.Duration
		if rs.pacer != nil {
			if at, ok = rs.pacer.At(seq); !ok {
				return
			}
		}
		if rs.stopped.Load() {
			// The run is over. A request due before the stop that never went
			// out is recorded as not sent; a later one was never due.
			if rs.pacer == nil || rs.afterStop(at) {
				return
			}
			w.skip(seq, rs.firstAt(seq, 1, time.Duration(rs.stopAt.Load())))
			continue
		}
		if rs.pacer != nil {
			if end := rs.shedFrom(seq, 1, at, rs.now()); end > seq {
				w.skip(seq, end) // far behind: the oldest due ticks are not sent
				continue
			}
			if !w.wait(seq, at, stop) {
				return // woken by the stop before this request was due
			}
		}
		w.send(seq, at)
		// Retire when the pool is oversized: this worker waited long for its
		// tick and others are waiting too. A burst of slow responses
		// spawns workers and connections; without this they would stay for
		// the rest of the run. The wait, not the idle count alone, is the
		// signal: at high rates many workers are briefly idle, and retiring
		// them would only make the next burst dial again.
		if rs.pacer != nil && w.slept > retireWait && a.idle.Load() >= retireIdle && a.retire() {
			return
		}
		w.slept = 0
	}
}

// skip records seq, then the unclaimed ticks before end, as due but never
// sent (see notsent.go).
func (w *openWorker) skip(seq, end uint64) {
	rs := &w.a.runState
	nt := uint64(len(rs.targets))
	rs.skipTo(seq, end, func(seq uint64, at time.Duration) {
		w.rec.notSent(seq, rs.labelAt(seq%nt, at), at, rs.worker)
	})
}

// wait sleeps until at, the intended time of seq, and keeps a worker ready
// for the next tick. It returns false when the stop came before at.
func (w *openWorker) wait(seq uint64, at time.Duration, stop <-chan struct{}) bool {
	a := w.a
	if wait := at - a.now(); wait > 0 {
		if wait > maxHold/2 && len(w.rec.batch) > 0 {
			w.rec.flush()
		}
		a.idle.Add(1)
		// When ticks are closer than a wheel slot, the tick wheel
		// wakes the process once per slot for all workers due in it
		// (after a timer for the bulk of a long wait). Slower
		// schedules gain nothing from batching and would pay a
		// hand-off per tick, so each worker sleeps precisely itself.
		if next, _ := a.pacer.At(seq + 1); next-at < wheelSlot/2 {
			if wait > preciseSpan {
				sleepUntil(a.start, at-preciseSpan, stop, &w.timer, nil, true)
			}
			a.wheel.wait(at)
		} else {
			if w.pt == nil {
				w.pt = newPreciseTimer()
			}
			sleepUntil(a.start, at, stop, &w.timer, w.pt, false)
		}
		w.slept = wait
		a.idle.Add(-1)
		if a.afterStop(at) {
			return false
		}
	}
	// Keep one worker ready for the next tick, so a slow response
	// does not delay it.
	if a.idle.Load() == 0 {
		a.spawn(stop)
	}
	return true
}

// send sends request seq, intended at at (at max rate, now), and records it.
func (w *openWorker) send(seq uint64, at time.Duration) {
	rs := &w.a.runState
	i := seq % uint64(len(rs.targets))
	now := rs.now()
	if rs.pacer == nil {
		at = now // at max rate a request is due when it goes out
	}
	r := w.rec.open(seq, rs.labelAt(i, at), at, now, rs.worker)
	w.conn.Do(rs.reqCtx, &rs.targets[i], r)
	w.rec.close(r, rs.now())
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
