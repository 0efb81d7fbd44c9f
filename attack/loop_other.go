//go:build !linux

package attack

// startLoops reports that the event-loop engine needs Linux (epoll); Run
// then uses one goroutine per connection.
func startLoops(*runState, *FastClient, int) error {
	return fastError("event loop: not supported on this system")
}
