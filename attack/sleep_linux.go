package attack

import (
	"syscall"
	"time"
)

// preciseSleep blocks the calling thread for d in nanosleep(2).
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
