// Package proc reads the machine's and processes' counters from /proc: the
// generator's gauge (package run) and the test probes (internal/starvation)
// read the same figures through it, so that what a test calls a busy
// machine is measured the way a run's report measures it.
package proc

// CPUTimes are the machine's CPU times from /proc/stat, in clock ticks:
// all of them, the busy part (not idle or waiting for I/O) and the part
// the hypervisor stole. OK is false where they could not be read.
type CPUTimes struct {
	Total, Busy, Steal uint64
	OK                 bool
}

// Shares returns the busy and stolen shares of the machine's CPU time from
// t to u, and false when either reading failed or no time passed.
func (t CPUTimes) Shares(u CPUTimes) (busy, steal float64, ok bool) {
	if !t.OK || !u.OK || u.Total <= t.Total {
		return 0, 0, false
	}
	all := float64(u.Total - t.Total)
	return float64(u.Busy-t.Busy) / all, float64(u.Steal-t.Steal) / all, true
}
