//go:build race

package main

// raceEnabled reports whether the race detector is on: it records results
// several times slower, so that the stop-time bounds at the rate ceiling
// do not apply (see TestCeilingRateInterrupt).
const raceEnabled = true
