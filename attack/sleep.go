package attack

import "time"

// Go's timers fire up to ~1ms late on Linux when the process is idle (the
// runtime's poller then waits in whole milliseconds), which would show as
// send lag. So a worker sleeps on a Go timer only for the bulk of a long
// wait, and sleeps the last stretch on a preciseTimer, which wakes within
// ~25–60µs.
//
// A precise wake-up costs the process ~30–60µs of CPU (the thread parks in
// the kernel and is woken), more than a request at high rates, so open-model
// workers share them through a tickWheel.
const (
	// preciseSpan is the tail of a wait slept precisely.
	preciseSpan = 2 * time.Millisecond
	// wakeSlack is how early the precise sleep aims, for the wake-up
	// latency (~25µs median measured on Linux with a timerfd).
	wakeSlack = 20 * time.Microsecond
)

// sleepUntil waits until offset at of the run (measured from start) or
// until stop is closed, whichever is first. It reports whether it reached
// at. t is the caller's reusable timer (nil on first use); pt its precise
// timer, not used when coarse (then the Go timer sleeps the whole wait).
func sleepUntil(start time.Time, at time.Duration, stop <-chan struct{}, t **time.Timer, pt *preciseTimer, coarse bool) bool {
	wait := at - time.Since(start)
	if wait > preciseSpan || coarse && wait > 0 {
		bulk := wait - preciseSpan
		if coarse {
			bulk = wait
		}
		if *t == nil {
			*t = time.NewTimer(bulk)
		} else {
			(*t).Reset(bulk)
		}
		select {
		case <-(*t).C:
		case <-stop:
			return false
		}
		wait = at - time.Since(start)
	}
	if wait > wakeSlack {
		pt.sleep(wait - wakeSlack)
	}
	select {
	case <-stop:
		return false
	default:
		return true
	}
}
