//go:build !linux

package attack

import "time"

// startLoops reports that the event-loop engine needs Linux (epoll); Run
// then uses one goroutine per connection.
func startLoops(*runState, *FastClient, loopConfig) error {
	return fastError("event loop: not supported on this system")
}

// loopConfig is what the event loops take from their attack.
type loopConfig struct {
	conns      int
	loops      int
	tickWindow time.Duration
}
