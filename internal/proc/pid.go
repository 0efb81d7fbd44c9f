package proc

import (
	"errors"
	"time"
)

// ErrNoProcess is returned by ReadProcess when the process does not exist,
// or no longer does.
var ErrNoProcess = errors.New("no such process")

// Process is one reading of a process's figures: its CPU time, memory,
// threads, context switches and descriptors from /proc/PID, and the CPU
// throttling of its cgroup.
type Process struct {
	// User and System are the CPU time the process spent in user and
	// kernel mode since it started.
	User, System time.Duration
	// RSS is its resident memory in bytes.
	RSS int64
	// Threads counts its threads.
	Threads int64
	// Voluntary and Involuntary count its context switches since it
	// started (the main thread's, from /proc/PID/status).
	Voluntary, Involuntary int64
	// FDs counts its open descriptors; -1 when /proc/PID/fd could not be
	// read (another user's process).
	FDs int64
	// Cgroup is the CPU throttling of its cgroup; Cgroup.OK is false when
	// no cpu.stat with throttling figures was found.
	Cgroup CgroupCPU
}

// CgroupCPU is the CPU throttling of a cgroup from its cpu.stat: how many
// enforcement periods it had, in how many it was throttled, and for how
// long in all.
type CgroupCPU struct {
	Periods, Throttled uint64
	ThrottledTime      time.Duration
	OK                 bool
}
