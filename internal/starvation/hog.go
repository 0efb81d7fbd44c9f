package starvation

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// hogEnv, in a process's environment, makes this package's init spin one
// core instead of letting the process go on: the child Hog starts. Its
// value is the longest the child may spin, in seconds, so that a child
// whose parent died without killing it still ends.
const hogEnv = "SURGE_TEST_CPU_HOG"

// HogLimit is the longest a child started by Hog spins when nobody kills
// it, which bounds the cost of a test that crashed before its cleanup ran.
const HogLimit = time.Minute

// sink keeps the hog's arithmetic from being optimised away.
var sink float64

func init() {
	if s := os.Getenv(hogEnv); s != "" {
		secs, err := strconv.Atoi(s)
		if err != nil || secs <= 0 {
			secs = int(HogLimit / time.Second)
		}
		spin(time.Duration(secs) * time.Second)
	}
}

// spin keeps one core busy for d: arithmetic between clock reads, with no
// system call or allocation in the loop.
func spin(d time.Duration) {
	x := 1.0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1 << 16 {
			x = x*1.0000001 + 1e-9
		}
	}
	sink = x
}

// Hog starts a CPU-bound background process for a test: a child of the
// test binary (os.Args[0]) that spins one core until it is stopped, for
// HogLimit at most. It returns the function that stops it, which kills the
// child by its PID and waits for it; the same function is registered with
// t.Cleanup, so a test that never calls it still leaves nothing running,
// and calling it more than once is harmless. Start one per core to load
// them all. A child that cannot be started fails the test.
//
// The child spins in this package's init, before the testing package sees
// its flags or any TestMain runs, so it works in every test binary that
// imports this package; when HogLimit passes it returns and the binary
// runs no test (-test.run=^$) and exits.
func Hog(t testing.TB) (stop func()) {
	t.Helper()
	_, stop = startHog(t)
	return stop
}

// startHog is Hog that also returns the child, for its test.
func startHog(t testing.TB) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), hogEnv+"="+strconv.Itoa(int(HogLimit/time.Second)))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the CPU hog (a child of %s): %v", os.Args[0], err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	return cmd, stop
}
