// Package run runs one load test — an attack, a scenario run, a capacity
// trial — from a Plan: it builds the engine, fans the run's stream of
// results and markers out to the consumers attached (the results file, the
// live views, a summary), writes the run's own markers (the plan's, and the
// generator's health at the end), and returns the Outcome. It prints nothing:
// commands build plans from flags and print outcomes.
package run

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/signals"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/threshold"
)

// Plan is one load test to run.
type Plan struct {
	// Config configures the engine. Its Marker is set by Do: markers reach
	// the consumers instead.
	Config attack.Config
	// Meta is the header of the run's results; Do fills in Connections and
	// Attrs["client"] once the engine is built. Nil: a header from NewMeta
	// with no command line.
	Meta *result.Meta
	// Markers are handed to every consumer before the engine starts, such
	// as the stage marker of a capacity trial.
	Markers []result.Marker
	// Thresholds are the pass/fail criteria of the run (a scenario's),
	// evaluated by Judge.
	Thresholds []threshold.Threshold
	// ReserveProcs raises GOMAXPROCS, if need be, to one more than the
	// event loops of the Config's HTTPConfig.Loops (at least one): each loop keeps a P
	// while it waits briefly, and one is left for writing the results.
	ReserveProcs bool
	// Scrape are the Prometheus endpoints read beside the run, every
	// ScrapeInterval (signals.DefaultInterval when 0); Watch the
	// processes of this host read from /proc. Their readings reach the
	// consumers that take server signals (result.ScrapeConsumer), on
	// the results' time axis, with the generator's own health.
	Scrape         []string
	ScrapeInterval time.Duration
	Watch          []int
	// SignalMemory, when set, carries the sources' series over from the
	// runs before that wrote the same results file (capacity trials; see
	// signals.Memory). Nil: the run's series are its own.
	SignalMemory *signals.Memory
}

// Outputs says where the stream of a run goes.
type Outputs struct {
	// Results, if set, receives the results file: the header (Plan.Meta),
	// every result and marker, flushed as FlushEvery says, the generator's
	// CPU marker and the end-of-run record. Do does not close Results.
	Results io.Writer
	// Consumers see the whole stream, the generator marker included: a
	// summary for the closing report, a file shared by several runs.
	// A consumer with an Err method (such as a result.Writer) is checked
	// after each batch, and its error stops the run.
	Consumers []result.Consumer
	// Live, if set, starts the live views once the engine is built and the
	// header written. The views see the stream while the engine runs and
	// are stopped, in order, when it ends, before the closing markers. An
	// error ends the run before anything is sent.
	Live func(*Live) ([]View, error)
}

// A View is a live consumer of a run, such as a progress display: Stop
// ends it when the engine has ended.
type View interface {
	result.Consumer
	Stop()
}

// Live is what live views may use of a running test.
type Live struct {
	// Stats are the engine's live counters.
	Stats *attack.Stats
	// Meta is the run's header.
	Meta *result.Meta
	// PeakInFlight is the most requests the engine may have in flight.
	PeakInFlight int
	// Stop ends the run as a cancelled context would (a dashboard's stop
	// button). It may be called more than once.
	Stop func()
}

// Outcome is what a run did.
type Outcome struct {
	// Done counts the results recorded, sent or not.
	Done int64
	// Elapsed is the time from the engine's start to the end of the run.
	Elapsed time.Duration
	// Stats are the engine's final counters.
	Stats *attack.Stats
}

// Do runs p, sending its stream to out, until the plan's schedule ends,
// ctx ends or a consumer fails. A stopped context is not an error; the
// outcome then says how far the run got. Errors of the consumers come
// back wrapped as "write results".
func Do(ctx context.Context, p Plan, out Outputs) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.ReserveProcs {
		h, _ := p.Config.Transport.(attack.HTTPConfig)
		reserveProcs(h.Loops)
	}
	s := &stream{meta: p.Meta, stop: cancel}
	if s.meta == nil {
		s.meta = NewMeta(p.Config, nil)
	}
	a, err := s.engine(p.Config)
	if err != nil {
		return Outcome{}, err
	}
	srcs, h, err := sources(&p, a.Stats())
	if err != nil {
		return Outcome{}, err
	}
	s.health = h
	views, err := s.open(out, &Live{Stats: a.Stats(), Meta: s.meta, PeakInFlight: a.PeakInFlight(), Stop: cancel})
	if err != nil {
		return Outcome{}, err
	}
	for _, mk := range p.Markers {
		s.all.AddMarker(s.meta, mk)
	}
	gauge := startGauge(a.Stats(), a.Connections())
	stopSignals := s.startSignals(&p, a, srcs)
	err = s.all.Err()
	if err == nil {
		err = a.Run(ctx, s.batch)
	}
	// The last readings, at the end, reach the live views too.
	stopSignals()
	if err == nil {
		err = s.err
	}
	for _, v := range views {
		v.Stop()
	}
	health := gauge.end()
	if err == nil {
		// The generator's own figures, for the report's generator-health
		// check: what names its limit when it fell behind.
		s.closing.AddMarker(s.meta, result.Marker{At: time.Since(a.Stats().Started), Kind: result.MarkGenerator, Attrs: health})
		err = s.closing.Err()
	}
	if s.file != nil {
		if cerr := s.file.w.Close(); err == nil {
			err = cerr
		}
	}
	o := Outcome{Done: a.Stats().Done.Load(), Elapsed: time.Since(a.Stats().Started), Stats: a.Stats()}
	if err != nil {
		return o, fmt.Errorf("write results: %w", err)
	}
	return o, nil
}

// engine builds the engine of cfg, its markers sent to the stream, and
// fills in what the header says of it.
func (s *stream) engine(cfg attack.Config) (*attack.Attacker, error) {
	cfg.Marker = s.marker
	a, err := attack.New(cfg)
	if err != nil {
		return nil, err
	}
	m := s.meta
	m.Connections = a.Connections()
	if m.Attrs == nil {
		m.Attrs = map[string]string{}
	}
	m.Attrs["client"] = "net/http"
	if _, ok := cfg.Client.(*attack.FastClient); ok {
		m.Attrs["client"] = "fast HTTP/1.1"
	}
	return a, nil
}

// open writes the results file's header, starts the live views and
// connects the stream to them and to the consumers.
func (s *stream) open(out Outputs, live *Live) ([]View, error) {
	if out.Results != nil {
		f, err := newFile(out.Results, s.meta)
		if err != nil {
			return nil, err
		}
		s.file = f
	}
	var views []View
	if out.Live != nil {
		var err error
		if views, err = out.Live(live); err != nil {
			if s.file != nil {
				// Nothing was sent: the file ends whole and empty, not as
				// a killed writer's.
				_ = s.file.w.Close()
			}
			return nil, err
		}
	}
	s.connect(views, out.Consumers)
	return views, nil
}

// Judge evaluates the plan's thresholds on sm, the summary of the run's
// results, and returns one verdict per threshold (nil without any). The
// check names whose failures check_failures counts come from the headers
// of the runs in sm. Do does not judge by itself: the run command judges
// the summary of the results file read back, the truth, which its report
// shows too; a command that aggregates while it runs passes a summary it
// attached as a consumer.
func (p *Plan) Judge(sm *summary.Summary) []threshold.Verdict {
	if len(p.Thresholds) == 0 {
		return nil
	}
	return threshold.Check(p.Thresholds, threshold.MeasureSummary(sm, threshold.Checks(sm.Runs)))
}

// stream fans a run's results and markers out: to the live views, the
// consumers and the results file while the engine runs (all), and to the
// consumers and the file alone for the closing markers (closing).
type stream struct {
	meta         *result.Meta
	file         *file
	all, closing result.Tee

	// mu serializes the engine's batches and markers with the readings
	// of the server signals, which come from their own goroutines; err
	// is the first error a consumer gave on a reading, which stop ends
	// the run for.
	mu     sync.Mutex
	err    error
	stop   func()
	health *health
}

func (s *stream) connect(views []View, consumers []result.Consumer) {
	for _, v := range views {
		s.all = append(s.all, v)
	}
	s.closing = append(s.closing, consumers...)
	if s.file != nil {
		s.closing = append(s.closing, s.file)
	}
	s.all = append(s.all, s.closing...)
}

// batch is the engine's sink: one call per batch, from one goroutine.
func (s *stream) batch(b []result.Result) error {
	if s.health != nil {
		s.health.fold(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.all.AddBatch(s.meta, b)
	return s.all.Err()
}

// marker is the engine's Config.Marker, called from the sink's goroutine.
func (s *stream) marker(mk result.Marker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.all.AddMarker(s.meta, mk)
	return s.all.Err()
}

// reserveProcs raises GOMAXPROCS to loops+1 (loops at least one) when it
// is lower: see Plan.ReserveProcs.
func reserveProcs(loops int) {
	if loops := max(loops, 1); runtime.GOMAXPROCS(0) <= loops {
		// Each event loop keeps a P while it waits briefly; one more is
		// left for writing the results (with one CPU, the two threads
		// take turns on it).
		runtime.GOMAXPROCS(loops + 1)
	}
}
