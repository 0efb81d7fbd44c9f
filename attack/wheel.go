package attack

import (
	"sync"
	"time"
)

// wheelSlot is the grain at which a tickWheel releases workers. A request
// goes out at the first slot boundary at or after its intended time, so it
// is never early and at most wheelSlot late (plus the wake-up latency);
// in exchange the process wakes at most 1/wheelSlot = 2,500 times a second,
// whatever the rate.
const wheelSlot = 400 * time.Microsecond

// A tickWheel wakes workers waiting for their ticks in batches. Waking a
// thread costs the process ~30–60µs of CPU; at 20,000 requests a second, one
// precise wake-up per request would cost more than the requests. So workers
// park on the channel of their tick's slot, and one goroutine sleeps
// precisely until the earliest slot that has waiters and releases all of
// them at once.
type tickWheel struct {
	start time.Time
	stop  <-chan struct{} // the run stopped: waiters give up
	done  <-chan struct{} // the run is over: no waiter is left

	mu      sync.Mutex
	slots   map[int64]chan struct{} // slot number → closed when due
	next    int64                   // earliest slot with waiters; -1 if none
	nudge   chan struct{}           // wakes run when next moves earlier or from none
	running bool
}

// newTickWheel returns a wheel for a run that started at start. Its
// goroutine, and the timer it holds, end at stop or, for a run that ends
// without a stop (its Count sent), at done.
func newTickWheel(start time.Time, stop, done <-chan struct{}) *tickWheel {
	return &tickWheel{start: start, stop: stop, done: done, slots: map[int64]chan struct{}{}, next: -1, nudge: make(chan struct{}, 1)}
}

// wait blocks until offset at (rounded up to the slot) or stop. It reports
// whether at was reached.
func (w *tickWheel) wait(at time.Duration) bool {
	k := int64((at + wheelSlot - 1) / wheelSlot)
	w.mu.Lock()
	ch, ok := w.slots[k]
	if !ok {
		ch = make(chan struct{})
		w.slots[k] = ch
		if w.next < 0 || k < w.next {
			w.next = k
			select {
			case w.nudge <- struct{}{}:
			default:
			}
		}
		if !w.running {
			w.running = true
			go w.run()
		}
	}
	w.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-w.stop:
		return false
	}
}

// run releases slots as they fall due, until stop or done.
func (w *tickWheel) run() {
	pt := newPreciseTimer()
	defer pt.close()
	var idle *time.Timer
	for {
		w.mu.Lock()
		k := w.next
		w.mu.Unlock()
		if k < 0 {
			// Nothing to release: wait for a waiter, without spinning.
			if idle == nil {
				idle = time.NewTimer(time.Hour)
			} else {
				idle.Reset(time.Hour)
			}
			select {
			case <-w.nudge:
			case <-w.stop:
				return
			case <-w.done:
				return
			case <-idle.C:
			}
			continue
		}
		due := time.Duration(k) * wheelSlot
		if wait := due - time.Since(w.start); wait > 0 {
			// Waiters register in time order, so an earlier slot appearing
			// during this sleep is rare; it is released on the next turn,
			// at most this sleep late. Long sleeps use a Go timer and can
			// be interrupted.
			if wait > preciseSpan {
				if idle == nil {
					idle = time.NewTimer(wait - preciseSpan)
				} else {
					idle.Reset(wait - preciseSpan)
				}
				select {
				case <-idle.C:
				case <-w.nudge:
					continue
				case <-w.stop:
					return
				case <-w.done:
					return
				}
				wait = due - time.Since(w.start)
			}
			if wait > wakeSlack {
				pt.sleep(wait - wakeSlack)
			}
		}
		now := time.Since(w.start)
		w.mu.Lock()
		// Release every slot that is due by now, not only k: a slow wake-up
		// must not hold later slots back.
		w.next = -1
		for s, ch := range w.slots {
			if time.Duration(s)*wheelSlot <= now {
				close(ch)
				delete(w.slots, s)
			} else if w.next < 0 || s < w.next {
				w.next = s
			}
		}
		w.mu.Unlock()
		select {
		case <-w.stop:
			return
		default:
		}
	}
}
