package main

import (
	"fmt"
	"io"
	"time"

	"github.com/surge-dev/surge/attack"
)

// startProgress prints a progress line on w about once a second, when w is
// a terminal and the run is long enough to want one. It returns a function
// that stops it and clears the line.
func startProgress(w io.Writer, s *attack.Stats, cfg attack.Config, quiet bool) func() {
	if quiet || !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastDone int64
		printed := false
		for {
			select {
			case <-done:
				if printed {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
			}
			el := time.Since(s.Started)
			if el < 2*time.Second {
				continue // short runs need no progress
			}
			d := s.Done.Load()
			line := fmt.Sprintf("%6.1fs  %d requests  %.0f/s  %d errors  %d in flight",
				el.Seconds(), d, float64(d-lastDone), s.Errors.Load(), s.InFlight.Load())
			if cfg.Duration > 0 {
				line = fmt.Sprintf("%3.0f%% ", min(100, 100*el.Seconds()/cfg.Duration.Seconds())) + line
			}
			if n := s.NotSent.Load(); n > 0 {
				line += fmt.Sprintf("  %d NOT SENT", n)
			}
			lastDone = d
			fmt.Fprint(w, "\r\033[K"+line)
			printed = true
		}
	}()
	return func() { close(done); <-finished }
}
