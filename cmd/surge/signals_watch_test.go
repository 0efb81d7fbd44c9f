package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
)

// burstEnv, when set in a child's environment, makes it spin one core for
// 1 s out of every 3 s beside whatever command it runs: a CPU-heavy batch
// job inside the server's container.
const burstEnv = "SURGE_TEST_BURST"

func init() {
	if os.Getenv(burstEnv) == "" {
		return
	}
	go func() {
		end := time.Now().Add(2 * time.Minute)
		for time.Now().Before(end) {
			t0 := time.Now()
			for time.Since(t0) < time.Second {
			}
			time.Sleep(2 * time.Second)
		}
	}()
}

// cpuCgroup makes a cgroup limited to quota of CPU time per 100ms period
// (cgroup v1's cpu controller, or v2's cpu.max), and returns its directory
// and a function that moves a process into it. The directory is removed
// when the test ends (after the processes in it are gone).
func cpuCgroup(t *testing.T, quota time.Duration) (string, func(pid int)) {
	t.Helper()
	name := fmt.Sprintf("surge-test-%d", os.Getpid())
	v1 := "/sys/fs/cgroup/cpu"
	var dir string
	var limit func() error
	if _, err := os.Stat(filepath.Join(v1, "cpu.cfs_quota_us")); err == nil {
		dir = filepath.Join(v1, name)
		limit = func() error {
			if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte("100000"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(strconv.Itoa(int(quota/time.Microsecond))), 0o644)
		}
	} else {
		dir = filepath.Join("/sys/fs/cgroup", name)
		limit = func() error {
			return os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(fmt.Sprintf("%d 100000", quota/time.Microsecond)), 0o644)
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("cannot make a CPU cgroup here (%v): TestWatchThrottled needs a writable /sys/fs/cgroup (root, cgroup v1 cpu or v2 with the cpu controller)", err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("cgroup %s left behind", dir)
	})
	if err := limit(); err != nil {
		t.Fatalf("set the CPU limit of %s: %v", dir, err)
	}
	return dir, func(pid int) {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatalf("move %d into %s: %v", pid, dir, err)
		}
	}
}

// throttled reads nr_throttled from the cgroup's cpu.stat.
func throttled(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "nr_throttled "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatalf("no nr_throttled in %s/cpu.stat: %s", dir, b)
	return 0
}

// startLabChild starts `surge lab` as a child process of this test binary,
// with extra environment, and returns its base URL and PID; it is killed
// by PID when the test ends.
func startLabChild(t *testing.T, env ...string) (string, *exec.Cmd) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "lab", "-addr", addr)
	cmd.Env = append(append(os.Environ(), childNofile+"=4096"), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/fixed?ms=1")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lab child did not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base, cmd
}

// TestWatchThrottled: a lab process in a cgroup limited to 10ms of CPU
// per 100ms, whose own batch job spins a core 1 s out of every 3 s, is
// attacked at 50/s for 12 s (/fixed?ms=5) with -watch of its PID. Truth:
// in each burst the cgroup's quota runs out and the kernel throttles the
// process for the rest of each period (nr_throttled, read by the test from
// cpu.stat, grows), delaying requests by up to 90ms. The finding names the
// cgroup's throttling.
func TestWatchThrottled(t *testing.T) {
	dir, join := cpuCgroup(t, 10*time.Millisecond)
	base, cmd := startLabChild(t, burstEnv+"=1")
	join(cmd.Process.Pid)
	before := throttled(t, dir)
	f, machine := signalAttack(t, base+"/fixed?ms=5",
		"-rate", "50/1s", "-duration", "12s", "-watch", strconv.Itoa(cmd.Process.Pid), "-scrape-interval", "250ms")
	n := throttled(t, dir) - before
	t.Logf("truth: the cgroup was throttled in %d periods of 100ms during the run", n)
	if n < 10 {
		t.Fatalf("the cgroup limit did not throttle the lab (%d periods): the test's premise failed", n)
	}
	sf := f.Labels[0].Signals
	if sf == nil {
		t.Fatal("no signal findings: the watch recorded nothing")
	}
	for _, m := range sf.Matches {
		if strings.HasPrefix(m.Name, "cgroup_cpu_throttled_") {
			return
		}
	}
	machine.Fail(t, analyze.LagLimit, "the cgroup's throttling is not named: %s", sf.Text)
}
