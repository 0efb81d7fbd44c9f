//go:build !linux

package attack

import "time"

// preciseSleep sleeps for d; outside Linux the runtime timer is the best
// portable choice.
func preciseSleep(d time.Duration) { time.Sleep(d) }
