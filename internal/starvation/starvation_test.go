package starvation

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestProbeSeesAHog: with one P and a goroutine that spins without
// yielding, the probe's timer can only fire when the runtime preempts the
// spinner (every ~10ms), so its sleeps overrun by milliseconds. Whatever
// else the machine does only adds to that.
func TestProbeSeesAHog(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := Start(time.Millisecond)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for x := 0; !stop.Load(); x++ {
		}
	}()
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	<-done
	r := p.Stop()
	t.Log(r)
	if r.Samples == 0 {
		t.Fatal("the probe recorded no sleep")
	}
	if r.Max < 3*time.Millisecond || !r.Starved(time.Millisecond) {
		t.Errorf("a spinning goroutine on the only P left the probe's worst overrun at %s (p99 %s), want ≥ 3ms", r.Max, r.P99)
	}
	if !strings.Contains(r.String(), "overran by") {
		t.Errorf("report %q", r)
	}
}

// TestFail: a failed claim is an error when the process had its CPU and a
// log line when it was starved.
func TestFail(t *testing.T) {
	var ok, starved, limited fakeT
	Report{P99: time.Millisecond}.Fail(&ok, 10*time.Millisecond, "claim %d", 1)
	Report{P99: 20 * time.Millisecond}.Fail(&starved, 10*time.Millisecond, "claim %d", 2)
	Report{P99: time.Millisecond, Limited: "the generator limited this run"}.Fail(&limited, 10*time.Millisecond, "claim %d", 3)
	for _, c := range []struct {
		name         string
		got          fakeT
		errors, logs int
	}{{"healthy", ok, 1, 0}, {"starved", starved, 0, 1}, {"limited", limited, 0, 1}} {
		if c.got.errors != c.errors || c.got.logs != c.logs {
			t.Errorf("%s: %d errors %d logs, want %d and %d", c.name, c.got.errors, c.got.logs, c.errors, c.logs)
		}
	}
}

type fakeT struct {
	testing.TB
	errors, logs int
}

func (f *fakeT) Helper()             {}
func (f *fakeT) Error(...any)        { f.errors++ }
func (f *fakeT) Logf(string, ...any) { f.logs++ }
