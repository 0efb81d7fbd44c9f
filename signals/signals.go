// Package signals reads a server's signals during a run — its Prometheus
// endpoint (Scraper), a process on the same host (Watcher), the
// generator's own health (any Source) — each from its own goroutine, every
// interval, and hands each reading on as a result.Scrape carrying only what
// changed: the series first seen and the values that moved, counters as
// increases. Readings never wait on the load and the load never waits on
// them; a failed or slow reading is recorded with its reason and the next
// one is taken on time.
package signals

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/surge-dev/surge/result"
)

// Defaults of Config.
const (
	// DefaultInterval is how often each source is read.
	DefaultInterval = time.Second
	// DefaultMaxSeries bounds the series kept of one source, so that an
	// endpoint exposing a million series keeps memory flat.
	DefaultMaxSeries = 10000
)

// Config says how often the sources of a run are read. Its zero value is
// the defaults.
type Config struct {
	// Interval is the time between the starts of a source's readings
	// (DefaultInterval when 0). A reading slower than the interval delays
	// only that source's next one.
	Interval time.Duration
	// Timeout bounds one reading (when 0, four fifths of Interval): a
	// reading that takes longer is recorded as failed, so a slow
	// endpoint shows as slow instead of shifting its readings in time.
	Timeout time.Duration
	// MaxSeries bounds the series of one source (DefaultMaxSeries when
	// 0). Series beyond it are left out, and counted and named in one
	// note.
	MaxSeries int
}

// Validate reports a bad Config: a negative interval, timeout or bound.
func (c Config) Validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("scrape interval %v: expected a positive duration", c.Interval)
	case c.Interval > 0 && c.Interval < 10*time.Millisecond:
		return fmt.Errorf("scrape interval %v: expected at least 10ms", c.Interval)
	case c.Timeout < 0:
		return fmt.Errorf("scrape timeout %v: expected a positive duration", c.Timeout)
	case c.MaxSeries < 0:
		return fmt.Errorf("max series %d: expected a positive number", c.MaxSeries)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = c.Interval * 4 / 5
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = DefaultMaxSeries
	}
	return c
}

// A Source is one thing read during a run.
type Source interface {
	// Name is the source as recorded (Series.Source), its secrets
	// redacted.
	Name() string
	// Read takes one reading, adding each of its samples to r, and
	// returns why it failed, if it did: then nothing it added is kept.
	// Read is called from one goroutine at a time.
	Read(ctx context.Context, r *Reading) error
}

// Output takes what the sources read. Its methods are called from one
// goroutine at a time.
type Output interface {
	// Scrape takes one reading; s is only valid during the call.
	Scrape(s *result.Scrape)
	// Note takes a remark on a source at an offset of the run, such as
	// the series left out over Config.MaxSeries.
	Note(at time.Duration, msg string)
}

// Run is the reading of a run's sources, started by Start.
type Run struct {
	cfg    Config
	origin time.Time
	out    Output
	mem    *Memory
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Memory is what the readings of sources remember: each source's series,
// by its Name, with their IDs and last values, and the next ID. Runs that
// write one results file one after another (capacity trials) share one,
// so that a series keeps its ID and a counter's first increase in a run
// counts from the last reading of the run before.
type Memory struct {
	mu     sync.Mutex // serializes deliveries and the IDs they assign
	nextID uint32
	tables map[string]*table
}

// table returns the table of source name, made with bound max.
func (m *Memory) table(name string, max int) *table {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tables == nil {
		m.tables = map[string]*table{}
	}
	t := m.tables[name]
	if t == nil {
		t = newTable(name, max)
		m.tables[name] = t
	}
	return t
}

// Start starts reading each source every cfg.Interval, the first reading
// at once, and handing the readings to out, their offsets (Scrape.At)
// taken from origin, the run's offset 0 on the monotonic clock. mem, when
// not nil, is what earlier runs of the same file read (see Memory).
// Sources of the same Name are read once.
func Start(cfg Config, origin time.Time, sources []Source, out Output, mem *Memory) *Run {
	cfg = cfg.withDefaults()
	if mem == nil {
		mem = &Memory{}
	}
	r := &Run{cfg: cfg, origin: origin, out: out, mem: mem, stop: make(chan struct{})}
	seen := map[string]bool{}
	for _, s := range sources {
		if seen[s.Name()] {
			continue
		}
		seen[s.Name()] = true
		r.wg.Add(1)
		go r.loop(s, mem.table(s.Name(), cfg.MaxSeries))
	}
	return r
}

// Stop ends the readings: each source takes one last reading, at once (or
// when the one under way ends), and Stop returns when all have been handed
// on. Nothing reaches the Output after Stop returns.
func (r *Run) Stop() {
	close(r.stop)
	r.wg.Wait()
}

func (r *Run) loop(s Source, t *table) {
	defer r.wg.Done()
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for {
		r.read(s, t)
		select {
		case <-r.stop:
			r.read(s, t)
			return
		case <-tick.C:
		}
	}
}

// read takes one reading of s and hands it on.
func (r *Run) read(s Source, t *table) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	rd := Reading{t: t}
	t.begin()
	err := s.Read(ctx, &rd)
	took := time.Since(start)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	cancel()
	sc := &result.Scrape{At: start.Sub(r.origin), Took: took, Source: t.source}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %v: %w", r.cfg.Timeout, err)
		}
		t.abort()
		sc.Err = err.Error()
	} else {
		t.commit(sc)
		for _, f := range rd.commits {
			f()
		}
	}
	r.mem.mu.Lock()
	defer r.mem.mu.Unlock()
	for i := range sc.New {
		r.mem.nextID++
		sc.New[i].ID = r.mem.nextID
		t.fresh[i].id = r.mem.nextID
	}
	t.fresh = t.fresh[:0]
	r.out.Scrape(sc)
	if msg := t.note(); msg != "" {
		r.out.Note(sc.At, msg)
	}
}
