package starvation

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTicks returns the user and system CPU time of process pid, in clock
// ticks, from fields 14 and 15 of /proc/PID/stat, and its state (field 3).
func cpuTicks(pid int) (utime, stime int64, state string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, "", err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, 0, "", fmt.Errorf("/proc/%d/stat: %d fields after the name, want 13 or more", pid, len(f))
	}
	if utime, err = strconv.ParseInt(f[11], 10, 64); err == nil {
		stime, err = strconv.ParseInt(f[12], 10, 64)
	}
	return utime, stime, f[0], err
}

// lagLimit is analyze.LagLimit, which this package cannot import: the
// probe's p99 above which a claim about time is the machine's to answer for.
const lagLimit = 10 * time.Millisecond

// TestHog: the child really burns CPU (its user time in /proc/PID/stat
// grows while it runs, by a share of the wall time the machine's load
// allows), is dead (reaped, no /proc entry, ended by the kill) after stop,
// and a second stop is harmless.
func TestHog(t *testing.T) {
	cmd, stop := startHog(t)
	pid := cmd.Process.Pid
	time.Sleep(100 * time.Millisecond) // past the child's start-up
	probe := Start(0)
	u0, _, _, err := cpuTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Half a second, and on until the child has 3 ticks more (up to 5 s):
	// at 100 ticks a second (USER_HZ), a child that spins gets tens of
	// ticks in half a second, a few even on a machine at a load of 20 on
	// 2 cores; one that does not spin gets none however long it is given.
	begin := time.Now()
	time.Sleep(500 * time.Millisecond)
	var u1, s1 int64
	var state string
	for {
		if u1, s1, state, err = cpuTicks(pid); err != nil || u1-u0 >= 3 || time.Since(begin) > 5*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	wall := time.Since(begin)
	machine := probe.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hog %d: user time %d → %d ticks (system %d) over %s, state %s; %s", pid, u0, u1, s1, wall.Round(time.Millisecond), state, machine)
	if state == "Z" || state == "X" {
		t.Fatalf("hog %d is %s (exited) while it should spin", pid, state)
	}
	got := time.Duration(u1-u0) * 10 * time.Millisecond
	if u1 == u0 {
		t.Errorf("hog %d used no user CPU time in %s", pid, wall)
	} else if got < wall/10 {
		machine.Fail(t, lagLimit, "hog %d used %s of user CPU time in %s, want at least a tenth", pid, got, wall)
	}

	stop()
	stop()
	if cmd.ProcessState == nil {
		t.Fatal("stop returned before the child was waited for")
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("hog %d ended by %v, want killed by SIGKILL (it should still have been spinning)", pid, cmd.ProcessState)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("hog %d: /proc entry after stop: %v, want none", pid, err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("hog %d: signal 0 after stop: %v, want ESRCH (no such process)", pid, err)
	}
}

// TestHogEnds: a hog nobody kills stops spinning at its limit and exits 0
// without running a test (the limit is 1 s here instead of HogLimit).
func TestHogEnds(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), hogEnv+"=1")
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(begin)
	if err != nil {
		t.Fatalf("hog with a 1s limit: %v\n%s", err, out)
	}
	if took < time.Second {
		t.Errorf("hog with a 1s limit ended after %s, want 1s or more", took)
	}
	if strings.Contains(string(out), "=== RUN") {
		t.Errorf("hog ran tests after its limit:\n%s", out)
	}
}
