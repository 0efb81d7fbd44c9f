package signals

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/surge-dev/surge/result"
)

// collect is an Output that keeps copies of what it is handed, and checks
// that it is never called from two goroutines at once.
type collect struct {
	mu      sync.Mutex
	busy    bool
	scrapes []result.Scrape
	notes   []string
	overlap bool
}

func (c *collect) enter() {
	c.mu.Lock()
	if c.busy {
		c.overlap = true
	}
	c.busy = true
	c.mu.Unlock()
}

func (c *collect) leave() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
}

func (c *collect) Scrape(s *result.Scrape) {
	c.enter()
	defer c.leave()
	cp := *s
	cp.New = append([]result.Series(nil), s.New...)
	cp.Values = append([]result.SignalValue(nil), s.Values...)
	c.mu.Lock()
	c.scrapes = append(c.scrapes, cp)
	c.mu.Unlock()
}

func (c *collect) Note(_ time.Duration, msg string) {
	c.mu.Lock()
	c.notes = append(c.notes, msg)
	c.mu.Unlock()
}

// fixed is a Source whose readings are given in turn.
type fixed struct {
	name  string
	reads []func(r *Reading) error
	i     int
}

func (f *fixed) Name() string { return f.name }
func (f *fixed) Read(_ context.Context, r *Reading) error {
	if f.i >= len(f.reads) {
		return errors.New("no more readings")
	}
	f.i++
	return f.reads[f.i-1](r)
}

// readAll takes one reading of each of src's readings through a table,
// as a Run does, and returns the Scrapes delivered.
func readAll(t *testing.T, src Source, n int, max int) ([]result.Scrape, []string) {
	t.Helper()
	out := &collect{}
	r := &Run{cfg: Config{MaxSeries: max, Timeout: time.Minute}.withDefaults(), origin: time.Now(), out: out, mem: &Memory{}}
	tb := newTable(src.Name(), r.cfg.MaxSeries)
	for range n {
		r.read(src, tb)
	}
	return out.scrapes, out.notes
}

func TestDiff(t *testing.T) {
	src := &fixed{name: "s", reads: []func(*Reading) error{
		func(r *Reading) error {
			r.Counter("c_total", "", 10)
			r.Gauge("g", `{a="1"}`, 5)
			return nil
		},
		func(r *Reading) error { // the counter grew, the gauge stayed
			r.Counter("c_total", "", 12.5)
			r.Gauge("g", `{a="1"}`, 5)
			r.Gauge("h", "", 1)
			return nil
		},
		func(r *Reading) error { // a failed reading changes nothing
			r.Counter("c_total", "", 1000)
			r.Gauge("x", "", 1)
			return errors.New("boom")
		},
		func(r *Reading) error { // counter reset to 3: its new total
			r.Counter("c_total", "", 3)
			r.Gauge("g", `{a="1"}`, 7)
			r.Gauge("g", `{a="1"}`, 8) // a duplicate keeps the first
			return nil
		},
		func(r *Reading) error { // unchanged, and reset to 0: nothing
			r.Counter("c_total", "", 0)
			r.Gauge("g", `{a="1"}`, 7)
			return nil
		},
	}}
	got, _ := readAll(t, src, 5, 0)
	for i := range got {
		got[i].At, got[i].Took = 0, 0
	}
	want := []result.Scrape{
		{Source: "s", New: []result.Series{
			{ID: 1, Source: "s", Name: "c_total", Kind: result.SignalCounter, Initial: 10},
			{ID: 2, Source: "s", Name: "g", Labels: `{a="1"}`, Kind: result.SignalGauge, Initial: 5},
		}, Values: []result.SignalValue{}},
		{Source: "s", New: []result.Series{{ID: 3, Source: "s", Name: "h", Kind: result.SignalGauge, Initial: 1}},
			Values: []result.SignalValue{{ID: 1, V: 2.5}}},
		{Source: "s", Err: "boom"},
		{Source: "s", New: []result.Series{}, Values: []result.SignalValue{{ID: 1, V: 3}, {ID: 2, V: 7}}},
		{Source: "s", New: []result.Series{}, Values: []result.SignalValue{}},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("readings (-want +got):\n%s", d)
	}
}

func TestMaxSeries(t *testing.T) {
	src := &fixed{name: "s", reads: []func(*Reading) error{
		func(r *Reading) error {
			for i := range 5 {
				r.Gauge("g", fmt.Sprintf(`{i="%d"}`, i), 1)
			}
			return nil
		},
		func(r *Reading) error {
			for i := range 6 {
				r.Gauge("g", fmt.Sprintf(`{i="%d"}`, i), 2)
			}
			return nil
		},
	}}
	got, notes := readAll(t, src, 2, 3)
	if len(got[0].New) != 3 || len(got[1].New) != 0 || len(got[1].Values) != 3 {
		t.Errorf("with a bound of 3: %d new, then %d new and %d values; want 3, 0, 3", len(got[0].New), len(got[1].New), len(got[1].Values))
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `2 series over the bound of 3 left out, such as g{i="3"}`) {
		t.Errorf("notes = %q; want one naming the 2 series left out", notes)
	}
}
