//go:build !linux

package proc

import "errors"

// MachineCPU returns no reading: the machine's CPU times come from /proc,
// which only Linux has.
func MachineCPU() CPUTimes { return CPUTimes{} }

// ReadProcess returns an error: a process's figures come from /proc, which
// only Linux has.
func ReadProcess(pid int) (Process, error) {
	return Process{}, errors.New("watching a process needs Linux's /proc")
}
