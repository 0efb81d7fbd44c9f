package attack

import (
	"fmt"
	"sync/atomic"
	"time"
)

// userSlot is one place in the closed model's user count. A slot is
// filled by a virtual user while the staircase counts it; a user done
// with its iterations (ErrVUDone) leaves its slot exhausted, never
// refilled.
type userSlot struct {
	quit      chan struct{} // closed to stop the user after its current request
	done      chan struct{} // closed when the user's goroutine has returned
	exhausted atomic.Bool
}

func (s *userSlot) running() bool {
	if s == nil || s.quit == nil {
		return false
	}
	select {
	case <-s.quit:
		return false
	case <-s.done:
		return false
	default:
		return true
	}
}

// schedule runs the closed model: it follows Config.Users, starting and
// stopping virtual users at each step. A user started later gets a new id,
// so results' Worker ids tell users apart over time.
func (a *Attacker) schedule(stop <-chan struct{}) {
	defer a.wg.Done()
	var slots []*userSlot
	nextID := 0
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for _, step := range a.cfg.Users {
		if wait := step.At - time.Since(a.start); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-stop:
				return
			case <-a.drainCh:
				return
			}
		}
		if a.stopped.Load() || a.draining.Load() {
			return
		}
		for len(slots) < step.Users {
			slots = append(slots, &userSlot{})
		}
		for i, s := range slots {
			switch {
			case i < step.Users && !s.running() && !s.exhausted.Load():
				s.quit, s.done = make(chan struct{}), make(chan struct{})
				a.stats.Workers.Add(1)
				a.wg.Add(1)
				go a.user(nextID, s, stop)
				nextID++
			case i >= step.Users && s.running():
				close(s.quit)
			}
		}
	}
}

// user is one closed-model virtual user: it runs iterations back to back,
// think time included, until its slot is stopped, its iterations are done
// or the run ends. Its results are measured from their actual send time:
// nothing schedules them.
func (a *Attacker) user(id int, s *userSlot, stop <-chan struct{}) {
	defer a.wg.Done()
	defer close(s.done)
	defer a.stats.Workers.Add(-1)
	w := a.newFlowWorker(id)
	defer w.close()
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		if a.stopped.Load() || a.draining.Load() {
			return
		}
		if seq := a.next.Add(1) - 1; a.cfg.Count > 0 && seq >= a.cfg.Count {
			a.drain(fmt.Errorf("%w: %w: %d iterations done (count): no new iteration starts", ErrRunDone, ErrCountDone, a.cfg.Count))
			return
		}
		if !w.begin() {
			s.exhausted.Store(true)
			return
		}
		if !w.iterate(0, false, true, s.quit, stop) {
			return
		}
	}
}

// workFlow is an open-model worker running iterations of the Flow: as
// work does for single requests, it claims the next tick, waits for its
// intended time and starts one iteration then.
func (a *Attacker) workFlow(stop <-chan struct{}, id int) {
	defer a.wg.Done()
	w := a.newFlowWorker(id)
	defer w.close()
	var timer *time.Timer
	var pt *preciseTimer
	defer func() { pt.close() }()
	for {
		if a.draining.Load() {
			return
		}
		seq := a.next.Add(1) - 1
		if a.cfg.Count > 0 && seq >= a.cfg.Count {
			return
		}
		at, ok := a.pacer.At(seq)
		if !ok {
			return
		}
		if a.stopped.Load() {
			if at >= time.Duration(a.stopAt.Load()) {
				return
			}
			// Due before the stop, never started: recorded, not dropped.
			w.notSent(seq, a.firstAt(seq, 1, time.Duration(a.stopAt.Load())))
			continue
		}
		now := time.Since(a.start)
		if end := a.shedFrom(seq, 1, at, now); end > seq {
			w.notSent(seq, end) // far behind: the oldest due ticks never start
			continue
		}
		if wait := at - now; wait > 0 {
			if wait > maxHold/2 && len(w.rec.batch) > 0 {
				w.rec.flush()
			}
			a.idle.Add(1)
			if pt == nil {
				pt = newPreciseTimer()
			}
			sleepUntil(a.start, at, stop, &timer, pt, false)
			a.idle.Add(-1)
			if a.stopped.Load() && at >= time.Duration(a.stopAt.Load()) {
				return
			}
		}
		if a.idle.Load() == 0 {
			a.spawn(stop)
		}
		if !w.begin() {
			return
		}
		if !w.iterate(at, true, false, nil, stop) {
			if a.stopped.Load() {
				continue // the ticks due before the stop are recorded above
			}
			return
		}
	}
}

// notSent records iteration seq, then the unclaimed ticks before end, as
// due but never started (see notsent.go).
func (w *flowWorker) notSent(seq, end uint64) {
	rs := &w.a.runState
	rs.skipTo(seq, end, func(seq uint64, at time.Duration) {
		w.rec.notSent(w.seq(), w.a.flow.Label(seq), at, w.id)
	})
}
