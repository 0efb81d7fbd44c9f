package analyze_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startGunicorn starts Debian's gunicorn on a free loopback port with
// workers sync workers serving testdata/slowwsgi.py, each request sleeping
// ms, and returns its base URL; the test's cleanup stops it by its PID
// (SIGINT, gunicorn's quick shutdown, which stops its workers).
func startGunicorn(t *testing.T, workers, ms int) string {
	t.Helper()
	bin, err := exec.LookPath("gunicorn")
	if err != nil {
		t.Fatalf("gunicorn is not installed (./test.sh installs Debian's gunicorn): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-w", strconv.Itoa(workers), "-k", "sync", "-b", addr, "--chdir", dir,
		"--backlog", "4096", "--graceful-timeout", "1", "--log-level", "warning", "slowwsgi:app")
	cmd.Env = append(os.Environ(), "MS="+strconv.Itoa(ms))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gunicorn: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	// Ready when all its workers answer: one request each at once.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gunicorn did not listen on %s within 15s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr + "/"
}

// gunicornCeiling ramps gunicorn -w workers (each request ms) through and
// past its capacity workers/ms and compares the ceiling with workers.
func gunicornCeiling(t *testing.T, workers, ms int) ceilingOutcome {
	t.Helper()
	url := startGunicorn(t, workers, ms)
	capacity := float64(workers) * 1000 / float64(ms)
	f, machine := ceilingRun(t, url, capacity, false)
	c := f.Labels[0].Ceiling
	if c == nil {
		t.Fatalf("gunicorn -w %d: ceiling not judged at all (nil)", workers)
	}
	t.Logf("gunicorn -w %d, %dms: truth %d at once; estimate %.2f (%.1f/s × %s, %s); %s",
		workers, ms, workers, c.Concurrency, c.Throughput, c.Service, c.ServiceFrom, c.Text)
	return ceilingOutcomeOf(t, fmt.Sprintf("gunicorn -w %d", workers), workers, c, machine)
}

// TestGunicornCeiling: Debian's gunicorn, sync workers (one request each
// at a time, gunicorn's documented model), -w 4 with a 50ms app, ramped
// from half its capacity of 80/s to 1.6× it. Truth: a ceiling of 4. With
// -ceiling.runs N, N passes over -w 1, 2, 4 and 8 (50ms).
func TestGunicornCeiling(t *testing.T) {
	workers := []int{4}
	if *ceilingRuns > 0 {
		workers = nil
		for range *ceilingRuns {
			workers = append(workers, 1, 2, 4, 8)
		}
	}
	var tally [4]int
	for _, w := range workers {
		t.Run(fmt.Sprintf("w=%d", w), func(t *testing.T) { tally[gunicornCeiling(t, w, 50)]++ })
	}
	t.Logf("gunicorn ramps: %d right within 10%%, %d wrong, %d not judged on healthy runs, %d wrong or not judged on starved runs",
		tally[ceilingRight], tally[ceilingWrong], tally[ceilingUnjudged], tally[ceilingStarved])
}
