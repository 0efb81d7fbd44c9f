package signals

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// counting is a Source whose one counter counts its readings.
type counting struct {
	name string
	n    atomic.Int64
}

func (c *counting) Name() string { return c.name }
func (c *counting) Read(_ context.Context, r *Reading) error {
	r.Counter("reads_total", "", float64(c.n.Add(1)))
	return nil
}

// TestRunReadsAndStops: sources are read at once, then every interval,
// and once more at Stop; IDs are unique across sources and assigned in
// delivery order; the Output is never called from two goroutines at once.
func TestRunReadsAndStops(t *testing.T) {
	a, b := &counting{name: "a"}, &counting{name: "b"}
	out := &collect{}
	origin := time.Now()
	r := Start(Config{Interval: 20 * time.Millisecond}, origin, []Source{a, b, a}, out, nil)
	time.Sleep(110 * time.Millisecond)
	stopAt := time.Since(origin)
	r.Stop()
	n := len(out.scrapes)
	time.Sleep(50 * time.Millisecond)
	if len(out.scrapes) != n {
		t.Errorf("%d readings after Stop returned", len(out.scrapes)-n)
	}
	if out.overlap {
		t.Error("the Output was called from two goroutines at once")
	}
	var next uint32
	last := map[string]time.Duration{}
	for _, s := range out.scrapes {
		for _, se := range s.New {
			next++
			if se.ID != next {
				t.Errorf("series %+v: ID %d, want %d (in delivery order)", se, se.ID, next)
			}
		}
		if s.At < last[s.Source] {
			t.Errorf("reading of %s at %v after one at %v", s.Source, s.At, last[s.Source])
		}
		last[s.Source] = s.At
	}
	if next != 2 {
		t.Errorf("%d series, want 2 (one per source)", next)
	}
	for _, src := range []*counting{a, b} {
		// At least the first, the last, and some between; timers on a
		// busy machine may skip ticks, never add them.
		if got := src.n.Load(); got < 3 || got > 8 {
			t.Errorf("source %s read %d times in 110ms at 20ms; want 3 to 8", src.name, got)
		}
		if l := last[src.name]; l < stopAt-time.Millisecond {
			t.Errorf("source %s's last reading at %v, before Stop at %v", src.name, l, stopAt)
		}
	}
}

// TestWatcher watches a child that exits mid-run: readings before carry
// the process's figures, readings after carry an error.
func TestWatcher(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	w, err := NewWatcher(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	out := &collect{}
	r := &Run{cfg: Config{}.withDefaults(), origin: time.Now(), out: out, mem: &Memory{}}
	tb := newTable(w.Name(), 100)
	r.read(w, tb)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	r.read(w, tb)
	first, gone := out.scrapes[0], out.scrapes[1]
	names := map[string]string{}
	for _, s := range first.New {
		names[s.Name] = s.Kind
	}
	for n, kind := range map[string]string{
		"process_cpu_user_seconds_total": result.SignalCounter, "process_cpu_system_seconds_total": result.SignalCounter,
		"process_resident_memory_bytes": result.SignalGauge, "process_threads": result.SignalGauge, "process_open_fds": result.SignalGauge,
		"process_context_switches_voluntary_total": result.SignalCounter, "process_context_switches_involuntary_total": result.SignalCounter,
	} {
		if names[n] != kind {
			t.Errorf("series %s: kind %q, want %q (got %v)", n, names[n], kind, names)
		}
	}
	if first.Source != "pid:"+itoa(cmd.Process.Pid) || first.Err != "" {
		t.Errorf("first reading: %+v", first)
	}
	if !strings.Contains(gone.Err, "is gone") || len(gone.New)+len(gone.Values) != 0 {
		t.Errorf("reading after exit: %+v; want an error and nothing else", gone)
	}
	if _, err := NewWatcher(cmd.Process.Pid); err == nil {
		t.Error("NewWatcher took an exited process")
	}
	if _, err := NewWatcher(-3); err == nil {
		t.Error("NewWatcher took pid -3")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
