package result

import "time"

// Server signals: what a run recorded of the server beside its requests —
// the samples of its Prometheus endpoint (-scrape URL) and the figures of a
// watched process (-watch PID) — on the run's own time axis, so that a
// report can put them under the latency of the same seconds.
//
// A source is read again and again during the run; each reading is a
// Scrape. A Scrape carries only what changed since the same source's
// previous reading: the series first seen in it (New), and the values of
// series whose value changed (Values). A series that is not in Values kept
// its value (a gauge) or did not increase (a counter).

// Signal kinds: how a series' values are read.
const (
	// SignalGauge is a value that goes up and down (in-flight requests,
	// heap bytes, busy threads); a SignalValue of a gauge is its new
	// value.
	SignalGauge = "gauge"
	// SignalCounter is a total that only grows (requests served, GC pause
	// seconds, CPU seconds); a SignalValue of a counter is its increase
	// since the source's previous reading, or, after a reset (the total
	// fell), its new total, as Prometheus's rate() counts a reset.
	SignalCounter = "counter"
)

// Series is one signal of one source: a metric sample's name and labels
// from a scrape, or one figure of a watched process.
type Series struct {
	// ID names the series in Scrape.Values. IDs are unique within a run
	// across all its sources, assigned from 1 in order of first sight.
	ID uint32 `json:"id"`
	// Source is where it was read: the scrape URL (secrets redacted), or
	// "pid:1234" for a watched process.
	Source string `json:"source"`
	// Name is the sample's metric name as exposed, suffix included
	// (go_gc_duration_seconds_sum, http_requests_total), or a watched
	// process's figure (process_cpu_user_seconds_total, ...).
	Name string `json:"name"`
	// Labels are the sample's labels in Prometheus text form with names
	// sorted, `{code="200",method="get"}`, or "" when it has none.
	Labels string `json:"labels,omitempty"`
	// Kind is SignalGauge or SignalCounter (a summary's or histogram's
	// _sum, _count and _bucket samples are counters, its quantiles
	// gauges; an untyped sample is a gauge).
	Kind string `json:"kind"`
	// Initial is the value at first sight: a gauge's value, a counter's
	// total.
	Initial float64 `json:"initial"`
}

// SignalValue is one changed value of a Scrape: a gauge's new value or a
// counter's increase (see SignalCounter).
type SignalValue struct {
	ID uint32  `json:"id"`
	V  float64 `json:"v"`
}

// Scrape is one reading of one source.
type Scrape struct {
	// At is when the reading started, as an offset on the run's monotonic
	// clock from its start (Meta.Start), the axis of Result.Intended.
	At time.Duration `json:"at"`
	// Took is the reading's own latency (the HTTP exchange and parse of a
	// scrape, the /proc reads of a watch).
	Took time.Duration `json:"took"`
	// Source is the source read, as in Series.Source.
	Source string `json:"source"`
	// Err is why the reading failed ("" when it did not): a failed or
	// slow scrape is recorded and never stops the run. A failed reading
	// carries no New or Values.
	Err string `json:"err,omitempty"`
	// New are the series first seen in this reading; their values are
	// their Initial and are not repeated in Values.
	New []Series `json:"new,omitempty"`
	// Values are the series of this source whose value changed since its
	// previous reading.
	Values []SignalValue `json:"values,omitempty"`
	// Run is the index, in Reader.Metas, of the run the reading belongs
	// to. Set by the Reader; ignored by the Writer.
	Run int `json:"-"`
}

// A ScrapeConsumer is a Consumer that also takes server signals. The
// stream's rules hold: one goroutine at a time, in stream order (a reading
// comes after the results that completed before it was taken), and s is
// only valid during the call.
type ScrapeConsumer interface {
	Consumer
	AddScrape(m *Meta, s *Scrape)
}

// AddScrape hands s to c when c takes server signals; consumers that do
// not are skipped.
func AddScrape(c Consumer, m *Meta, s *Scrape) {
	if sc, ok := c.(ScrapeConsumer); ok {
		sc.AddScrape(m, s)
	}
}

// AddScrape implements ScrapeConsumer: each consumer that takes server
// signals gets s in turn.
func (t Tee) AddScrape(m *Meta, s *Scrape) {
	for _, c := range t {
		AddScrape(c, m, s)
	}
}

var _ ScrapeConsumer = Tee(nil)
