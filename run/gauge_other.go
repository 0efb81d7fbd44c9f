//go:build !linux

package run

import "time"

// The machine's figures come from /proc, which only Linux has; elsewhere
// the gauge records the process's own figures (CPU time, context switches,
// peak in flight, descriptor limit) and leaves these out, so that the
// reports say they were not recorded rather than guess them.

func cpuPressure() (time.Duration, bool) { return 0, false }
func runQueue() (int64, bool)            { return 0, false }
func openFDs() (int64, bool)             { return 0, false }
func tcpSockets() (int64, bool)          { return 0, false }
func ephemeralPorts() (int64, bool)      { return 0, false }
func cpuWait() (time.Duration, bool)     { return 0, false }
