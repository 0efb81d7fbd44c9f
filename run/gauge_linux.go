//go:build linux

package run

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuPressure reads the cumulative time some task waited for a CPU from
// /proc/pressure/cpu (Linux 4.20 and later, when PSI is enabled).
func cpuPressure() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	for _, f := range strings.Fields(string(line)) {
		if v, ok := strings.CutPrefix(f, "total="); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(us) * time.Microsecond, err == nil
		}
	}
	return 0, false
}

// runQueue reads the machine's runnable tasks from /proc/loadavg's fourth
// field, "runnable/all".
func runQueue() (int64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0, false
	}
	r, _, _ := strings.Cut(f[3], "/")
	n, err := strconv.ParseInt(r, 10, 64)
	return n, err == nil
}

// openFDs counts the process's open descriptors in /proc/self/fd.
func openFDs() (int64, bool) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	var n int64
	for {
		names, err := d.Readdirnames(1024)
		n += int64(len(names))
		if err != nil || len(names) == 0 {
			// The directory's own descriptor is not the run's.
			return n - 1, true
		}
	}
}

// tcpSockets reads the machine's TCP sockets in use or in TIME_WAIT, of
// IPv4 (/proc/net/sockstat) and IPv6 (sockstat6), the sockets that hold
// local ports.
func tcpSockets() (int64, bool) {
	var n int64
	ok := false
	for _, p := range []string{"/proc/net/sockstat", "/proc/net/sockstat6"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			rest, found := strings.CutPrefix(line, "TCP: ")
			if !found {
				rest, found = strings.CutPrefix(line, "TCP6: ")
			}
			if !found {
				continue
			}
			f := strings.Fields(rest)
			for i := 0; i+1 < len(f); i += 2 {
				if f[i] == "inuse" || f[i] == "tw" {
					v, err := strconv.ParseInt(f[i+1], 10, 64)
					if err == nil {
						n += v
						ok = true
					}
				}
			}
		}
	}
	return n, ok
}

// ephemeralPorts reads the size of the local port range.
func ephemeralPorts() (int64, bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	lo, err1 := strconv.ParseInt(f[0], 10, 64)
	hi, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || hi < lo {
		return 0, false
	}
	return hi - lo + 1, true
}

// cpuWait sums, over the process's threads, the time they spent runnable
// but waiting for a CPU (the second field of /proc/self/task/*/schedstat,
// in nanoseconds; Linux with schedstats). A thread that exited during the
// run takes its share with it, which the Go runtime's threads rarely do.
func cpuWait() (time.Duration, bool) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	tids, err := d.Readdirnames(-1)
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	ok := false
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/self/task/" + tid + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		sum += time.Duration(ns)
		ok = true
	}
	return sum, ok
}
