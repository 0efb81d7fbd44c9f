//go:build linux

package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times: USER_HZ, which
// Linux fixes at 100 for user space on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// ReadProcess reads the figures of process pid. A process that exited
// gives ErrNoProcess; the figures that cannot be read of a live one (its
// descriptors, its cgroup) are left out as Process's fields say.
func ReadProcess(pid int) (Process, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return Process{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	p, err := parseStat(b)
	if err != nil {
		return Process{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if b, err := os.ReadFile(dir + "/status"); err == nil {
		p.Voluntary, p.Involuntary = parseStatus(b)
	} else {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	p.FDs = countDir(dir + "/fd")
	if b, err := os.ReadFile(dir + "/cgroup"); err == nil {
		p.Cgroup = readCgroupCPU(parseCgroup(b))
	}
	return p, nil
}

// parseStat reads /proc/PID/stat: the CPU times (fields 14 and 15, in
// clock ticks), the threads (20) and the resident pages (24). The command
// name (field 2) is in parentheses and may hold spaces and parentheses, so
// the fields are counted from the last ')'.
func parseStat(b []byte) (Process, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Process{}, errors.New("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return Process{}, fmt.Errorf("stat: %d fields after the name, want at least 22", len(f))
	}
	var n [4]int64
	for k, idx := range [4]int{11, 12, 17, 21} {
		v, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil || v < 0 {
			return Process{}, fmt.Errorf("stat: field %d: %q is not a count", idx+3, f[idx])
		}
		n[k] = v
	}
	if n[0] > int64(1<<62)/int64(clockTick) || n[1] > int64(1<<62)/int64(clockTick) || n[3] > 1<<50 {
		return Process{}, errors.New("stat: value out of range")
	}
	return Process{
		User: time.Duration(n[0]) * clockTick, System: time.Duration(n[1]) * clockTick,
		Threads: n[2], RSS: n[3] * int64(os.Getpagesize()), FDs: -1,
	}, nil
}

// parseStatus reads the context switches from /proc/PID/status.
func parseStatus(b []byte) (voluntary, involuntary int64) {
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "voluntary_ctxt_switches":
			dst = &voluntary
		case "nonvoluntary_ctxt_switches":
			dst = &involuntary
		default:
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
			*dst = n
		}
	}
	return voluntary, involuntary
}

// parseCgroup reads /proc/PID/cgroup: the path of the process's cgroup in
// the v1 hierarchy holding the cpu controller ("4:cpu,cpuacct:/path"),
// and in the v2 hierarchy ("0::/path"); "" for one it is not in.
func parseCgroup(b []byte) (v1cpu, v2 string) {
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2 = f[2]
			continue
		}
		for c := range strings.SplitSeq(f[1], ",") {
			if c == "cpu" {
				v1cpu = f[2]
			}
		}
	}
	return v1cpu, v2
}

// readCgroupCPU reads the cpu.stat of the cgroup at v1cpu (under the v1
// cpu controller's mount) or v2 (under the unified mount), the first that
// has throttling figures.
func readCgroupCPU(v1cpu, v2 string) CgroupCPU {
	var paths []string
	if v1cpu != "" {
		for _, m := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
			paths = append(paths, filepath.Join(cgroupRoot, m, v1cpu, "cpu.stat"))
		}
	}
	if v2 != "" {
		paths = append(paths, filepath.Join(cgroupRoot, v2, "cpu.stat"), filepath.Join(cgroupRoot, "unified", v2, "cpu.stat"))
	}
	for _, p := range paths {
		if !strings.HasPrefix(filepath.Clean(p), cgroupRoot+"/") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			if c := parseCPUStat(b); c.OK {
				return c
			}
		}
	}
	return CgroupCPU{}
}

// parseCPUStat reads a cgroup's cpu.stat: nr_periods, nr_throttled and
// the throttled time, throttled_usec in cgroup v2, throttled_time (in
// nanoseconds) in v1. OK says nr_throttled was there.
func parseCPUStat(b []byte) CgroupCPU {
	var c CgroupCPU
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "nr_periods":
			c.Periods = n
		case "nr_throttled":
			c.Throttled, c.OK = n, true
		case "throttled_usec":
			if n <= uint64(1<<62)/uint64(time.Microsecond) {
				c.ThrottledTime = time.Duration(n) * time.Microsecond
			}
		case "throttled_time":
			if n <= 1<<62 {
				c.ThrottledTime = time.Duration(n)
			}
		}
	}
	return c
}

// countDir counts the entries of dir, or returns -1 when it cannot be
// read.
func countDir(dir string) int64 {
	d, err := os.Open(dir)
	if err != nil {
		return -1
	}
	defer d.Close()
	var n int64
	for {
		names, err := d.Readdirnames(1024)
		n += int64(len(names))
		if err != nil || len(names) == 0 {
			return n
		}
	}
}
