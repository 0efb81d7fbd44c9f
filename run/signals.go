package run

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/signals"
	"github.com/surge-dev/surge/target"
)

// HealthSource is the Source name of the generator's own health in a
// run's server signals.
const HealthSource = "surge"

// sources builds the signal sources of p: a Scraper per Plan.Scrape URL,
// a Watcher per Plan.Watch PID and, when there is any, the generator's
// own health (see health), so that a report can tell a stall of surge
// from a signal of the server. A bad URL or a PID that is not running is
// an error before anything is sent.
func sources(p *Plan, stats *attack.Stats) ([]signals.Source, *health, error) {
	if len(p.Scrape) == 0 && len(p.Watch) == 0 {
		return nil, nil, nil
	}
	if err := p.signalConfig().Validate(); err != nil {
		return nil, nil, err
	}
	var srcs []signals.Source
	for _, u := range p.Scrape {
		s, err := signals.NewScraper(u, nil, target.RedactURL)
		if err != nil {
			return nil, nil, err
		}
		srcs = append(srcs, s)
	}
	for _, pid := range p.Watch {
		w, err := signals.NewWatcher(pid)
		if err != nil {
			return nil, nil, err
		}
		srcs = append(srcs, w)
	}
	h := &health{stats: stats}
	return append(srcs, h), h, nil
}

func (p *Plan) signalConfig() signals.Config {
	return signals.Config{Interval: p.ScrapeInterval}
}

// CheckSignals reports what is wrong with the plan's server signals —
// a scrape URL, the interval, a watched PID — without starting anything,
// so that a command can refuse them before it sends any load.
func (p *Plan) CheckSignals() error {
	_, _, err := sources(p, &attack.Stats{})
	return err
}

// startSignals starts reading srcs once the engine has fixed its time
// origin, so that each reading's At is on the axis of the results, and
// returns the function that stops them after Run, taking each source's
// last reading.
func (s *stream) startSignals(p *Plan, a *attack.Attacker, srcs []signals.Source) (stop func()) {
	if len(srcs) == 0 {
		return func() {}
	}
	ended := make(chan struct{})
	started := make(chan *signals.Run, 1)
	go func() {
		select {
		case <-a.Begun():
		case <-ended:
			select {
			case <-a.Begun():
			default:
				// The engine never ran: nothing to read beside it.
				started <- nil
				return
			}
		}
		started <- signals.Start(p.signalConfig(), a.Origin(), srcs, s, p.SignalMemory)
	}()
	return func() {
		close(ended)
		if r := <-started; r != nil {
			r.Stop()
		}
	}
}

// Scrape implements signals.Output: a reading goes to every consumer
// that takes server signals, under the lock the engine's batches take, so
// that consumers are called from one goroutine at a time. An error of a
// consumer stops the run at the next batch.
func (s *stream) Scrape(sc *result.Scrape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.all.AddScrape(s.meta, sc)
	if err := s.all.Err(); err != nil {
		s.err = err
		s.stop()
	}
}

// Note implements signals.Output: a note is a marker of the run.
func (s *stream) Note(at time.Duration, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.all.AddMarker(s.meta, result.Marker{At: at, Kind: result.MarkNote, Name: msg})
	if err := s.all.Err(); err != nil {
		s.err = err
		s.stop()
	}
}

// health is the generator's own health as a signal source: its send lag,
// in flight, CPU time and requests it could not send, read on the axis of
// the server's signals.
type health struct {
	stats *attack.Stats
	mu    sync.Mutex
	lag   latency.Coarse // send lag of the results since the last reading (1.6 % buckets: cheap on the sink's path)
}

// Name implements signals.Source.
func (h *health) Name() string { return HealthSource }

// fold records the send lag of b's results, from the engine's sink.
func (h *health) fold(b []result.Result) {
	h.mu.Lock()
	for i := range b {
		if r := &b[i]; r.Flags&result.NotSent == 0 {
			h.lag.Record(r.Sent - r.Intended)
		}
	}
	h.mu.Unlock()
}

// Read implements signals.Source: surge_send_lag_p99_seconds is the
// p99 of the send lag of the results recorded since the previous reading
// (0 when there were none), surge_in_flight the requests in flight now,
// surge_cpu_seconds_total the generator's CPU time, surge_sent_total and
// surge_not_sent_total its requests sent and not sent.
func (h *health) Read(_ context.Context, r *signals.Reading) error {
	h.mu.Lock()
	p99 := h.lag.Quantile(0.99)
	h.lag = latency.Coarse{}
	h.mu.Unlock()
	r.Gauge("surge_send_lag_p99_seconds", "", p99.Seconds())
	r.Gauge("surge_in_flight", "", float64(h.stats.InFlight.Load()))
	r.Counter("surge_sent_total", "", float64(h.stats.Sent.Load()))
	r.Counter("surge_not_sent_total", "", float64(h.stats.NotSent.Load()))
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	r.Counter("surge_cpu_seconds_total", "", time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds())
	return nil
}
