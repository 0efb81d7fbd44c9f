//go:build linux

package proc

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' of its own, as /proc prints it.
	line := "24058 (my (odd) cmd) R 24051 24051 18688 0 -1 4194304 99 0 0 0 250 75 0 0 20 0 7 0 1833007 3133440 356 18446744073709551615 0"
	p, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if p.User != 2500*time.Millisecond || p.System != 750*time.Millisecond || p.Threads != 7 || p.RSS != 356*int64(os.Getpagesize()) {
		t.Errorf("parseStat = %+v; want user 2.5s, system 750ms, 7 threads, 356 pages", p)
	}
	for _, bad := range []string{"", "1 (x) R 1 2 3", "1 (x" + strings.Repeat(" 1", 30), "1 (x) R" + strings.Repeat(" -1", 30)} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) read without an error", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	v, i := parseStatus([]byte("Name:\tx\nThreads:\t3\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n"))
	if v != 120 || i != 7 {
		t.Errorf("parseStatus = %d, %d; want 120, 7", v, i)
	}
}

func TestParseCgroup(t *testing.T) {
	for _, c := range []struct{ in, v1, v2 string }{
		{"9:name=systemd:/\n4:memory:/a\n2:cpuacct:/\n1:cpu:/lim\n0::/\n", "/lim", "/"},
		{"3:cpu,cpuacct:/docker/abc\n", "/docker/abc", ""},
		{"0::/user.slice/app.scope\n", "", "/user.slice/app.scope"},
		{"garbage\n1:cpu:relative\n", "", ""},
	} {
		v1, v2 := parseCgroup([]byte(c.in))
		if v1 != c.v1 || v2 != c.v2 {
			t.Errorf("parseCgroup(%q) = %q, %q; want %q, %q", c.in, v1, v2, c.v1, c.v2)
		}
	}
}

func TestParseCPUStat(t *testing.T) {
	v2 := parseCPUStat([]byte("usage_usec 100\nnr_periods 50\nnr_throttled 12\nthrottled_usec 340000\n"))
	if !v2.OK || v2.Periods != 50 || v2.Throttled != 12 || v2.ThrottledTime != 340*time.Millisecond {
		t.Errorf("v2 cpu.stat: %+v", v2)
	}
	v1 := parseCPUStat([]byte("nr_periods 5\nnr_throttled 2\nthrottled_time 1500000\nnr_bursts 0\n"))
	if !v1.OK || v1.Throttled != 2 || v1.ThrottledTime != 1500*time.Microsecond {
		t.Errorf("v1 cpu.stat: %+v", v1)
	}
	if c := parseCPUStat([]byte("usage_usec 100\n")); c.OK {
		t.Errorf("cpu.stat without nr_throttled read as OK: %+v", c)
	}
}

// TestReadProcess reads a child this test starts, and the error once it
// has exited and been reaped.
func TestReadProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	p, err := ReadProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Threads < 1 || p.FDs < 3 {
		t.Errorf("ReadProcess(sleep) = %+v; want a thread and stdin/out/err", p)
	}
	// Spin long enough for the clock-tick CPU times to show it.
	for end := time.Now().Add(60 * time.Millisecond); time.Now().Before(end); {
	}
	self, err := ReadProcess(os.Getpid())
	if err != nil || self.User+self.System <= 0 || self.RSS <= 0 || self.Threads < 2 {
		t.Errorf("ReadProcess(self) = %+v, %v; want some CPU time, resident memory and the runtime's threads", self, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := ReadProcess(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ReadProcess of an exited pid: %v; want ErrNoProcess", err)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("24058 (cat) R 24051 24051 18688 0 -1 4194304 99 0 0 0 1 2 0 0 20 0 1 0 1833007 3133440 356 18446744073709551615 0"))
	f.Add([]byte("1 (a)b) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseStat(b)
		if err == nil && (p.User < 0 || p.System < 0 || p.Threads < 0 || p.RSS < 0) {
			t.Fatalf("parseStat(%q) = %+v: a negative figure", b, p)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("voluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, i := parseStatus(b); v < 0 || i < 0 {
			t.Fatalf("parseStatus(%q) = %d, %d: negative", b, v, i)
		}
	})
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("1:cpu:/lim\n0::/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v1, v2 := parseCgroup(b)
		for _, p := range []string{v1, v2} {
			if p != "" && !strings.HasPrefix(p, "/") {
				t.Fatalf("parseCgroup(%q) = %q: not an absolute path", b, p)
			}
		}
	})
}

func FuzzParseCPUStat(f *testing.F) {
	f.Add([]byte("nr_periods 50\nnr_throttled 12\nthrottled_usec 340000\n"))
	f.Add([]byte("throttled_time 18446744073709551615\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c := parseCPUStat(b); c.ThrottledTime < 0 {
			t.Fatalf("parseCPUStat(%q): negative throttled time %v", b, c.ThrottledTime)
		}
	})
}
