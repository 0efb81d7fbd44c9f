//go:build !linux

package attack

import "time"

// preciseTimer falls back to the runtime timer outside Linux.
type preciseTimer struct{}

func newPreciseTimer() *preciseTimer { return nil }

func (t *preciseTimer) sleep(d time.Duration) { time.Sleep(d) }

func (t *preciseTimer) close() {}
