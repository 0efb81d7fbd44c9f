//go:build unix

package main

import (
	"os"
	"syscall"
)

// fdBudget returns the file descriptors left for connections: the soft
// RLIMIT_NOFILE, minus the descriptors open, minus fdReserve. It first
// raises the soft limit to the hard one: Go raises it at startup only to
// one below (the hard limit is what `ulimit -n` sets, and no process can
// pass it). ok is false when the descriptors cannot be counted or there is
// no limit.
func fdBudget() (b fdCount, ok bool) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return b, false
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	b.limit, b.hard = uint64(lim.Cur), uint64(lim.Max)
	if b.open = openFiles(); b.open < 0 || b.limit > 1<<40 {
		return b, false
	}
	return b, true
}

// openFiles counts the process's open descriptors, or returns -1.
func openFiles() int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err == nil {
			return len(names) - 1 // the directory read was open too
		}
	}
	return -1
}
