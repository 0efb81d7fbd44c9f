package attack

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// earlyPacer schedules n ticks gap apart from first on: every worker is
// early for its tick, so the tick wheel is used when gap is below a slot.
type earlyPacer struct {
	first, gap time.Duration
	n          uint64
}

func (p earlyPacer) At(seq uint64) (time.Duration, bool) {
	return p.first + time.Duration(seq)*p.gap, seq < p.n
}

// wheelGoroutines counts the goroutines running a tick wheel.
func wheelGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("(*tickWheel).run("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestTickWheelEndsWithRun: a run on workers whose schedule ends (no
// -duration, no stop) leaves no tick wheel behind. Before, the wheel's
// goroutine waited for a stop that never came, with its timer descriptor,
// one more for each such run in the process.
func TestTickWheelEndsWithRun(t *testing.T) {
	url := fastCannedServer(t)
	before := wheelGoroutines()
	for range 3 {
		cfg := Config{Targets: get(url), Transport: HTTPConfig{NoEventLoop: true}, Connections: 10,
			Pacer: earlyPacer{first: 20 * time.Millisecond, gap: 100 * time.Microsecond, n: 100}}
		c, err := NewFastClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := a.Run(context.Background(), func(rs []result.Result) error {
			for i := range rs {
				if !rs[i].OK() {
					t.Errorf("result %+v failed", rs[i])
				}
			}
			n += len(rs)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != 100 {
			t.Fatalf("%d results, want 100", n)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for wheelGoroutines() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := wheelGoroutines(); n > before {
		t.Errorf("%d tick wheels still running after 3 runs ended, %d before", n, before)
	}
}
