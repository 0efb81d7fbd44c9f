package signals

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/surge-dev/surge/internal/proc"
)

// Watcher reads a process on this host from /proc: its CPU time, memory,
// threads, context switches, descriptors, and its cgroup's CPU throttling,
// for a server without a metrics endpoint of its own.
type Watcher struct {
	pid  int
	name string
}

// NewWatcher returns a Watcher of process pid, or an error when there is
// no such process now: a typo in -watch is told before any load is sent.
func NewWatcher(pid int) (*Watcher, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("watch %d: expected a process ID (a positive number)", pid)
	}
	if _, err := proc.ReadProcess(pid); err != nil {
		if errors.Is(err, proc.ErrNoProcess) {
			return nil, fmt.Errorf("watch %d: no such process is running (expected the PID of the server on this host)", pid)
		}
		return nil, fmt.Errorf("watch %d: %w", pid, err)
	}
	return &Watcher{pid: pid, name: "pid:" + strconv.Itoa(pid)}, nil
}

// Name implements Source: "pid:1234".
func (w *Watcher) Name() string { return w.name }

// Read implements Source. A process that exited fails its readings.
func (w *Watcher) Read(_ context.Context, r *Reading) error {
	p, err := proc.ReadProcess(w.pid)
	if err != nil {
		if errors.Is(err, proc.ErrNoProcess) {
			return fmt.Errorf("process %d is gone", w.pid)
		}
		return err
	}
	r.Counter("process_cpu_user_seconds_total", "", p.User.Seconds())
	r.Counter("process_cpu_system_seconds_total", "", p.System.Seconds())
	r.Gauge("process_resident_memory_bytes", "", float64(p.RSS))
	r.Gauge("process_threads", "", float64(p.Threads))
	r.Counter("process_context_switches_voluntary_total", "", float64(p.Voluntary))
	r.Counter("process_context_switches_involuntary_total", "", float64(p.Involuntary))
	if p.FDs >= 0 {
		r.Gauge("process_open_fds", "", float64(p.FDs))
	}
	if p.Cgroup.OK {
		r.Counter("cgroup_cpu_periods_total", "", float64(p.Cgroup.Periods))
		r.Counter("cgroup_cpu_throttled_periods_total", "", float64(p.Cgroup.Throttled))
		r.Counter("cgroup_cpu_throttled_seconds_total", "", p.Cgroup.ThrottledTime.Seconds())
	}
	return nil
}
